import CoreMetrics
import NIOConcurrencyHelpers
import Prometheus
import TacetHTTP
import TacetProxyProtocol
import TacetStream

/// Counts what the HTTP listener reports into a Prometheus registry through swift-metrics
/// handles. Installed only when `admin:` is configured; otherwise the listener has `NoObserver`
/// and does no metrics work at all.
///
/// Called on event loops for every connection and request, so nothing is formatted here:
/// connection-level handles are made up front, per-(route, status) ones once, on first use.
public final class MetricsObserver: HTTPObserver {
    public let registry: PrometheusCollectorRegistry
    let handles: MetricHandles
    private let table: RouteSeriesTable
    private let active: Meter
    private let received: CoreMetrics.Counter
    private let sent: CoreMetrics.Counter
    /// Indexed by `ConnectionEndReason.index`: every reason is exported, 0 until seen.
    private let closed: [CoreMetrics.Counter]
    private let streams: StreamMetrics
    private let upstreamErrors: UpstreamProtocolMetrics
    private let http2Errors: HTTP2ErrorMetrics
    private let grpc: GRPCMetrics
    /// By encoding token: zstd, br, gzip (a fixed set, made up front).
    private let compression: [String: (bytesIn: CoreMetrics.Counter, bytesOut: CoreMetrics.Counter, responses: CoreMetrics.Counter)]
    private let compressionFailures: CoreMetrics.Counter
    private let limitedConnections: CoreMetrics.Counter
    private let limitedRequests: CoreMetrics.Counter
    private let tls: TLSMetrics
    private let proxyRefused: [ProxyProtocolReader.Refusal: CoreMetrics.Counter]
    /// Replaced by `configure` on reload; read at scrape time only.
    private let upstreams: NIOLockedValueBox<UpstreamGauges>
    private let appendix = NIOLockedValueBox<(@Sendable () -> [UInt8])?>(nil)

