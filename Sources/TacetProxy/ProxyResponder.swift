import NIOCore
import NIOHTTP1
import TacetHTTP

/// The reverse-proxy route action: each request becomes a `ProxyExchange` with the route's
/// upstream and FIN policy.
public struct ProxyResponder: Responder {
    public let upstream: Upstream
    public let policy: ClientFINPolicy

    public init(upstream: Upstream, policy: ClientFINPolicy = .serve) {
        self.upstream = upstream
        self.policy = policy
    }

    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        let exchange = ProxyExchange(request: request, writer: writer, upstream: upstream, policy: policy)
        exchange.start()
        return exchange
    }
}
