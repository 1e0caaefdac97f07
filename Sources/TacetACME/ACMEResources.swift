/// The ACME objects Tacet reads (RFC 8555 §7.1), decoded leniently where the RFC lets a server
/// add fields, strictly where Tacet acts on them.
public struct ACMEDirectory: Decodable, Sendable {
    public var newNonce: String
    public var newAccount: String
    public var newOrder: String
    public var renewalInfo: String?
    public var meta: Meta?

    public struct Meta: Decodable, Sendable {
        public var termsOfService: String?
        public var externalAccountRequired: Bool?
    }
}

public struct ACMEIdentifier: Codable, Sendable, Equatable {
    public var type: String
    public var value: String

    public static func dns(_ name: String) -> ACMEIdentifier { ACMEIdentifier(type: "dns", value: name) }
}

public struct ACMEOrder: Decodable, Sendable {
    public var status: String
    public var identifiers: [ACMEIdentifier]
    public var authorizations: [String]
    public var finalize: String
    public var certificate: String?
    public var error: ACMEProblem?
}

public struct ACMEAuthorization: Decodable, Sendable {
    public var status: String
    public var identifier: ACMEIdentifier
    public var challenges: [ACMEChallenge]
    public var wildcard: Bool?
}

public struct ACMEChallenge: Decodable, Sendable {
    public var type: String
    public var url: String
    public var status: String
    public var token: String?
    public var error: ACMEProblem?
}

/// A problem document (RFC 7807, RFC 8555 §6.7): what the CA said went wrong.
public struct ACMEProblem: Decodable, Sendable, Equatable, CustomStringConvertible {
    public var type: String?
    public var detail: String?
    public var status: Int?
    public var subproblems: [ACMEProblem]?

    public init(type: String?, detail: String?, status: Int? = nil) {
        self.type = type
        self.detail = detail
        self.status = status
    }

    /// `badNonce`, `rateLimited`, ...: the part after `urn:ietf:params:acme:error:`.
    public var code: String? {
        guard let type else { return nil }
        let prefix = "urn:ietf:params:acme:error:"
        return type.hasPrefix(prefix) ? String(type.dropFirst(prefix.count)) : type
    }

    public var description: String {
        var text = "\(code ?? "error"): \(detail ?? "(no detail)")"
        for sub in subproblems ?? [] { text += "; \(sub.description)" }
        return text
    }
}
