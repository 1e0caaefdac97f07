import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import TacetConfig
import TacetProxy
import TacetUpstream

/// The upstreams of a running configuration: one `UpstreamGroup` (balancing, passive and active
/// health) per configured upstream, shared by every route and stream naming it, and one proxy
/// `Upstream` (per-event-loop keep-alive pools) on the server's event loops.
public final class UpstreamSet: Sendable {
    public let groups: [String: UpstreamGroup]
    private let proxies: [String: Upstream]
    private let configs: [String: UpstreamConfig]
    private let eventLoopGroup: any EventLoopGroup
    private let checkers = NIOLockedValueBox<[HealthChecker]>([])

    public init(config: TacetConfiguration, eventLoopGroup: any EventLoopGroup) {
        self.eventLoopGroup = eventLoopGroup
        var groups: [String: UpstreamGroup] = [:]
        var proxies: [String: Upstream] = [:]
        var configs: [String: UpstreamConfig] = [:]
        for upstream in config.upstreams {
            let group = UpstreamGroup(
                name: upstream.name,
                servers: upstream.servers.map { UpstreamServer(host: $0.address.host, port: $0.address.port, weight: $0.weight) },
                balance: upstream.balance.method, maxFails: upstream.maxFails,
                failTimeout: TimeAmount(upstream.failTimeout))
            groups[upstream.name] = group
            configs[upstream.name] = upstream
            proxies[upstream.name] = Upstream(name: upstream.name, selector: group,
                                              settings: upstream.proxySettings, group: eventLoopGroup)
        }
        self.groups = groups
        self.proxies = proxies
        self.configs = configs
    }

    /// The proxy upstream for a route's target: a named upstream, or a one-server `to:`.
    func upstream(for target: ProxyTarget) -> Upstream {
        switch target {
        case .upstream(let name):
            if let upstream = proxies[name] { return upstream }
            // Validation guarantees the name exists; an empty selector answers 502 otherwise.
            return Upstream(name: name, selector: NoServers(), settings: Upstream.Settings(), group: eventLoopGroup)
        case .address(let address):
            return Upstream(name: "\(address)", selector: SingleServer(host: address.host, port: address.port),
                            settings: Upstream.Settings(), group: eventLoopGroup)
        }
    }

    /// Starts the active health checks that the configuration asks for.
    public func startHealthChecks() {
        var started: [HealthChecker] = []
        for (name, config) in configs {
            guard let health = config.health, let group = groups[name] else { continue }
            let checker = HealthChecker()
            checker.start(group: group, eventLoopGroup: eventLoopGroup,
                          check: .http(path: health.path, expectStatus: health.expectStatus, timeout: TimeAmount(health.timeout)),
                          interval: TimeAmount(health.interval))
            started.append(checker)
        }
        checkers.withLockedValue { $0.append(contentsOf: started) }
    }

    public func stopHealthChecks() {
        for checker in checkers.withLockedValue({ c in defer { c.removeAll() }; return c }) { checker.stop() }
    }
}

extension UpstreamGroup: UpstreamSelector {
    public var addresses: [(host: String, port: Int)] { servers.map { ($0.host, $0.port) } }
}

private struct NoServers: UpstreamSelector {
    var addresses: [(host: String, port: Int)] { [] }
    func pick(excluding: Set<Int>) -> Int? { nil }
    func connectionOpened(_ server: Int) {}
    func connectionClosed(_ server: Int) {}
    func recordFailure(_ server: Int) {}
    func recordSuccess(_ server: Int) {}
}

extension UpstreamConfig.Balance {
    var method: BalanceMethod {
        switch self {
        case .roundRobin: return .roundRobin
        case .leastConn: return .leastConnections
        case .random: return .randomTwoChoices
        }
    }
}

extension UpstreamConfig {
    var proxySettings: Upstream.Settings {
        var settings = Upstream.Settings()
        settings.connectTimeout = TimeAmount(connectTimeout)
        settings.readTimeout = TimeAmount(readTimeout)
        settings.keepalive = keepalive
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
