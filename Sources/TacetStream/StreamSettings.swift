import NIOCore
import TacetProxyProtocol
import TacetTunnel
import TacetUpstream

/// What one stream listener needs, as plain values (TacetServer builds it from the config).
public struct StreamSettings: Sendable {
    public var host: String
    public var port: Int
    /// Where connections go; a fixed `to:` address is a group of one.
    public var group: UpstreamGroup
    public var connectTimeout: TimeAmount
    /// After the first FIN, how long the other direction may stay open.
    public var halfCloseTimeout: TimeAmount
    /// Told of each stream's end and bytes (metrics); nothing by default.
    public var observer: any StreamObserver
    /// What each client connection gets before the glue (TLS termination); nil: plain TCP.
    public var prelude: (any ConnectionPrelude)?
    /// `send_proxy_protocol`: a PROXY header with the client's address first on every upstream
    /// connection (for an upstream that reads it: another Tacet, HAProxy, nginx, PostgreSQL behind
    /// a pooler...); nil: none.
    public var sendProxyProtocol: ProxyHeaderEncoder.Version?

    public init(host: String, port: Int, group: UpstreamGroup, connectTimeout: TimeAmount = .seconds(5),
                halfCloseTimeout: TimeAmount = .seconds(60), observer: any StreamObserver = NoStreamObserver()) {
        self.host = host
        self.port = port
        self.group = group
        self.connectTimeout = connectTimeout
        self.halfCloseTimeout = halfCloseTimeout
        self.observer = observer
    }

    /// The listen address as logs and metrics name it, e.g. `127.0.0.1:15432`, `[::1]:15432`.
    public var listenDescription: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// A group for a fixed `to:` address: one server, no passive health (a single server is
    /// never taken out anyway).
    public static func singleServer(host: String, port: Int) -> UpstreamGroup {
        UpstreamGroup(name: "\(host):\(port)", servers: [UpstreamServer(host: host, port: port)],
                      balance: .roundRobin, maxFails: 0, failTimeout: .seconds(10))
    }
}
