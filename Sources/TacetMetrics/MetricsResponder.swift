import NIOCore
import NIOHTTP1
import TacetHTTP

/// `GET /metrics` on the admin listener: the registry in Prometheus text format. Built per
/// scrape (upstream gauges are read then), on the admin connection's event loop.
public struct MetricsResponder: Responder {
    /// What Prometheus asks for and expects from the text exposition format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let metrics: MetricsObserver

    public init(metrics: MetricsObserver) {
        self.metrics = metrics
    }

    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        guard request.method == .GET || request.method == .HEAD else {
            return FixedResponder(status: .methodNotAllowed, body: "method not allowed\n",
                                  headers: [("Allow", "GET, HEAD")]).respond(to: request, writer: writer)
        }
        let text = metrics.render()
        var body = writer.allocator.buffer(capacity: text.count)
        body.writeBytes(text)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: Self.contentType)
        writer.respond(ResponseHead(status: .ok, headers: headers, body: .length(body.readableBytes)), body: body)
        return nil
    }

    /// The admin listener's routes: `/metrics`; `/health` (and `/healthz`) answering "ok" while
    /// the process serves (liveness); `/ready` answering "ok" until a graceful stop begins, then
    /// 503 "draining", so an orchestrator or balancer sends no new traffic while it drains.
    /// `extra`: more admin routes (the cache's purge and stats).
    public static func adminRouter(metrics: MetricsObserver, isDraining: @escaping @Sendable () -> Bool = { false },
                                   extra: [Router.Route] = []) -> Router {
        Router(routes: extra + [
            Router.Route(host: nil, pathPrefix: "/metrics", responder: MetricsResponder(metrics: metrics)),
            Router.Route(host: nil, pathPrefix: "/health", responder: FixedResponder(status: .ok, body: "ok\n")),
            Router.Route(host: nil, pathPrefix: "/ready", responder: ReadyResponder(isDraining: isDraining)),
        ])
    }
}

/// `/ready`: 200 while serving, 503 once draining.
struct ReadyResponder: Responder {
    let isDraining: @Sendable () -> Bool
    private static let ready = FixedResponder(status: .ok, body: "ok\n")
    private static let draining = FixedResponder(status: .serviceUnavailable, body: "draining\n")

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        (isDraining() ? Self.draining : Self.ready).respond(to: request, writer: writer)
    }
}
