import Logging
import NIOConcurrencyHelpers
import NIOCore
import TacetCache
import TacetConfig
import TacetHTTP
import TacetMetrics

/// The `admin:` listener: `/metrics` and `/health` on their own `HTTPServer`, with the
/// `MetricsObserver` that the public listeners and streams report to. Its own traffic is not
/// counted (a scrape every few seconds would drown small routes' numbers) and not access-logged.
final class AdminListener: Sendable {
    let metrics: MetricsObserver
    private let server: HTTPServer
    /// The configured address it listens on; a reload may move it (`move(to:)`).
    private let address: NIOLockedValueBox<ListenAddress>
    /// Set when a graceful stop begins: `/ready` answers 503 from then on.
    private let draining = NIOLockedValueBox(false)
    /// The running configuration's cache zones, for `/cache` and the cache metrics.
    private let cacheZones = NIOLockedValueBox<[String: CacheZone]>([:])
    private let acme = NIOLockedValueBox<ACMEManager?>(nil)

    /// `routeLabels`: the public router's, so every route is exported from the start.
    init(config: AdminConfig, routeLabels: [String], upstreams: UpstreamSet, group: any EventLoopGroup, logger: Logger) {
        address = NIOLockedValueBox(config.listen)
        metrics = MetricsObserver(routeLabels: routeLabels, upstreams: Self.sources(upstreams))
        var settings = ServerSettings()
        // A handful of scrapers at most; a flood here must not take descriptors from real traffic.
        settings.maxConnections = 64
        let draining = self.draining
        let zones = cacheZones
        let cache = Router.Route(host: nil, pathPrefix: "/cache", responder: CacheAdminResponder(zones: zones))
        let router = MetricsResponder.adminRouter(metrics: metrics, isDraining: { draining.withLockedValue { $0 } }, extra: [cache])
        server = HTTPServer(group: group, state: ListenerState(settings: settings, responder: router, accessLog: nil), logger: logger)
        let acme = self.acme
        metrics.configure(appendix: {
            CacheMetricsText.render(zones.withLockedValue { $0 }) + ACMEMetricsText.render(acme.withLockedValue { $0 })
        })
    }

    /// The ACME manager whose state `/metrics` reports (the server's, from its start).
    func configure(acme: ACMEManager?) {
        self.acme.withLockedValue { $0 = acme }
    }

    /// The zones `/cache` purges and reports, and `/metrics` counts (at start and each reload).
    func configure(cacheZones: [String: CacheZone]) {
        self.cacheZones.withLockedValue { $0 = cacheZones }
    }

    /// What the gauges read for each configured upstream, by name.
    static func sources(_ upstreams: UpstreamSet) -> [UpstreamSource] {
        upstreams.groups.keys.sorted().compactMap { name in
            guard let group = upstreams.groups[name] else { return nil }
            return UpstreamSource(name: name, group: group) { upstreams.idleConnectionCount(upstream: name) }
        }
    }

    /// A reload's routes and upstreams.
    func configure(routeLabels: [String], upstreams: UpstreamSet) {
        metrics.configure(routeLabels: routeLabels, upstreams: Self.sources(upstreams))
    }

    /// Binds the admin address; returns what was bound (useful with port 0).
    func start() async throws -> SocketAddress? {
        let address = address.withLockedValue { $0 }
        return try await server.listen([(address.host, address.port)]).addresses.first
    }

    var configuredAddress: ListenAddress { address.withLockedValue { $0 } }

    /// Listens on `newAddress` instead: bound before the old socket closes; if the bind fails
    /// nothing changes. Scrapes in progress on the old socket finish. Returns what was bound.
    func move(to newAddress: ListenAddress) async throws -> SocketAddress? {
        let bound = try await server.listen([(newAddress.host, newAddress.port)]).addresses.first
        address.withLockedValue { $0 = newAddress }
        return bound
    }

    /// A graceful stop began: not ready any more.
    func startDraining() {
        draining.withLockedValue { $0 = true }
    }

    func shutdown() async {
        await server.shutdown(gracePeriod: .seconds(1))
    }
}
