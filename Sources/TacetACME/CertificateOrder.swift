import Crypto
import Logging

/// A certificate obtained: the chain as the CA sent it (PEM, leaf first) and its new key.
public struct IssuedCertificate: Sendable {
    public var names: [String]
    public var chainPEM: String
    public var keyPEM: String
}

/// One order from start to certificate (RFC 8555 §7.4): each pending authorization solved by
/// the first of `solvers` it offers, the CA told, its verdict awaited; then the CSR, the wait
/// for `valid`, and the download. Challenges are withdrawn whatever happens.
public struct CertificateOrder: Sendable {
    public let client: ACMEClient
    public let solvers: [any ChallengeSolver]
    public let logger: Logger
    /// Polls before giving up on an authorization or an order that stays pending.
    public var maxPolls = 60

    public init(client: ACMEClient, solvers: [any ChallengeSolver], logger: Logger) {
        self.client = client
        self.solvers = solvers
        self.logger = logger
    }

    public func obtain(_ names: [String]) async throws -> IssuedCertificate {
        let (orderURL, order) = try await client.newOrder(names)
        for url in order.authorizations {
            try await authorize(url)
        }
        let key = P256.Signing.PrivateKey()
        let csr = try CertificateRequest.der(names: names, key: key)
        let finalized = try await poll(try await client.finalize(try await ready(orderURL, order), csr: csr), what: "the order",
                                       while: { $0.status == "processing" || $0.status == "ready" }) { try await client.order(orderURL) }
        guard finalized.status == "valid", let certificateURL = finalized.certificate else {
            throw ACMEError.invalid("the order for \(names.joined(separator: ", "))", finalized.error)
        }
        let chain = try await client.certificate(certificateURL)
        return IssuedCertificate(names: names, chainPEM: chain, keyPEM: key.pemRepresentation)
    }

    private func authorize(_ url: String) async throws {
        var authorization = try await client.authorization(url)
        let name = authorization.identifier.value
        guard authorization.status != "valid" else { return }
        guard authorization.status == "pending" else {
            throw ACMEError.invalid("the authorization for \(name)", authorization.challenges.compactMap(\.error).first)
        }
        guard let (solver, challenge) = solvers.lazy.compactMap({ solver in
            authorization.challenges.first { $0.type == solver.type }.map { (solver, $0) }
        }).first, let token = challenge.token else {
            throw ACMEError.invalid("\(name): none of the offered challenges (\(authorization.challenges.map(\.type).joined(separator: ", "))) is enabled", nil)
        }
        guard token.utf8.allSatisfy(HTTP01Tokens.isBase64URL), token.utf8.count >= 16 else {
            throw ACMEError.protocolViolation("a challenge token that is not base64url")
        }
        try solver.present(name: name, token: token, keyAuthorization: client.key.keyAuthorization(token: token))
        defer { solver.remove(name: name, token: token) }
        logger.info("ACME: answering \(challenge.type) for \(name)")
        try await client.respond(to: challenge)
        authorization = try await poll(authorization, what: "the authorization for \(name)",
                                       while: { $0.status == "pending" }) { try await client.authorization(url) }
        guard authorization.status == "valid" else {
            let problem = authorization.challenges.first { $0.type == challenge.type }?.error
            throw ACMEError.invalid("the \(challenge.type) challenge for \(name)", problem)
        }
    }

    /// The order once its authorizations are done: `ready` (or already further).
    private func ready(_ url: String, _ order: ACMEOrder) async throws -> ACMEOrder {
        let first = order.status == "pending" ? try await client.order(url) : order
        let current = try await poll(first, what: "the order", while: { $0.status == "pending" }) { try await client.order(url) }
        guard current.status == "ready" else { throw ACMEError.invalid("the order (\(current.status))", current.error) }
        return current
    }

    /// `current` fetched again while `waiting` holds, at most `maxPolls` times; between polls,
    /// quick at first (pebble and most CAs decide in well under a second), then up to 5 s.
    private func poll<T: Sendable>(_ current: T, what: String, while waiting: (T) -> Bool,
                                   _ fetch: () async throws -> T) async throws -> T {
        var current = current
        var polls = 0
        while waiting(current) {
            polls += 1
            guard polls <= maxPolls else { throw ACMEError.protocolViolation("\(what) stayed unfinished after \(maxPolls) polls") }
            try await Task.sleep(for: .milliseconds(min(5000, 100 * (1 << min(polls, 6)))))
            current = try await fetch()
        }
        return current
    }
}
