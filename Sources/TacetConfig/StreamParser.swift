/// Reads one `streams:` entry: `{ listen, to | upstream, half_close_timeout, connect_timeout, tls,
/// proxy_protocol, send_proxy_protocol }`.
struct StreamParser {
    let context: ParseContext
    /// Already parsed, so a stream without its own `connect_timeout` can take its upstream's.
    let upstreams: [UpstreamConfig]

    func stream(_ node: ConfigNode) throws(ConfigError) -> StreamConfig {
        let map = try node.mapping(allowedKeys: ["listen", "to", "upstream", "half_close_timeout", "connect_timeout", "tls", "proxy_protocol", "send_proxy_protocol"])
        let listenNode = try map.required("listen")
        let listenText = try listenNode.nonEmptyString()
        let listen: ListenAddress
        do {
            listen = try ListenAddress(parsing: listenText)
        } catch {
            throw listenNode.error(error.description)
        }
        let target = try node.proxyTarget(map, context)
        var stream = StreamConfig(listen: listen, target: target, line: node.line)
        if let tls = map["tls"] {
            stream.tls = try TLSParser(context: context).tls(tls)
            if stream.tls?.acmeNames.isEmpty == false {
                throw tls.error("acme certificates are for HTTP listeners (listen:); a stream takes certificates: files")
            }
        }
        if let flag = map["proxy_protocol"] {
            stream.proxyProtocol = try flag.flag("proxy_protocol")
        }
        if let send = map["send_proxy_protocol"] {
            let text = try send.string()
            guard ["v1", "v2"].contains(text) else { throw send.error("send_proxy_protocol is v1 or v2, not '\(text)'") }
            stream.sendProxyProtocol = text
        }
        if let timeout = map["half_close_timeout"] {
            stream.halfCloseTimeout = try timeout.duration()
        }
        if let timeout = map["connect_timeout"] {
            stream.connectTimeout = try timeout.duration()
        } else if case .upstream(let name) = target, let upstream = upstreams.first(where: { $0.name == name }) {
            stream.connectTimeout = upstream.connectTimeout
        }
        return stream
    }
}
