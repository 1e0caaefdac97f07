/// Reads the top level of the document: flat, all keys optional.
struct DocumentParser {
    let context: ParseContext

    private static let sizeKeys: [(key: String, field: WritableKeyPath<Limits, Int> & Sendable)] = [
        ("max_request_line", \.maxRequestLine),
        ("max_header_size", \.maxHeaderSize),
        ("max_body_size", \.maxBodySize),
    ]
    private static let countKeys: [(key: String, field: WritableKeyPath<Limits, Int> & Sendable)] = [
        ("max_connections", \.maxConnections),
        ("keepalive_requests", \.keepaliveRequests),
    ]
    private static let durationKeys: [(key: String, field: WritableKeyPath<Timeouts, Duration> & Sendable)] = [
        ("header_timeout", \.header),
        ("body_timeout", \.body),
        ("keepalive_timeout", \.keepalive),
        ("send_timeout", \.send),
        ("linger_timeout", \.linger),
        ("linger_total", \.lingerTotal),
        ("shutdown_timeout", \.shutdown),
    ]

    /// Every accepted top-level key, in the order the documentation lists them.
    static var topLevelKeys: [String] {
        ["listen"] + sizeKeys.map(\.key) + countKeys.map(\.key) + durationKeys.map(\.key) + ["access_log", "log_level", "routes", "upstreams", "streams", "admin", "trusted_proxies", "request_id", "limits", "shutdown_delay", "compression", "default_host", "error_pages", "cache", "acme"]
    }

    func configuration(from document: ConfigNode) throws(ConfigError) -> TacetConfiguration {
        let top = try document.mapping(allowedKeys: Self.topLevelKeys)
        var configuration = TacetConfiguration()
        // Upstreams first, whatever their place in the file: routes and streams refer to them.
        var context = self.context
        if let node = top["upstreams"] {
            configuration.upstreams = try UpstreamParser(context: context).upstreams(node)
            context.upstreamNames = Set(configuration.upstreams.map(\.name))
        }
        if let node = top["shutdown_delay"] {
            // 0 (the default) is allowed here: no delay.
            configuration.timeouts.shutdownDelay = (try? node.string()).map { ["0", "0s"].contains($0) } == true ? .zero : try node.duration()
        }
        if let node = top["limits"] {
            let map = try node.mapping(allowedKeys: ["connections_per_client", "requests_per_second_per_client", "burst"])
            if let n = map["connections_per_client"] { configuration.clientLimits.connectionsPerClient = try n.positiveInteger() }
            if let n = map["requests_per_second_per_client"] { configuration.clientLimits.requestsPerSecondPerClient = try n.positiveInteger() }
            if let n = map["burst"] {
                guard map["requests_per_second_per_client"] != nil else {
                    throw n.error("burst goes with requests_per_second_per_client")
                }
                configuration.clientLimits.burst = try n.integer(in: 0...1_000_000, what: "a number of requests")
            }
        }
        if let node = top["compression"] {
            if case .on(let config) = try CompressionParser.parse(node, inherited: nil) {
                configuration.compression = config
                context.compression = config
            }
        }
        if let node = top["request_id"] {
            configuration.requestID = try node.flag("request_id")
            context.requestID = configuration.requestID
        }
        if let node = top["trusted_proxies"] {
            configuration.trustedProxies = try node.sequence().map { (item: ConfigNode) throws(ConfigError) -> String in try item.nonEmptyString() }
            configuration.trustedProxiesLine = node.line
        }
        if let node = top["listen"] {
            configuration.listeners = try listen(node, hasACME: top["acme"] != nil)
            if configuration.trustedProxies.isEmpty, configuration.listeners.contains(where: \.proxyProtocol) {
                throw node.error("proxy_protocol needs trusted_proxies: the peers whose headers are believed")
            }
        } else if top["streams"] != nil {
            // A file with streams and no `listen` is a pure TCP proxy: no HTTP listener.
            configuration.listen = []
        }
        for (key, field) in Self.sizeKeys {
            if let node = top[key] { configuration.limits[keyPath: field] = try node.size() }
        }
        for (key, field) in Self.countKeys {
            if let node = top[key] { configuration.limits[keyPath: field] = try node.positiveInteger() }
        }
        for (key, field) in Self.durationKeys {
            if let node = top[key] { configuration.timeouts[keyPath: field] = try node.duration() }
        }
        if let node = top["access_log"] {
            configuration.accessLog = try accessLog(node)
        }
        if let node = top["log_level"] {
            configuration.logLevel = try node.logLevel()
        }
        if let node = top["error_pages"] {
            configuration.errorPages = try ErrorPagesParser.parse(node, context: context)
        }
        if let node = top["default_host"] {
            configuration.defaultHost = try HostNameParser.name(node)
        }
        if let node = top["cache"] {
            configuration.cacheZones = try CacheParser.zones(node, context: context)
            context.cacheZones = configuration.cacheZones
        }
        if let node = top["routes"] {
            let parser = RouteParser(context: context)
            for item in try node.sequence() {
                configuration.routes.append(try parser.route(item))
            }
        }
        if let node = top["streams"] {
            configuration.streams = try streams(node, context: context, configuration: configuration)
        }
        if let node = top["admin"] {
            configuration.admin = try admin(node, configuration: configuration)
        }
        if let node = top["acme"] {
            configuration.acme = try ACMEParser.parse(node, context: context)
        }
        return configuration
    }

