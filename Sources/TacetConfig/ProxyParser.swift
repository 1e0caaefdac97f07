/// `proxy: { upstream | to, on_client_fin, probe_status, probe_max }`.
enum ProxyParser {
    static func parse(_ node: ConfigNode, context: ParseContext) throws(ConfigError) -> ProxyConfig {
        let map = try node.mapping(allowedKeys: ["upstream", "to", "on_client_fin", "probe_status", "probe_max", "strip_prefix", "intercept"])
        var proxy: ProxyConfig
        if let to = map["to"], map["upstream"] == nil, let text = try? to.string(), text.lowercased().hasPrefix("https://") {
            // The one-server shorthand over TLS: verified, the host is the name to check.
            let address = try to.backendAddress(String(text.dropFirst("https://".count)))
            proxy = ProxyConfig(target: .address(address))
            proxy.toTLS = UpstreamTLSConfig(serverName: address.host, line: to.line)
        } else {
            proxy = ProxyConfig(target: try node.proxyTarget(map, context))
        }
        if let policy = map["on_client_fin"] {
            let text = try policy.string()
            guard let value = ClientFINPolicy(rawValue: text) else {
                let names = ClientFINPolicy.allCases.map(\.rawValue).joined(separator: ", ")
                throw policy.error("unknown policy '\(text)' (expected one of: \(names))")
            }
            proxy.onClientFIN = value
        }
        if let status = map["probe_status"] {
            // 101 would switch protocols: it is a final answer in disguise, not an interim one.
            let value = try status.integer(in: 100...199, what: "an interim (1xx) status code")
            guard value != 101 else { throw status.error("101 switches protocols; use another 1xx (e.g. 103)") }
            proxy.probeStatus = value
        }
        if let strip = map["strip_prefix"] {
            let text = try strip.nonEmptyString()
            guard text.hasPrefix("/"), text.count > 1, !text.contains("?"), !text.contains(" ") else {
                throw strip.error("strip_prefix is a path prefix such as /api, not '\(text)'")
            }
            proxy.stripPrefix = text.hasSuffix("/") ? String(text.dropLast()) : text
        }
        if let flag = map["intercept"] { proxy.intercept = try flag.flag("intercept") }
        if let max = map["probe_max"] {
            proxy.probeMax = try max.integer(in: 1...100, what: "a number of interim responses")
        }
        return proxy
    }
}
