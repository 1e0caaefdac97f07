import NIOCore
import NIOHTTP1
import TacetConfig
import TacetHTTP
import TacetProxy
import TacetStatic

/// Turns a validated `TacetConfiguration` into what the listener runs with. `tacet check`,
/// `tacet serve` and (later) reload all go through here, so they cannot disagree.
public struct RuntimeConfiguration: Sendable {
    public var listen: [(host: String, port: Int)]
    public var settings: ServerSettings
    public let config: TacetConfiguration
    public var shutdownGrace: TimeAmount
    public var accessLog: AccessLogConfig

    public init(_ config: TacetConfiguration) {
        listen = config.listen.map { ($0.host, $0.port) }
        var settings = ServerSettings()
        settings.parserLimits = RequestParser.Limits(
            maxRequestLine: config.limits.maxRequestLine,
            maxHeaderSize: config.limits.maxHeaderSize,
            maxBodySize: config.limits.maxBodySize)
        settings.maxConnections = config.limits.maxConnections
        settings.keepaliveRequests = config.limits.keepaliveRequests
        settings.headerTimeout = TimeAmount(config.timeouts.header)
        settings.bodyTimeout = TimeAmount(config.timeouts.body)
        settings.keepaliveTimeout = TimeAmount(config.timeouts.keepalive)
        settings.sendTimeout = TimeAmount(config.timeouts.send)
        settings.lingerTimeout = TimeAmount(config.timeouts.linger)
        settings.lingerTotal = TimeAmount(config.timeouts.lingerTotal)
        self.settings = settings
        shutdownGrace = TimeAmount(config.timeouts.shutdown)
        accessLog = config.accessLog
        self.config = config
    }

    /// The routes, with proxy routes bound to `upstreams` (built on the server's event loops).
    public func makeRouter(upstreams: UpstreamSet) -> Router {
        Router(routes: config.routes.map { route in
            Router.Route(host: route.match.host, pathPrefix: route.match.path,
                         responder: Self.responder(for: route.action, upstreams: upstreams))
        })
    }

    static func responder(for action: RouteAction, upstreams: UpstreamSet) -> any Responder {
        switch action {
        case .respond(let fixed):
            return FixedResponder(
                status: HTTPResponseStatus(statusCode: fixed.status), body: fixed.body,
                contentType: fixed.contentType, headers: fixed.headers.map { ($0.name, $0.value) })
        case .staticFiles(let files):
            return StaticResponder(root: files.root, index: files.index)
        case .proxy(let proxy):
            return ProxyResponder(upstream: upstreams.upstream(for: proxy.target), policy: proxy.policy)
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
