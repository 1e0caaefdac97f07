/// A route's `cors:`: which browser origins may read its responses (the Fetch standard's CORS
/// protocol). Tacet answers the preflight itself and adds the response fields, so an app behind
/// it needs no CORS code, and a mistake (a reflected Origin, `*` with credentials) cannot be made.
public struct CORSConfig: Sendable, Equatable {
    /// Serialised origins (`https://example.com`, lowercased, no trailing slash), `https://*.example.com`
    /// for any subdomain, or `*` (any origin, only without credentials).
    public var origins: [String]
    public var methods: [String] = ["GET", "HEAD", "POST"]
    /// Request fields a preflight may ask for, as written.
    public var headers: [String] = []
    /// Response fields the page's script may read beyond the safelisted ones.
    public var expose: [String] = []
    public var credentials = false
    /// Seconds a browser may cache a preflight's answer; nil: not said (browsers use 5 s).
    public var maxAge: Int?

    public init(origins: [String]) {
        self.origins = origins
    }
}

enum CORSParser {
    static func parse(_ node: ConfigNode) throws(ConfigError) -> CORSConfig {
        let map = try node.mapping(allowedKeys: ["origins", "methods", "headers", "expose", "credentials", "max_age"])
        let originsNode = try map.required("origins")
        var config = CORSConfig(origins: try list(originsNode) { item throws(ConfigError) in try origin(item) })
        if let node = map["methods"] { config.methods = try list(node) { item throws(ConfigError) in try token(item) } }
        if let node = map["headers"] { config.headers = try list(node) { item throws(ConfigError) in try token(item) } }
        if let node = map["expose"] { config.expose = try list(node) { item throws(ConfigError) in try token(item) } }
        if let node = map["credentials"] { config.credentials = try node.flag("credentials") }
        if let node = map["max_age"] { config.maxAge = try node.integer(in: 0...86_400, what: "seconds") }
        if config.credentials, config.origins.contains("*") {
            throw originsNode.error("'*' cannot go with credentials: true (browsers refuse it); list the origins")
        }
        return config
    }

    private static func list(_ node: ConfigNode, _ item: (ConfigNode) throws(ConfigError) -> String) throws(ConfigError) -> [String] {
        let items = try node.sequence()
        guard !items.isEmpty else { throw node.error("must list at least one value") }
        var values: [String] = []
        for entry in items {
            let value = try item(entry)
            guard !values.contains(where: { $0.lowercased() == value.lowercased() }) else { throw entry.error("'\(value)' is listed twice") }
            values.append(value)
        }
        return values
    }

    private static func token(_ node: ConfigNode) throws(ConfigError) -> String {
        let text = try node.nonEmptyString()
        guard text.unicodeScalars.allSatisfy(FixedResponseParser.isTokenCharacter) else {
            throw node.error("'\(text)' is not a method or field name")
        }
        return text
    }

    /// `scheme://host[:port]` as browsers serialise an Origin (RFC 6454): lowercased, no path.
    private static func origin(_ node: ConfigNode) throws(ConfigError) -> String {
        let text = try node.nonEmptyString().lowercased()
        if text == "*" { return text }
        let trimmed = text.hasSuffix("/") ? String(text.dropLast()) : text
        guard let schemeEnd = trimmed.range(of: "://"), ["http", "https"].contains(trimmed[..<schemeEnd.lowerBound]) else {
            throw node.error("'\(text)' is not an origin: expected http(s)://host[:port], or *")
        }
        let authority = trimmed[schemeEnd.upperBound...]
        var host = authority
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            let port = authority[authority.index(after: colon)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isNumber), let value = Int(port), value <= 65535 else {
                throw node.error("'\(text)': the port must be a number in 0...65535")
            }
            host = authority[..<colon]
        }
        let name = host.hasPrefix("*.") ? host.dropFirst(2) : host
        let isLiteral = name.hasPrefix("[") && name.hasSuffix("]") && ListenAddress.isIPv6(name.dropFirst().dropLast())
        guard isLiteral || ListenAddress.isHostName(Substring(name)) else {
            throw node.error("'\(text)' is not an origin: expected http(s)://host[:port], or *")
        }
        return trimmed
    }
}
