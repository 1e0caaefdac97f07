/// Reads `upstreams:`, a mapping from name to `{ servers, balance, keepalive, timeouts, health }`.
struct UpstreamParser {
    let context: ParseContext

    static let keys = [
        "servers", "balance", "key", "keepalive", "connect_timeout", "read_timeout", "send_timeout",
        "half_close_timeout", "max_fails", "fail_timeout", "health", "tls", "protocol",
    ]
    private static let durationKeys: [(key: String, field: WritableKeyPath<UpstreamConfig, Duration> & Sendable)] = [
        ("connect_timeout", \.connectTimeout),
        ("read_timeout", \.readTimeout),
        ("send_timeout", \.sendTimeout),
        ("half_close_timeout", \.halfCloseTimeout),
        ("fail_timeout", \.failTimeout),
    ]

    func upstreams(_ node: ConfigNode) throws(ConfigError) -> [UpstreamConfig] {
        var result: [UpstreamConfig] = []
        for entry in try node.anyMapping().entries {
            guard !entry.key.isEmpty else { throw entry.keyNode.error("an upstream name must not be empty") }
            if result.contains(where: { $0.name == entry.key }) {
                throw entry.keyNode.error("duplicate upstream '\(entry.key)'")
            }
            result.append(try upstream(name: entry.key, entry.value))
        }
        return result
    }

    private func upstream(name: String, _ node: ConfigNode) throws(ConfigError) -> UpstreamConfig {
        let map = try node.mapping(allowedKeys: Self.keys)
        var config = UpstreamConfig(name: name, servers: try servers(map.required("servers")))
        if let balance = map["balance"] {
            let text = try balance.string()
            guard let value = UpstreamConfig.Balance(rawValue: text) else {
                let names = UpstreamConfig.Balance.allCases.map(\.rawValue).joined(separator: ", ")
                throw balance.error("unknown balance '\(text)' (expected one of: \(names))")
            }
            config.balance = value
        }
        if let key = map["key"] {
            guard config.balance == .consistentHash else { throw key.error("key goes with balance: consistent_hash") }
            config.hashKey = try RedirectParser.template(try key.nonEmptyString(), key)
        }
        if let proto = map["protocol"] {
            let text = try proto.string()
            guard let value = UpstreamConfig.UpstreamProtocol(rawValue: text) else {
                let names = UpstreamConfig.UpstreamProtocol.allCases.map(\.rawValue).joined(separator: ", ")
                throw proto.error("unknown protocol '\(text)' (expected one of: \(names))")
            }
            config.protocol = value
        }
        if let keepalive = map["keepalive"] {
            config.keepalive = try keepalive.integer(in: 0...100_000, what: "a number of connections")
        }
        if let maxFails = map["max_fails"] {
            config.maxFails = try maxFails.integer(in: 0...100_000, what: "a number of failures")
        }
        for (key, field) in Self.durationKeys {
            if let value = map[key] { config[keyPath: field] = try value.duration() }
        }
        if let health = map["health"] {
            config.health = try self.health(health)
        }
        if let tls = map["tls"] {
            config.tls = try TLSParser(context: context).upstreamTLS(tls)
        }
        return config
    }

    /// A non-empty list of `"HOST:PORT"` or `{ address: "HOST:PORT", weight: N }`.
    private func servers(_ node: ConfigNode) throws(ConfigError) -> [UpstreamConfig.Server] {
        let items = try node.sequence()
        guard !items.isEmpty else { throw node.error("must list at least one server") }
        var servers: [UpstreamConfig.Server] = []
        for item in items {
            if case .mapping = item.node {
                let map = try item.mapping(allowedKeys: ["address", "weight"])
                var server = UpstreamConfig.Server(address: try map.required("address").backendAddress())
                if let weight = map["weight"] {
                    server.weight = try weight.integer(in: 1...1000, what: "a weight")
                }
                servers.append(server)
            } else {
                servers.append(UpstreamConfig.Server(address: try item.backendAddress()))
            }
        }
        return servers
    }

    /// `{ path, interval, timeout, expect_status }` or `{ grpc: true, service, interval, timeout }`, each optional.
    private func health(_ node: ConfigNode) throws(ConfigError) -> HealthCheckConfig {
        let map = try node.mapping(allowedKeys: ["path", "interval", "timeout", "expect_status", "grpc", "service"])
        var health = HealthCheckConfig()
        if let grpc = map["grpc"] { health.grpc = try grpc.flag("grpc") }
        if let service = map["service"] {
            guard health.grpc else { throw service.error("is for gRPC checks (grpc: true)") }
            health.service = try service.string()
        }
        if health.grpc, let http = map["path"] ?? map["expect_status"] {
            throw http.error("is for HTTP checks; a gRPC check (grpc: true) asks grpc.health.v1.Health/Check")
        }
        if let pathNode = map["path"] {
            let path = try pathNode.string()
            let isBad: (Unicode.Scalar) -> Bool = { $0.properties.isWhitespace || $0.properties.generalCategory == .control }
            guard path.hasPrefix("/"), !path.unicodeScalars.contains(where: isBad) else {
                throw pathNode.error("must start with '/' and contain no spaces or control characters, got '\(path)'")
            }
            health.path = path
        }
        if let interval = map["interval"] { health.interval = try interval.duration() }
        if let timeout = map["timeout"] { health.timeout = try timeout.duration() }
        if let expect = map["expect_status"] {
            let items: [ConfigNode]
            if case .sequence = expect.node {
                items = try expect.sequence()
                guard !items.isEmpty else { throw expect.error("must list at least one status") }
            } else {
                items = [expect]
            }
            var statuses = Set<Int>()
            for item in items {
                statuses.insert(try item.integer(in: 100...599, what: "an HTTP status code"))
            }
            health.expectStatus = statuses
        }
        return health
    }
}
