import NIOCore
import NIOHTTP1
import TacetCache
import TacetConfig
import TacetHTTP
import TacetProxy

/// A proxy route's `cache:`: GET and HEAD answered from the zone where RFC 9111 allows, misses
/// coalesced into one fill per key (`CacheReader`, `CacheFill`); other methods go upstream, and
/// a non-error answer to an unsafe one invalidates what is stored for its URL (and for its
/// Location and Content-Location on the same host). Every response carries `Cache-Status`.
struct CacheResponder: Responder {
    let zone: CacheZone
    let key: [RedirectConfig.Part]
    let lockTimeout: TimeAmount
    let overrides: Reuse.Overrides
    let defaultTTL: Int?
    /// The route's FIN policy, for each client; fills themselves always finish what they start.
    let policy: TacetProxy.ClientFINPolicy
    /// The route's proxy, as a client's own request goes upstream (bypass, hit-for-miss).
    let proxy: ProxyResponder
    /// The same upstream with `serve`: a fill answers whoever still wants it, not one client.
    let fillProxy: ProxyResponder

    init(zone: CacheZone, config: RouteCacheConfig, proxy: ProxyResponder) {
        self.zone = zone
        self.key = config.key
        self.lockTimeout = TimeAmount(config.lockTimeout)
        self.overrides = Reuse.Overrides(staleWhileRevalidate: config.staleWhileRevalidate, staleIfError: config.staleIfError)
        self.defaultTTL = config.defaultTTL
        self.policy = proxy.policy
        self.proxy = proxy
        self.fillProxy = ProxyResponder(upstream: proxy.upstream, policy: .serve, stripPrefix: proxy.stripPrefix)
    }

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        let primary = key.expand(for: request, clientAddress: writer.clientAddress)
        guard request.method == .GET || request.method == .HEAD else {
            let unsafe = ![HTTPMethod.OPTIONS, .TRACE].contains(request.method)
            let sink = CacheStatusSink(base: writer, status: CacheStatus(outcome: .bypass, detail: "method"),
                                       invalidate: unsafe ? Invalidation(zone: zone, primary: primary, request: request) : nil)
            zone.count(CacheStatus.Outcome.bypass.rawValue)
            return proxy.respond(to: request, writer: ResponseWriter(sink: sink, id: 0))
        }
        guard request.framing == .none else {
            zone.count(CacheStatus.Outcome.bypass.rawValue)
            let sink = CacheStatusSink(base: writer, status: CacheStatus(outcome: .bypass, detail: "body"), invalidate: nil)
            return proxy.respond(to: request, writer: ResponseWriter(sink: sink, id: 0))
        }
        let reader = CacheReader(route: self, request: request, writer: writer, primary: primary)
        reader.start()
        return reader
    }
}

/// After an unsafe method's non-error answer: the stored responses for the request's URL, and
/// for the Location and Content-Location it names on the same host, are dropped (RFC 9111 §4.4).
struct Invalidation {
    let zone: CacheZone
    let primary: String
    let request: Request

    func apply(status: Int, fields: HTTPHeaders) {
        guard (200..<400).contains(status) else { return }
        zone.remove(primary: primary)
        let origin = (request.isSecure ? "https://" : "http://") + (request.host ?? "")
        for name in ["location", "content-location"] {
            guard let value = fields.first(name: name) else { continue }
            if value.hasPrefix("/") && !value.hasPrefix("//") {
                // The same key as a GET of that path on this host would have (the default template).
                zone.remove(primary: origin + value)
            } else if value.lowercased().hasPrefix(origin.lowercased() + "/") {
                zone.remove(primary: origin + value.dropFirst(origin.count))
            }
        }
    }
}

/// Adds `Cache-Status` to a response that did not come from the store (bypass, a request sent
/// upstream on its own), and carries out an unsafe method's invalidation when its head arrives.
final class CacheStatusSink: ForwardingSink {
    let status: CacheStatus
    let invalidate: Invalidation?

    init(base: ResponseWriter, status: CacheStatus, invalidate: Invalidation?) {
        self.status = status
        self.invalidate = invalidate
        super.init(base: base)
    }

    override func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        var head = head
        if let invalidate, !head.isRefusal { invalidate.apply(status: Int(head.status.code), fields: head.fields) }
        head.addField("Cache-Status", status.fieldValue)
        super.writeHead(id, head, body: body, end: end, flush: flush)
    }
}
