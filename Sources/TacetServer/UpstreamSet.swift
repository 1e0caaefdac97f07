import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import TacetConfig
import TacetProxy
import TacetUpstream

/// The upstreams of a running configuration: one `UpstreamGroup` (balancing, passive and active
/// health) per configured upstream, shared by every route and stream naming it, and one proxy
/// `Upstream` (per-event-loop keep-alive pools) on the server's event loops. Health checks run
/// from `TacetServer`.
public final class UpstreamSet: Sendable {
    public let groups: [String: UpstreamGroup]
    private let proxies: [String: Upstream]
    private let eventLoopGroup: any EventLoopGroup
    /// The one-server upstreams made for `to:` routes, so `retire()` reaches them too.
    private let adHoc = NIOLockedValueBox<[Upstream]>([])

    /// `groups`: the configuration's upstream groups (`RuntimeConfiguration.upstreamGroups`),
    /// which streams use too.
    /// `tls`: the TLS setups of the upstreams and `to: https://` routes (`UpstreamTLSSetup`).
    public init(config: TacetConfiguration, groups: [String: UpstreamGroup], eventLoopGroup: any EventLoopGroup,
                tls: UpstreamTLSSetup = UpstreamTLSSetup()) {
        self.eventLoopGroup = eventLoopGroup
        self.groups = groups
        self.tls = tls
        var proxies: [String: Upstream] = [:]
        for upstream in config.upstreams {
            guard let group = groups[upstream.name] else { continue }
            var settings = upstream.proxySettings
            settings.prelude = tls.upstreams[upstream.name]
            proxies[upstream.name] = Upstream(name: upstream.name, selector: group, settings: settings, group: eventLoopGroup)
        }
        self.proxies = proxies
    }

    private let tls: UpstreamTLSSetup

    /// Idle keep-alive connections in the named upstream's pools (0 if no route proxies to it).
    public func idleConnectionCount(upstream name: String) -> Int {
        proxies[name]?.idleConnectionCount ?? 0
    }

    /// The proxy upstream for a route's target: a named upstream, or a one-server `to:`.
    func upstream(for target: ProxyTarget, secure: Bool = false) -> Upstream {
        switch target {
        case .upstream(let name):
            if let upstream = proxies[name] { return upstream }
            // Validation guarantees the name exists; an empty selector answers 502 otherwise.
            return Upstream(name: name, selector: NoServers(), settings: Upstream.Settings(), group: eventLoopGroup)
        case .address(let address):
            var settings = Upstream.Settings()
            if secure { settings.prelude = tls.addresses["\(address)"] }
            let upstream = Upstream(name: "\(address)", selector: SingleServer(host: address.host, port: address.port),
                                    settings: settings, group: eventLoopGroup)
            adHoc.withLockedValue { $0.append(upstream) }
            return upstream
        }
    }

    /// A plain-HTTP service at one address (an `auth.request` service) whose connect and answer
    /// must come within `timeout`; pooled and retired with the rest.
    func service(at address: ListenAddress, timeout: TimeAmount) -> Upstream {
        var settings = Upstream.Settings()
        settings.connectTimeout = timeout
        settings.readTimeout = timeout
        settings.sendTimeout = timeout
        let upstream = Upstream(name: "\(address)", selector: SingleServer(host: address.host, port: address.port),
                                settings: settings, group: eventLoopGroup)
        adHoc.withLockedValue { $0.append(upstream) }
        return upstream
    }

    /// Idle pooled connections of every proxy upstream (tests, metrics; approximate while loops run).
    public var idleConnectionCount: Int {
        proxies.values.reduce(0) { $0 + $1.idleConnectionCount }
            + adHoc.withLockedValue { $0 }.reduce(0) { $0 + $1.idleConnectionCount }
    }

    /// A reload replaced this set: idle pooled connections close now, busy ones when their
    /// request ends (nothing is pooled any more). Requests in flight are not disturbed.
    public func retire() {
        for upstream in proxies.values { upstream.retire() }
        for upstream in adHoc.withLockedValue({ $0 }) { upstream.retire() }
    }
}

extension UpstreamGroup: UpstreamSelector {
    public var addresses: [(host: String, port: Int)] { servers.map { ($0.host, $0.port) } }
    public func pick(excluding: Set<Int>, key: String) -> Int? { pick(excluding: excluding, hash: HashRing.hash(key)) }
}

private final class NoServers: UpstreamSelector {
    var addresses: [(host: String, port: Int)] { [] }
    func pick(excluding: Set<Int>) -> Int? { nil }
    func connectionOpened(_ server: Int) {}
    func connectionClosed(_ server: Int) {}
    func recordFailure(_ server: Int) {}
    func recordSuccess(_ server: Int) {}
}

extension UpstreamConfig {
    var proxySettings: Upstream.Settings {
        var settings = Upstream.Settings()
        settings.connectTimeout = TimeAmount(connectTimeout)
        settings.readTimeout = TimeAmount(readTimeout)
        settings.sendTimeout = TimeAmount(sendTimeout)
        settings.halfCloseTimeout = TimeAmount(halfCloseTimeout)
        settings.keepalive = keepalive
        settings.http2 = self.protocol != .http1
        if balance == .consistentHash {
            let key = hashKey
            settings.hashKey = { request, client in key.expand(for: request, clientAddress: client) }
        }
        return settings
    }
}

extension ProxyConfig {
    /// The proxy module's policy for this route's `on_client_fin`.
    var policy: TacetProxy.ClientFINPolicy {
        switch onClientFIN {
        case .serve: return .serve
        case .abort: return .abort
        case .probe: return .probe(status: HTTPResponseStatus(statusCode: probeStatus, reasonPhrase: probeStatus == 103 ? "Early Hints" : ""),
                                   max: probeMax)
        }
    }
}
