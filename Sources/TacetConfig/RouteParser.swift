/// Reads one `routes:` entry: a `match` plus exactly one action key.
struct RouteParser {
    let context: ParseContext

    func route(_ node: ConfigNode) throws(ConfigError) -> Route {
        let actionKeys = RouteActionParsers.all.map(\.key)
        let map = try node.mapping(allowedKeys: ["match"] + actionKeys + ["allow", "deny", "headers", "compression", "error_pages", "cors", "auth", "cache"])
        let match = try self.match(map.required("match"))

        let present = map.entries.filter { actionKeys.contains($0.key) }
        guard let first = present.first else {
            throw node.error("missing an action (one of: \(actionKeys.joined(separator: ", ")))")
        }
        if present.count > 1 {
            throw present[1].keyNode.error(
                "a route has exactly one action, but both '\(first.key)' and '\(present[1].key)' are given")
        }
        // `first.key` came from `actionKeys`, so the lookup cannot miss.
        guard let parser = RouteActionParsers.all.first(where: { $0.key == first.key }) else {
            throw first.keyNode.error("unknown action '\(first.key)'")
        }
        var route = Route(match: match, action: try parser.parse(first.value, context), line: node.line)
        if let allow = map["allow"] { route.allow = try networks(allow) }
        if let deny = map["deny"] { route.deny = try networks(deny) }
        if let compression = map["compression"] {
            route.compression = try CompressionParser.parse(compression, inherited: context.compression)
        }
        if let auth = map["auth"] { route.auth = try AuthParser.parse(auth, context: context) }
        if let cors = map["cors"] { route.cors = try CORSParser.parse(cors) }
        if let pages = map["error_pages"] { route.errorPages = try ErrorPagesParser.parse(pages, context: context) }
        if let cache = map["cache"] {
            guard case .proxy = route.action else { throw cache.error("cache: goes on a proxy route (what it stores is an upstream's answers)") }
            route.cache = try CacheParser.route(cache, zones: context.cacheZones)
        }
        if let headers = map["headers"] { route.headers = try HeaderRulesParser.parse(headers, requestID: context.requestID) }
        return route
    }

    /// A non-empty list of addresses or CIDR networks (their syntax is checked when the server
    /// is set up: `ListenerSetup`).
    private func networks(_ node: ConfigNode) throws(ConfigError) -> [String] {
        let items = try node.sequence()
        guard !items.isEmpty else { throw node.error("must list at least one address or network") }
        var result: [String] = []
        for item in items { result.append(try item.nonEmptyString()) }
        return result
    }

    private func match(_ node: ConfigNode) throws(ConfigError) -> RouteMatch {
        let map = try node.mapping(allowedKeys: ["path", "host"])
        guard map["path"] != nil || map["host"] != nil else {
            throw node.error("must give a 'path', a 'host', or both")
        }
        var path = "/"
        if let pathNode = map["path"] {
            path = try pathNode.string()
            guard path.hasPrefix("/") else {
                throw pathNode.error("must start with '/', got '\(path)'")
            }
            let isBad: (Unicode.Scalar) -> Bool = { $0.properties.isWhitespace || $0.properties.generalCategory == .control }
            guard !path.unicodeScalars.contains(where: isBad) else {
                throw pathNode.error("must not contain spaces or control characters")
            }
        }
        var hosts: [String] = []
        if let hostNode = map["host"] {
            let items = hostNode.isSequence ? try hostNode.sequence() : [hostNode]
            guard !items.isEmpty else { throw hostNode.error("must list at least one host") }
            for item in items {
                let host = try HostNameParser.pattern(item)
                if hosts.contains(host) { throw item.error("'\(host)' is listed twice") }
                hosts.append(host)
            }
        }
        return RouteMatch(hosts: hosts, path: path)
    }
}

/// Host names in a config: compared case-insensitively, so stored lowercased, a trailing dot
/// dropped (as a request's is).
enum HostNameParser {
    /// A name, an IP literal, or `*.` and a name (one label or more in front of it). A port is
    /// rejected rather than stripped: routes match on the host only, and silently ignoring
    /// `:8080` would make the file say something the server does not do. IPv6 literals keep
    /// their brackets, as they appear in a Host header.
    static func pattern(_ node: ConfigNode) throws(ConfigError) -> String {
        let written = try node.nonEmptyString().lowercased()
        var host = written
        if host.hasPrefix("["), host.hasSuffix("]"), host.count > 2,
           ListenAddress.isIPv6(host.dropFirst().dropLast()) {
            return host
        }
        if host.contains(":") {
            throw node.error("must be a host name without a port, got '\(host)'")
        }
        if host.count > 1, host.hasSuffix("."), host != "*." { host.removeLast() }
        if host.hasPrefix("*.") {
            guard ListenAddress.isHostName(host.dropFirst(2)) else {
                throw node.error("'\(written)' is not a valid wildcard: '*.' then a host name")
            }
            return host
        }
        if host.contains("*") {
            throw node.error("'\(host)': a wildcard is only '*.' in front of a name, as in '*.example.com'")
        }
        guard ListenAddress.isHostName(Substring(host)) else {
            throw node.error("'\(host)' is not a valid host name")
        }
        return host
    }

    /// A plain name (no wildcard), as `default_host` takes.
    static func name(_ node: ConfigNode) throws(ConfigError) -> String {
        let host = try pattern(node)
        if host.hasPrefix("*") { throw node.error("must be a host name, not a wildcard") }
        return host
    }
}

/// One action key of a route and how to read its value.
struct RouteActionParser: Sendable {
    let key: String
    let parse: @Sendable (ConfigNode, ParseContext) throws(ConfigError) -> RouteAction
}

/// The action kinds a route may use. Adding one (e.g. `proxy`) means a case in `RouteAction`
/// and an entry here; "unknown key" messages pick up the new key automatically.
enum RouteActionParsers {
    static let all: [RouteActionParser] = [
        RouteActionParser(key: "respond") { node, _ throws(ConfigError) in
            .respond(try FixedResponseParser.parse(node))
        },
        RouteActionParser(key: "static") { node, context throws(ConfigError) in
            .staticFiles(try StaticFilesParser.parse(node, context: context))
        },
        RouteActionParser(key: "proxy") { node, context throws(ConfigError) in
            .proxy(try ProxyParser.parse(node, context: context))
        },
        RouteActionParser(key: "redirect") { node, _ throws(ConfigError) in
            .redirect(try RedirectParser.parse(node))
        },
    ]
}
