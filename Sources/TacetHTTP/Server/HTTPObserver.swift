/// What the listener tells metrics about its traffic. Called on event loops, on the hot path:
/// an implementation must be cheap (pre-created counters, no formatting per call).
public protocol HTTPObserver: Sendable {
    func connectionOpened()
    func connectionClosed(reason: ConnectionEndReason, bytesIn: Int, bytesOut: Int)
    /// A request ended: answered (`end` == "complete") or not (a `ConnectionEndReason` raw value,
    /// or a route's own reason such as "upstream_closed"). `route` is the matched route's label.
    func requestFinished(route: String, status: Int, durationNanoseconds: Int64, end: String)
    /// A `probe` FIN policy sent an interim response to a half-closed client.
    func probeSent(route: String)
    /// ...and the client answered it with an RST: it had really gone.
    func probeAnsweredByReset(route: String)
}

/// Observes nothing: the default.
public struct NoObserver: HTTPObserver {
    public init() {}
    public func connectionOpened() {}
    public func connectionClosed(reason: ConnectionEndReason, bytesIn: Int, bytesOut: Int) {}
    public func requestFinished(route: String, status: Int, durationNanoseconds: Int64, end: String) {}
    public func probeSent(route: String) {}
    public func probeAnsweredByReset(route: String) {}
}
