import NIOCore
import TacetTunnel
import TacetHTTP

/// An upstream as the proxy routes use it: how to pick a server, its timeouts, and one
/// keep-alive pool per event loop, so an upstream connection always lives on the loop of the
/// client connection that uses it (no thread hops, no locks on the hot path).
public final class Upstream: Sendable {
    public struct Settings: Sendable {
        public var connectTimeout: TimeAmount = .seconds(5)
        /// To the first response byte, and between two reads.
        public var readTimeout: TimeAmount = .seconds(60)
        /// How long the upstream may refuse our request bytes (not writable) before 504.
        public var sendTimeout: TimeAmount = .seconds(60)
        /// Idle pooled connections per server per event loop.
        public var keepalive = 32
        /// What each new connection gets before HTTP (TLS to the servers); nil: plain.
        public var prelude: (any ConnectionPrelude)?
        /// An Upgrade tunnel with one direction finished (a FIN passed on) and the other still
        /// open this long is reset, as a stream's `half_close_timeout`.
        public var halfCloseTimeout: TimeAmount = .seconds(60)
        /// HTTP/2 to the servers (`h2c`, or `h2` with the TLS prelude), many requests per connection.
        public var http2 = false
        /// `balance: consistent_hash`: the request's key (its template expanded for the request
        /// and the client's address); nil: servers are picked without one.
        public var hashKey: (@Sendable (Request, String) -> String)?
        public init() {}
    }

    public let name: String
    public let selector: any UpstreamSelector
    public let settings: Settings
    private let pools: [ObjectIdentifier: UpstreamPool]
    /// The same pools in loop order, searched by identity first: for a few loops a scan beats
    /// hashing the loop on every request.
    private let poolList: [UpstreamPool]
    /// HTTP/2 upstreams: one multiplexing pool per loop instead.
    private let http2Pools: [HTTP2UpstreamPool]

    /// `group`: the event loops client connections run on; each gets its own pool.
    public init(name: String, selector: any UpstreamSelector, settings: Settings, group: any EventLoopGroup) {
        self.name = name
        self.selector = selector
        self.settings = settings
        var pools: [ObjectIdentifier: UpstreamPool] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = UpstreamPool(eventLoop: loop, maxIdlePerServer: settings.keepalive)
        }
        self.pools = pools
        self.poolList = Array(pools.values)
        http2Pools = settings.http2
            ? group.makeIterator().map { HTTP2UpstreamPool(eventLoop: $0, selector: selector, settings: settings) } : []
    }

    /// The HTTP/2 pool of `loop` (nil for an HTTP/1.1 upstream, or a loop outside the group).
    func http2Pool(for loop: any EventLoop) -> HTTP2UpstreamPool? {
        http2Pools.first { $0.eventLoop === loop }
    }

    /// The pool of `loop`, or nil for a loop outside the group (then nothing is pooled).
    func pool(for loop: any EventLoop) -> UpstreamPool? {
        if poolList.count <= 8 {
            return poolList.first { $0.eventLoop === loop }
        }
        return pools[ObjectIdentifier(loop)]
    }

    /// After a reload replaced this upstream: closes its idle connections on each loop, and
    /// closes the busy ones as their requests finish instead of pooling them.
    public func retire() {
        for pool in pools.values {
            pool.eventLoop.execute { pool.retire() }
        }
        for pool in http2Pools {
            pool.eventLoop.execute { pool.retire() }
        }
    }

    /// Idle pooled connections across all loops (for tests and metrics; approximate while loops run).
    public var idleConnectionCount: Int {
        pools.values.reduce(0) { $0 + $1.idleCountSnapshot }
    }
}
