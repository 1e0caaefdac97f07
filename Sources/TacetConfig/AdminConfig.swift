/// The admin listener (`admin: { listen: "127.0.0.1:9901" }`): `GET /metrics` in Prometheus
/// text format and `GET /health`. Separate from the public listeners, like Envoy's admin port
/// or nginx's stub_status location, so it can stay on loopback or a private interface.
public struct AdminConfig: Sendable, Equatable {
    public var listen: ListenAddress

    public init(listen: ListenAddress) {
        self.listen = listen
    }
}

/// Reads `admin:`: a mapping with `listen` (required).
struct AdminParser {
    func admin(_ node: ConfigNode) throws(ConfigError) -> AdminConfig {
        let map = try node.mapping(allowedKeys: ["listen"])
        let listenNode = try map.required("listen")
        let text = try listenNode.nonEmptyString()
        do {
            return AdminConfig(listen: try ListenAddress(parsing: text))
        } catch {
            throw listenNode.error(error.description)
        }
    }
}
