import CoreMetrics
import NIOConcurrencyHelpers

/// Stream ends and bytes, by listener. Called once per stream (not per read), so a locked
/// table of handles is cheap enough; each series' labels are formatted once.
final class StreamMetrics: Sendable {
    private struct Key: Hashable {
        var listen: String
        var end: String
    }

    private struct Listener: Sendable {
        let received: CoreMetrics.Counter
        let sent: CoreMetrics.Counter
    }

    private let handles: MetricHandles
    private let ends = NIOLockedValueBox<[Key: CoreMetrics.Counter]>([:])
    private let listeners = NIOLockedValueBox<[String: Listener]>([:])

    init(handles: MetricHandles) {
        self.handles = handles
    }

    func closed(listen: String, end: String, bytesUp: Int, bytesDown: Int) {
        counter(listen: listen, end: end).increment()
        let bytes = listener(listen)
        bytes.received.increment(by: bytesUp)
        bytes.sent.increment(by: bytesDown)
    }

    private func counter(listen: String, end: String) -> CoreMetrics.Counter {
        let key = Key(listen: listen, end: end)
        if let found = ends.withLockedValue({ $0[key] }) { return found }
        let made = handles.counter(MetricNames.streamsClosed, [("listen", listen), ("end", end)])
        return ends.withLockedValue { table in
            if let raced = table[key] { return raced }
            table[key] = made
            return made
        }
    }

    private func listener(_ listen: String) -> Listener {
        if let found = listeners.withLockedValue({ $0[listen] }) { return found }
        let labels = [("listen", listen)]
        let made = Listener(received: handles.counter(MetricNames.streamBytesReceived, labels),
                            sent: handles.counter(MetricNames.streamBytesSent, labels))
        return listeners.withLockedValue { table in
            if let raced = table[listen] { return raced }
            table[listen] = made
            return made
        }
    }
}