    /// A single address or a non-empty list; each is `HOST:PORT` or `{ address, tls }`. Duplicates
    /// are rejected because binding the same address twice fails at startup with a less helpful
    /// message.
    func listen(_ node: ConfigNode, hasACME: Bool = false) throws(ConfigError) -> [HTTPListenerConfig] {
        let items: [ConfigNode]
        if case .sequence = node.node {
            items = try node.sequence()
            guard !items.isEmpty else { throw node.error("must list at least one address") }
        } else {
            items = [node]
        }
        var listeners: [HTTPListenerConfig] = []
        for item in items {
            var tls: TLSListenerConfig?
            var proxyProtocol = false
            var http2: Bool?
            let addressNode: ConfigNode
            if case .mapping = item.node {
                let map = try item.mapping(allowedKeys: ["address", "tls", "proxy_protocol", "http2"])
                addressNode = try map.required("address")
                if let tlsNode = map["tls"] {
                    tls = try TLSParser(context: context).tls(tlsNode)
                    if tls?.acmeNames.isEmpty == false, !hasACME {
                        throw tlsNode.error("tls.acme needs a top-level acme: block (the CA, the account's email, the storage)")
                    }
                }
                if let flag = map["proxy_protocol"] { proxyProtocol = try flag.flag("proxy_protocol") }
                if let flag = map["http2"] { http2 = try flag.flag("http2") }
            } else {
                addressNode = item
            }
            let text = try addressNode.string()
            let address: ListenAddress
            do {
                address = try ListenAddress(parsing: text)
            } catch {
                throw addressNode.error(error.description)
            }
            guard !listeners.contains(where: { $0.address == address }) else {
                throw addressNode.error("duplicate listen address '\(address)'")
            }
            listeners.append(HTTPListenerConfig(address: address, tls: tls, proxyProtocol: proxyProtocol,
                                                http2: http2 ?? (tls != nil)))
        }
        return listeners
    }

    /// Stream entries; an address bound twice (by two streams, or by a stream and `listen`) is
    /// refused here rather than as a bind failure at startup. Port 0 ("any free port") may repeat.
    private func streams(_ node: ConfigNode, context: ParseContext, configuration: TacetConfiguration) throws(ConfigError) -> [StreamConfig] {
        let parser = StreamParser(context: context, upstreams: configuration.upstreams)
        var streams: [StreamConfig] = []
        for item in try node.sequence() {
            let stream = try parser.stream(item)
            if stream.listen.port != 0,
               streams.contains(where: { $0.listen == stream.listen }) || configuration.listen.contains(stream.listen) {
                throw item.error("address '\(stream.listen)' is already used by another listener")
            }
            if stream.proxyProtocol, configuration.trustedProxies.isEmpty {
                throw item.error("proxy_protocol needs trusted_proxies: the peers whose headers are believed")
            }
            streams.append(stream)
        }
        return streams
    }

    /// The admin listener; its address may not be one a public or stream listener binds.
    private func admin(_ node: ConfigNode, configuration: TacetConfiguration) throws(ConfigError) -> AdminConfig {
        let admin = try AdminParser().admin(node)
        let taken = configuration.listen + configuration.streams.map(\.listen)
        if admin.listen.port != 0, taken.contains(admin.listen) {
            throw node.error("address '\(admin.listen)' is already used by another listener")
        }
        return admin
    }

    /// `off`, `stdout`, a path, or `{ path: ..., format: combined|json }`.
    func accessLog(_ node: ConfigNode) throws(ConfigError) -> AccessLogConfig {
        guard case .mapping = node.node else {
            return AccessLogConfig(destination: try destination(node))
        }
        let map = try node.mapping(allowedKeys: ["path", "format"])
        var config = AccessLogConfig()
        if let path = map["path"] {
            config.destination = try destination(path)
        }
        if let format = map["format"] {
            let text = try format.string()
            guard let value = AccessLogConfig.Format(rawValue: text) else {
                let names = AccessLogConfig.Format.allCases.map(\.rawValue).joined(separator: ", ")
                throw format.error("unknown format '\(text)' (expected one of: \(names))")
            }
            config.format = value
        }
        return config
    }

    private func destination(_ node: ConfigNode) throws(ConfigError) -> AccessLogConfig.Destination {
        switch try node.nonEmptyString() {
        case "off": return .off
        case "stdout": return .stdout
        case let path: return .file(context.resolve(path))
        }
    }
}
