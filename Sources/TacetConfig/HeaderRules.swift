/// A route's `headers: { request: { set, remove }, response: { set, remove } }`: fields set
/// (values may use `{host}`, `{uri}`, `{path}`, `{query}`, `{client_ip}`, `{request_id}`) or
/// removed on the request the route's action sees (and an upstream gets) and on the response the
/// client gets. Framing and connection fields cannot be named: the connection owns them.
public struct HeaderRules: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: [RedirectConfig.Part]
        public init(name: String, value: [RedirectConfig.Part]) {
            self.name = name
            self.value = value
        }
    }

    public struct Rule: Sendable, Equatable {
        public var set: [Field] = []
        /// Lowercased names.
        public var remove: [String] = []
        public var isEmpty: Bool { self.set.isEmpty && remove.isEmpty }
        public init(set: [Field] = [], remove: [String] = []) {
            self.set = set
            self.remove = remove
        }
    }

    public var request = Rule()
    public var response = Rule()
    public init(request: Rule = Rule(), response: Rule = Rule()) {
        self.request = request
        self.response = response
    }
}

enum HeaderRulesParser {
    /// Hop-by-hop and framing fields (RFC 9110 §7.6.1, RFC 9112 §6): the connection decides them.
    static let forbidden: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length",
    ]

    static func parse(_ node: ConfigNode, requestID: Bool) throws(ConfigError) -> HeaderRules {
        let map = try node.mapping(allowedKeys: ["request", "response"])
        var rules = HeaderRules()
        if let request = map["request"] { rules.request = try rule(request, requestID: requestID) }
        if let response = map["response"] { rules.response = try rule(response, requestID: requestID) }
        return rules
    }

    private static func rule(_ node: ConfigNode, requestID: Bool) throws(ConfigError) -> HeaderRules.Rule {
        let map = try node.mapping(allowedKeys: ["set", "remove"])
        var rule = HeaderRules.Rule()
        if let set = map["set"] {
            for entry in try set.anyMapping().entries {
                let name = try fieldName(entry.key, entry.keyNode)
                let text = try entry.value.string()
                let isBad: (Unicode.Scalar) -> Bool = { $0 != "\t" && $0.properties.generalCategory == .control }
                guard !text.unicodeScalars.contains(where: isBad) else {
                    throw entry.value.error("must not contain line breaks or control characters")
                }
                let value = try RedirectParser.template(text, entry.value, allowSpaces: true)
                if !requestID, value.contains(.variable(.requestID)) {
                    throw entry.value.error("{request_id} needs request_id: true at the top of the file")
                }
                rule.set.append(HeaderRules.Field(name: name, value: value))
            }
        }
        if let remove = map["remove"] {
            for item in try remove.sequence() {
                rule.remove.append(try fieldName(try item.nonEmptyString(), item).lowercased())
            }
        }
        return rule
    }

    private static func fieldName(_ name: String, _ node: ConfigNode) throws(ConfigError) -> String {
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(FixedResponseParser.isTokenCharacter) else {
            throw node.error("invalid header name '\(name)'")
        }
        if forbidden.contains(name.lowercased()) {
            throw node.error("'\(name)' belongs to the connection (framing, hop by hop) and cannot be set or removed by a rule")
        }
        return name
    }
}
