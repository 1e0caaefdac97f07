/// `acme:`: certificates from an ACME CA (RFC 8555) for the names TLS listeners list under
/// `tls: { acme: [...] }`: which CA, the account's contact, where keys and certificates are
/// kept, which challenges may be answered.
public struct ACMEConfig: Sendable, Equatable {
    public enum Challenge: String, Sendable, Equatable, CaseIterable {
        case http01 = "http-01"
        case tlsALPN01 = "tls-alpn-01"
    }

    public struct ExternalAccount: Sendable, Equatable {
        public var keyID: String
        /// The MAC key as the CA gave it: base64url.
        public var hmac: String
    }

    public static let letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"
    public static let defaultStorage = "/var/lib/tacet/acme"

    public var email: String?
    public var directory: String = Self.letsEncrypt
    /// Absolute path of a PEM bundle trusted for the CA's own HTTPS (a private CA); nil: the system's store.
    public var ca: String?
    public var storage: String = Self.defaultStorage
    /// In the order tried, where a CA offers several for a name.
    public var challenges: [Challenge] = [.tlsALPN01, .http01]
    public var externalAccount: ExternalAccount?
    public var line: Int

    public init(line: Int = 0) {
        self.line = line
    }
}

enum ACMEParser {
    static func parse(_ node: ConfigNode, context: ParseContext) throws(ConfigError) -> ACMEConfig {
        let map = try node.mapping(allowedKeys: ["email", "directory", "ca", "storage", "challenges", "external_account"])
        var config = ACMEConfig(line: node.line)
        if let email = map["email"] {
            let text = try email.nonEmptyString()
            let parts = text.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, ListenAddress.isHostName(parts[1]),
                  text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "," && $0 != "<" && $0 != ">" }) else {
                throw email.error("'\(text)' is not an email address")
            }
            config.email = text
        }
        if let directory = map["directory"] {
            let text = try directory.nonEmptyString()
            guard text.hasPrefix("https://"), text.count > 8, !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7F }) else {
                throw directory.error("must be an https:// URL (the CA's ACME directory), not '\(text)'")
            }
            config.directory = text
        }
        if let ca = map["ca"] { config.ca = context.resolve(try ca.nonEmptyString()) }
        if let storage = map["storage"] { config.storage = context.resolve(try storage.nonEmptyString()) }
        if let list = map["challenges"] {
            var challenges: [ACMEConfig.Challenge] = []
            for item in try list.sequence() {
                let text = try item.string()
                guard let challenge = ACMEConfig.Challenge(rawValue: text) else {
                    throw item.error("unknown challenge '\(text)': Tacet answers \(ACMEConfig.Challenge.allCases.map(\.rawValue).joined(separator: " and "))")
                }
                guard !challenges.contains(challenge) else { throw item.error("'\(text)' is listed twice") }
                challenges.append(challenge)
            }
            guard !challenges.isEmpty else { throw list.error("must list at least one challenge") }
            config.challenges = challenges
        }
        if let eab = map["external_account"] {
            let pair = try eab.mapping(allowedKeys: ["key_id", "hmac"])
            let keyID = try pair.required("key_id").nonEmptyString()
            let hmacNode = try pair.required("hmac")
            let hmac = try hmacNode.nonEmptyString()
            guard hmac.utf8.allSatisfy({ b in
                (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: "=")
            }) else {
                throw hmacNode.error("must be the base64url MAC key the CA gave")
            }
            config.externalAccount = .init(keyID: keyID, hmac: hmac)
        }
        return config
    }

    /// A listener's `tls: { acme: [names] }`: DNS names one certificate each; no wildcards
    /// (they need dns-01, which Tacet does not answer), no IP addresses.
    static func names(_ node: ConfigNode) throws(ConfigError) -> [String] {
        let items = try node.sequence()
        guard !items.isEmpty else { throw node.error("must list at least one name") }
        var names: [String] = []
        for item in items {
            let name = try HostNameParser.pattern(item)
            if name.hasPrefix("*.") { throw item.error("'\(name)': a wildcard needs the dns-01 challenge, which Tacet does not answer") }
            if name.hasPrefix("[") || name.allSatisfy({ $0 == "." || $0.isNumber }) {
                throw item.error("'\(name)': ACME certificates here are for DNS names, not addresses")
            }
            guard !names.contains(name) else { throw item.error("'\(name)' is listed twice") }
            names.append(name)
        }
        return names
    }
}
