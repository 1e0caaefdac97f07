import Foundation
import Logging
import NIOHTTP1

/// What went wrong talking to the CA: its problem document where it sent one.
public enum ACMEError: Error, Sendable, CustomStringConvertible {
    /// The CA refused a request (4xx/5xx with a problem document, or without one).
    case problem(ACMEProblem, url: String)
    /// The CA asks to be left alone until then (429 / 503 with Retry-After beyond what a
    /// request waits): seconds from now.
    case retryLater(seconds: Int, ACMEProblem?)
    /// A response that is not what RFC 8555 says it is.
    case protocolViolation(String)
    /// A challenge or an order that ended `invalid`.
    case invalid(String, ACMEProblem?)

    public var description: String {
        switch self {
        case .problem(let problem, let url): "the CA refused \(url): \(problem)"
        case .retryLater(let seconds, let problem): "the CA asks to retry in \(seconds) s" + (problem.map { " (\($0))" } ?? "")
        case .protocolViolation(let what): "the CA's answer broke RFC 8555: \(what)"
        case .invalid(let what, let problem): "\(what) is invalid" + (problem.map { ": \($0)" } ?? "")
        }
    }
}

/// An ACME account's conversation with one CA (RFC 8555): the directory, nonces (a fresh one
/// from each answer; `badNonce` retried with the one that came with it), JWS-signed POSTs and
/// POST-as-GETs, Retry-After honoured up to `maxWait` per request, problem documents surfaced.
public actor ACMEClient {
    public let directoryURL: String
    public let key: AccountKey
    private let transport: any ACMETransport
    private let logger: Logger
    private var directory: ACMEDirectory?
    private var nonces: [String] = []
    /// The account's URL (`kid`), once registered or found.
    public private(set) var accountURL: String?
    /// The longest a single request waits on a Retry-After before giving up with `.retryLater`.
    public var maxWait = 60
    static let badNonceRetries = 10

    public init(directoryURL: String, key: AccountKey, transport: any ACMETransport, logger: Logger) {
        self.directoryURL = directoryURL
        self.key = key
        self.transport = transport
        self.logger = logger
    }

    public func loadDirectory() async throws -> ACMEDirectory {
        if let directory { return directory }
        let response = try await transport.send(method: .GET, url: directoryURL, body: nil, contentType: nil)
        guard response.status == 200 else { throw ACMEError.problem(Self.problem(response), url: directoryURL) }
        let loaded: ACMEDirectory = try Self.decode(response, what: "the directory")
        directory = loaded
        return loaded
    }

    private func nonce() async throws -> String {
        if let nonce = nonces.popLast() { return nonce }
        let url = try await loadDirectory().newNonce
        let response = try await transport.send(method: .GET, url: url, body: nil, contentType: nil)
        guard let nonce = response.headers.first(name: "replay-nonce"), !nonce.isEmpty else {
            throw ACMEError.protocolViolation("no Replay-Nonce from newNonce (status \(response.status))")
        }
        return nonce
    }

    /// A signed POST; `payload` nil is POST-as-GET. Retries `badNonce` with a fresh nonce and
    /// waits out a short Retry-After; throws the CA's problem for any other refusal.
    public func post(_ url: String, payload: String?, accept: String? = nil) async throws -> ACMEHTTPResponse {
        var attempts = 0
        while true {
            attempts += 1
            let signer: JWS.Signer = accountURL.map { .kid($0) } ?? .jwk
            let body = try JWS.sign(payload: payload, url: url, nonce: try await nonce(), key: key, signer: signer)
            let response = try await transport.send(method: .POST, url: url, body: body, contentType: "application/jose+json")
            if let fresh = response.headers.first(name: "replay-nonce"), !fresh.isEmpty { nonces.append(fresh) }
            if response.status < 400 { return response }
            let problem = Self.problem(response)
            if problem.code == "badNonce", attempts <= Self.badNonceRetries {
                logger.debug("ACME: badNonce from \(url), retrying with a fresh nonce")
                continue
            }
            if response.status == 429 || response.status == 503 {
                let wait = Self.retryAfter(response) ?? 1
                guard wait <= maxWait, attempts <= 3 else { throw ACMEError.retryLater(seconds: wait, problem) }
                logger.info("ACME: \(url) answered \(response.status), retrying in \(wait) s")
                try await Task.sleep(for: .seconds(wait))
                continue
            }
            throw ACMEError.problem(problem, url: url)
        }
    }

    /// Registers the account, or finds it if this key already has one (RFC 8555 §7.3).
    /// `externalAccount`: the key ID and base64url MAC key a CA that needs EAB gave.
    public func register(email: String?, externalAccount: (keyID: String, hmac: String)? = nil) async throws -> String {
        if let accountURL { return accountURL }
        let directory = try await loadDirectory()
        let binding: (keyID: String, macKey: [UInt8])? = try externalAccount.map { account in
            guard let macKey = Base64URL.decode(account.hmac), !macKey.isEmpty else {
                throw ACMEError.protocolViolation("external_account.hmac is not base64url")
            }
            return (account.keyID, macKey)
        }
        var payload = "{\"termsOfServiceAgreed\":true"
        if let email { payload += ",\"contact\":[\(JWS.json("mailto:\(email)"))]" }
        if let binding {
            payload += ",\"externalAccountBinding\":"
                + JWS.externalAccountBinding(keyID: binding.keyID, macKey: binding.macKey, url: directory.newAccount, key: key)
        }
        payload += "}"
        let response = try await post(directory.newAccount, payload: payload)
        guard response.status == 200 || response.status == 201, let location = response.headers.first(name: "location") else {
            throw ACMEError.protocolViolation("newAccount answered \(response.status) without a Location")
        }
        accountURL = location
        return location
    }

    public func newOrder(_ names: [String]) async throws -> (url: String, order: ACMEOrder) {
        let directory = try await loadDirectory()
        let identifiers = names.map { "{\"type\":\"dns\",\"value\":\(JWS.json($0))}" }.joined(separator: ",")
        let response = try await post(directory.newOrder, payload: "{\"identifiers\":[\(identifiers)]}")
        guard response.status == 201, let location = response.headers.first(name: "location") else {
            throw ACMEError.protocolViolation("newOrder answered \(response.status) without a Location")
        }
        return (location, try Self.decode(response, what: "an order"))
    }

    public func authorization(_ url: String) async throws -> ACMEAuthorization {
        try Self.decode(try await post(url, payload: nil), what: "an authorization")
    }

    public func order(_ url: String) async throws -> ACMEOrder {
        try Self.decode(try await post(url, payload: nil), what: "an order")
    }

    /// Tells the CA the challenge is ready (RFC 8555 §7.5.1).
    public func respond(to challenge: ACMEChallenge) async throws {
        _ = try await post(challenge.url, payload: "{}")
    }

    public func finalize(_ order: ACMEOrder, csr: [UInt8]) async throws -> ACMEOrder {
        let response = try await post(order.finalize, payload: "{\"csr\":\"\(Base64URL.encode(csr))\"}")
        return try Self.decode(response, what: "the finalized order")
    }

    /// The certificate chain, PEM, leaf first.
    public func certificate(_ url: String) async throws -> String {
        let response = try await post(url, payload: nil)
        let pem = String(decoding: response.body, as: UTF8.self)
        guard pem.contains("-----BEGIN CERTIFICATE-----") else {
            throw ACMEError.protocolViolation("the certificate download is not PEM")
        }
        return pem
    }

    /// Seconds the CA asked to wait (Retry-After as delta-seconds; an HTTP-date is taken as 1 s
    /// past now at the least), nil without one.
    static func retryAfter(_ response: ACMEHTTPResponse) -> Int? {
        guard let value = response.headers.first(name: "retry-after") else { return nil }
        if let seconds = Int(value.trimmingCharacters(in: .whitespaces)), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: value) else { return nil }
        return max(1, Int(date.timeIntervalSinceNow.rounded(.up)))
    }

    static func problem(_ response: ACMEHTTPResponse) -> ACMEProblem {
        if let problem = try? JSONDecoder().decode(ACMEProblem.self, from: Data(response.body)) { return problem }
        return ACMEProblem(type: nil, detail: "HTTP \(response.status)", status: response.status)
    }

    static func decode<T: Decodable>(_ response: ACMEHTTPResponse, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch {
            throw ACMEError.protocolViolation("\(what) did not decode: \(error)")
        }
    }
}