    /// `routeLabels`: the configured routes, made up front so they are exported (at 0) before
    /// their first request. Others (e.g. "none", for no match) are made on first use.
    /// `upstreams`: read at each scrape.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), routeLabels: [String] = [],
                upstreams: [UpstreamSource] = []) {
        self.registry = registry
        let handles = MetricHandles(registry: registry)
        self.handles = handles
        table = RouteSeriesTable(handles: handles)
        active = handles.gauge(MetricNames.connectionsActive)
        received = handles.counter(MetricNames.bytesReceived)
        sent = handles.counter(MetricNames.bytesSent)
        closed = ConnectionEndReason.allCases.sorted { $0.index < $1.index }.map { handles.counter(MetricNames.connectionsClosed, [("reason", $0.rawValue)]) }
        streams = StreamMetrics(handles: handles)
        upstreamErrors = UpstreamProtocolMetrics(handles: handles)
        http2Errors = HTTP2ErrorMetrics(handles: handles)
        grpc = GRPCMetrics(handles: handles)
        compression = Dictionary(uniqueKeysWithValues: ["zstd", "br", "gzip"].map { coding in
            (coding, (handles.counter(MetricNames.compressionBytesIn, [("encoding", coding)]),
                      handles.counter(MetricNames.compressionBytesOut, [("encoding", coding)]),
                      handles.counter(MetricNames.compressionResponses, [("encoding", coding)])))
        })
        compressionFailures = handles.counter(MetricNames.compressionFailures)
        limitedConnections = handles.counter(MetricNames.clientLimited, [("limit", "connections")])
        limitedRequests = handles.counter(MetricNames.clientLimited, [("limit", "requests")])
        tls = TLSMetrics(handles: handles)
        proxyRefused = Dictionary(uniqueKeysWithValues: ProxyProtocolReader.Refusal.allCases.map {
            ($0, handles.counter(MetricNames.proxyProtocolRefused, [("reason", $0.rawValue)]))
        })
        self.upstreams = NIOLockedValueBox(UpstreamGauges(sources: upstreams, handles: handles))
        for label in routeLabels { _ = table.route(label) }
    }

    /// A reload's routes and upstreams. Counters carry on (a route that stays keeps counting;
    /// one removed keeps its totals, as Prometheus expects of a counter); upstream gauges are
    /// replaced, so servers that left the configuration leave the output too.
    public func configure(routeLabels: [String], upstreams sources: [UpstreamSource]) {
        for label in routeLabels { _ = table.route(label) }
        let handles = self.handles
        upstreams.withLockedValue { gauges in
            // Old series first: the registry hands back a live series for a label set that
            // exists, and removing it afterwards would remove the new one.
            gauges.remove()
            gauges = UpstreamGauges(sources: sources, handles: handles)
        }
    }

    public func connectionOpened() {
        active.increment()
    }

    public func connectionClosed(reason: ConnectionEndReason) {
        active.decrement()
        closed[reason.index].increment()
    }

    public func bytesTransferred(in bytesIn: Int, out bytesOut: Int) {
        if bytesIn > 0 { received.increment(by: bytesIn) }
        if bytesOut > 0 { sent.increment(by: bytesOut) }
    }

    public func requestFinished(route: String, status: Int, durationNanoseconds: Int64, end: String) {
        let series = table.series(route: route, status: status)
        series.requests.increment()
        series.duration.recordNanoseconds(durationNanoseconds)
    }

    public func probeSent(route: String) {
        table.route(route).probesSent.increment()
    }

    public func probeAnsweredByReset(route: String) {
        table.route(route).probesReset.increment()
    }

    public func upstreamProtocolError(upstream: String, reason: String, bytes: Int) {
        upstreamErrors.record(upstream: upstream, reason: reason, bytes: bytes)
    }

    public func tlsHandshake(version: String, outcome: String) {
        tls.handshake(version: version, outcome: outcome)
    }

    public func http2ConnectionError(reason: String) {
        http2Errors.record(reason: reason)
    }

    public func grpcFinished(route: String, grpcStatus: String) {
        grpc.record(route: route, status: grpcStatus)
    }

    public func compressed(route: String, coding: String, bytesIn: Int, bytesOut: Int) {
        guard let counters = compression[coding] else { return }
        counters.bytesIn.increment(by: Int64(bytesIn))
        counters.bytesOut.increment(by: Int64(bytesOut))
        counters.responses.increment()
    }

    public func compressionFailed(route: String) { compressionFailures.increment() }

    public func clientLimited(limit: String) {
        (limit == "connections" ? limitedConnections : limitedRequests).increment()
    }

    /// A connection refused on a `proxy_protocol` listener, HTTP or stream.
    public func proxyProtocolRefused(reason: String) {
        ProxyProtocolReader.Refusal(rawValue: reason).flatMap { proxyRefused[$0] }?.increment()
    }

    /// The certificates the running configuration's TLS listeners present (start and reload).
    public func configure(certificates: [CertificateSource]) {
        tls.configure(certificates)
    }

    /// The registry in Prometheus text format (version 0.0.4), upstream gauges read just now.
    public func render() -> [UInt8] {
        upstreams.withLockedValue { $0.refresh() }
        tls.refresh()
        var text = registry.emitToBuffer()
        if let more = appendix.withLockedValue({ $0 }) { text += more() }
        return text
    }

    /// Families kept elsewhere and written out whole at each scrape (the cache zones' counters,
    /// which live in the zones): exposition text appended after the registry's.
    public func configure(appendix: (@Sendable () -> [UInt8])?) {
        self.appendix.withLockedValue { $0 = appendix }
    }
}

extension MetricsObserver: StreamObserver {
    public func streamClosed(listen: String, end: String, bytesUp: Int, bytesDown: Int) {
        streams.closed(listen: listen, end: end, bytesUp: bytesUp, bytesDown: bytesDown)
    }
}

extension ConnectionEndReason {
    /// Position in `allCases`, without a search: a switch the compiler checks is complete.
    var index: Int {
        switch self {
        case .clientFIN: return 0
        case .clientRST: return 1
        case .writeFailed: return 2
        case .timeout: return 3
        case .serverClose: return 4
        case .clientRSTStream: return 5
        }
    }
}
