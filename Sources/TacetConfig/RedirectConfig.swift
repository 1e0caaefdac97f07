/// `redirect: { to: "https://example.com{uri}", status: 308 }`: a Location built from the
/// request, checked when the file is read (an unknown variable is an error, not a literal).
public struct RedirectConfig: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case literal(String)
        /// `{host}` (the request's host, lowercased, no port), `{uri}` (path and query as sent),
        /// `{path}`, `{query}` (without `?`), `{client_ip}`.
        case variable(Variable)
    }

    public enum Variable: String, Sendable, Equatable, CaseIterable {
        case host, uri, path, query
        /// `http` or `https`, as the request arrived (the listener's, not what the client claims).
        case scheme
        case clientIP = "client_ip"
        /// The request's X-Request-ID (`request_id: true`).
        case requestID = "request_id"
    }

    public var to: [Part]
    /// 301, 302, 303, 307 or 308 (default 308: the method and body are kept).
    public var status: Int

    public init(to: [Part], status: Int = 308) {
        self.to = to
        self.status = status
    }
}

enum RedirectParser {
    static func parse(_ node: ConfigNode) throws(ConfigError) -> RedirectConfig {
        let map = try node.mapping(allowedKeys: ["to", "status"])
        let toNode = try map.required("to")
        let text = try toNode.nonEmptyString()
        var redirect = RedirectConfig(to: try template(text, toNode))
        if let status = map["status"] {
            let value = try status.integer(in: 300...399, what: "a redirect status")
            guard [301, 302, 303, 307, 308].contains(value) else {
                throw status.error("a redirect status is 301, 302, 303, 307 or 308, not \(value)")
            }
            redirect.status = value
        }
        return redirect
    }

    /// Literal text and `{variable}`s; no control bytes, and no spaces in a redirect target (it
    /// becomes a Location). Header rule values may hold spaces.
    static func template(_ text: String, _ node: ConfigNode, allowSpaces: Bool = false) throws(ConfigError) -> [RedirectConfig.Part] {
        guard allowSpaces || text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw node.error("a redirect target may not contain spaces or control characters")
        }
        var parts: [RedirectConfig.Part] = []
        var literal = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            literal += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { throw node.error("'{' without '}' in '\(text)'") }
            let name = String(rest[rest.index(after: open)..<close])
            guard let variable = RedirectConfig.Variable(rawValue: name) else {
                let known = RedirectConfig.Variable.allCases.map { "{\($0.rawValue)}" }.joined(separator: ", ")
                throw node.error("unknown variable '{\(name)}' (known: \(known))")
            }
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = ""
            parts.append(.variable(variable))
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if literal.contains("}") { throw node.error("'}' without '{' in '\(text)'") }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return parts
    }
}
