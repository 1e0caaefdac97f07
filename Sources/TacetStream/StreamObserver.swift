/// What the stream proxy tells metrics: one call per stream, when it is over (the same moment
/// as its log line). Called on event loops; an implementation must be cheap.
public protocol StreamObserver: Sendable {
    /// `listen`: the listener's address as logged; `end`: `clean`, `reset`, `timeout`,
    /// `connect_failed` or `refused` (no good PROXY header); `bytesUp`: client to upstream; `bytesDown`: upstream to client.
    func streamClosed(listen: String, end: String, bytesUp: Int, bytesDown: Int)
}

/// Observes nothing: the default, so a server without metrics does no metrics work.
public struct NoStreamObserver: StreamObserver {
    public init() {}
    public func streamClosed(listen: String, end: String, bytesUp: Int, bytesDown: Int) {}
}
