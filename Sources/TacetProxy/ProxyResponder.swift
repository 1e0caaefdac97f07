import NIOCore
import NIOHTTP1
import TacetHTTP

/// The reverse-proxy route action: each request becomes a `ProxyExchange` with the route's
/// upstream and FIN policy.
public struct ProxyResponder: Responder {
    public let upstream: Upstream
    public let policy: ClientFINPolicy
    /// Taken off the front of the path before the request goes upstream (no trailing slash).
    public let stripPrefix: String?

    public init(upstream: Upstream, policy: ClientFINPolicy = .serve, stripPrefix: String? = nil) {
        self.upstream = upstream
        self.policy = policy
        self.stripPrefix = stripPrefix
    }

    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        var request = request
        if let stripPrefix, let target = Self.stripping(stripPrefix, from: request.target) { request.target = target }
        let exchange = ProxyExchange(request: request, writer: writer, upstream: upstream, policy: policy)
        exchange.start()
        return exchange
    }

    /// `/api/x?q` without `/api` is `/x?q`; `/api` and `/api?q` become `/` and `/?q`; a target
    /// that does not start with the prefix at a segment boundary (`/apix`) is left alone (nil).
    static func stripping(_ prefix: String, from target: String) -> String? {
        guard target.hasPrefix(prefix) else { return nil }
        let rest = target.dropFirst(prefix.count)
        if rest.isEmpty || rest.hasPrefix("?") { return "/" + rest }
        return rest.hasPrefix("/") ? String(rest) : nil
    }
}
