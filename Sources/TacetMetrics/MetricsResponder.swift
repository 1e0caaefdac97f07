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

    /// The admin listener's routes: `/metrics`, and `/health` answering "ok" while the process
    /// serves (for a load balancer or an orchestrator's liveness check).
    public static func adminRouter(metrics: MetricsObserver) -> Router {
        Router(routes: [
            Router.Route(host: nil, pathPrefix: "/metrics", responder: MetricsResponder(metrics: metrics)),
            Router.Route(host: nil, pathPrefix: "/health", responder: FixedResponder(status: .ok, body: "ok\n")),
        ])
    }
}
