import CoreMetrics
import NIOConcurrencyHelpers

/// Upstreams that broke HTTP, by upstream and reason. Rare (each closes a connection), so a
/// locked table of handles made on first use is cheap enough.
final class UpstreamProtocolMetrics: Sendable {
    private struct Key: Hashable {
        var upstream: String
        var reason: String
    }

    private let handles: MetricHandles
    private let errors = NIOLockedValueBox<[Key: CoreMetrics.Counter]>([:])
    private let extraBytes = NIOLockedValueBox<[String: CoreMetrics.Counter]>([:])

    init(handles: MetricHandles) {
        self.handles = handles
    }

    func record(upstream: String, reason: String, bytes: Int) {
        let key = Key(upstream: upstream, reason: reason)
        let handles = self.handles
        errors.withLockedValue { table in
            if let counter = table[key] { return counter }
            let made = handles.counter(MetricNames.upstreamProtocolErrors, [("upstream", upstream), ("reason", reason)])
            table[key] = made
            return made
        }.increment()
        guard bytes > 0 else { return }
        extraBytes.withLockedValue { table in
            if let counter = table[upstream] { return counter }
            let made = handles.counter(MetricNames.upstreamExtraBytes, [("upstream", upstream)])
            table[upstream] = made
            return made
        }.increment(by: bytes)
    }
}

/// HTTP/2 connections closed for breaking a limit, by reason: rare, so the same locked table.
/// gRPC calls by route and status, counters made as each pair is first seen (bounded: routes
/// come from the config, statuses are 0 to 16 or `invalid`).
final class GRPCMetrics: Sendable {
    private let handles: MetricHandles
    private let counters = NIOLockedValueBox<[String: CoreMetrics.Counter]>([:])

    init(handles: MetricHandles) { self.handles = handles }

    func record(route: String, status: String) {
        let handles = self.handles
        let key = route + "\u{0}" + status
        counters.withLockedValue { table in
            if let counter = table[key] { return counter }
            let made = handles.counter(MetricNames.grpcResponses, [("route", route), ("grpc_status", status)])
            table[key] = made
            return made
        }.increment()
    }
}

final class HTTP2ErrorMetrics: Sendable {
    private let handles: MetricHandles
    private let errors = NIOLockedValueBox<[String: CoreMetrics.Counter]>([:])

    init(handles: MetricHandles) { self.handles = handles }

    func record(reason: String) {
        let handles = self.handles
        errors.withLockedValue { table in
            if let counter = table[reason] { return counter }
            let made = handles.counter(MetricNames.http2ConnectionErrors, [("reason", reason)])
            table[reason] = made
            return made
        }.increment()
    }
}
