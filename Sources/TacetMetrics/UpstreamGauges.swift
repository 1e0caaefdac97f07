import CoreMetrics
import TacetUpstream

/// One upstream as metrics see it: its group (servers, health, active connections) and how
/// many idle keep-alive connections its proxy pools hold.
public struct UpstreamSource: Sendable {
    public var name: String
    public var group: UpstreamGroup
    /// Idle pooled connections over all event loops (0 for an upstream only streams use).
    public var idleConnections: @Sendable () -> Int

    public init(name: String, group: UpstreamGroup, idleConnections: @escaping @Sendable () -> Int) {
        self.name = name
        self.group = group
        self.idleConnections = idleConnections
    }
}

/// Upstream state as gauges, read at scrape time rather than kept current on every change:
/// the groups already hold the truth behind their lock, and a scrape is rare next to a request.
/// Handles are made once, here; servers of a group never change while it runs.
struct UpstreamGauges: Sendable {
    private struct Upstream: Sendable {
        let source: UpstreamSource
        /// In the group's server order.
        let up: [Meter]
        let active: [Meter]
        let idle: Meter
    }

    private let upstreams: [Upstream]

    init(sources: [UpstreamSource], handles: MetricHandles) {
        upstreams = sources.map { source in
            let labels = source.group.servers.map { [("upstream", source.name), ("server", $0.description)] }
            return Upstream(source: source,
                            up: labels.map { handles.gauge(MetricNames.upstreamUp, $0) },
                            active: labels.map { handles.gauge(MetricNames.upstreamActive, $0) },
                            idle: handles.gauge(MetricNames.upstreamIdle, [("upstream", source.name)]))
        }
    }

    /// Sets every gauge from the groups' current state.
    func refresh() {
        for upstream in upstreams {
            for (index, state) in upstream.source.group.snapshot.enumerated() where index < upstream.up.count {
                upstream.up[index].set(state.up ? 1 : 0)
                upstream.active[index].set(state.activeConnections)
            }
            upstream.idle.set(upstream.source.idleConnections())
        }
    }

    /// Takes every series out of the registry (a reload replaced these upstreams).
    func remove() {
        for upstream in upstreams {
            for meter in upstream.up + upstream.active { meter.destroy() }
            upstream.idle.destroy()
        }
    }
}
