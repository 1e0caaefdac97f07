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
