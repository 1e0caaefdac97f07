/// What the listener tells metrics about its traffic. Called on event loops, on the hot path:
/// an implementation must be cheap (pre-created counters, no formatting per call).
public protocol HTTPObserver: Sendable {
    func connectionOpened()
    /// The connection ended. Its last bytes come through `bytesTransferred` just before.
    func connectionClosed(reason: ConnectionEndReason)
    /// Bytes from and to a client since the connection's last report: sent as each request
    /// finishes and when the connection ends, so a long keep-alive connection counts as it goes.
    func bytesTransferred(in: Int, out: Int)
    /// A request ended: answered (`end` == "complete") or not (a `ConnectionEndReason` raw value,
    /// or a route's own reason such as "upstream_closed"). `route` is the matched route's label.
    func requestFinished(route: String, status: Int, durationNanoseconds: Int64, end: String)
    /// A `probe` FIN policy sent an interim response to a half-closed client.
    func probeSent(route: String)
    /// ...and the client answered it with an RST: it had really gone.
    func probeAnsweredByReset(route: String)
    /// An upstream broke HTTP and its connection was closed, never reused: `reason` is
    /// `extra_bytes` (`bytes` sent past the end of a response), `invalid_response` or
    /// `closed_early` (the connection ended inside a response).
    func upstreamProtocolError(upstream: String, reason: String, bytes: Int)
    /// A TLS handshake on a listener ended: `outcome` `ok` (then `version` is "1.2" or "1.3"),
    /// `failed`, `timeout`, or `plain_http` (an HTTP request sent to a TLS port).
    func tlsHandshake(version: String, outcome: String)
    /// An HTTP/2 client broke a limit and its connection was closed (GOAWAY): `reason` is
    /// `rapid_reset`, `continuation_flood`, `empty_data_flood`, `control_frame_flood`,
    /// `stream_errors`, `glitches` or `outbound_buffering`.
    func http2ConnectionError(reason: String)
    /// A client over a per-client limit: `limit` is `connections` (closed at once) or
    /// `requests` (429).
    func clientLimited(limit: String)
    /// A connection on a `proxy_protocol` listener (HTTP or stream) was closed without a good
    /// PROXY header: `reason` is `untrusted`, `invalid`, `timeout` or `incomplete`.
    func proxyProtocolRefused(reason: String)
    /// A gRPC call ended with this `grpc-status` (the upstream's, or Tacet's own for a call it
    /// failed), beside its `requestFinished`.
    func grpcFinished(route: String, grpcStatus: String)
    /// A compressed body ended whole: its bytes before and after, by coding.
    func compressed(route: String, coding: String, bytesIn: Int, bytesOut: Int)
    /// A compressor failed mid-body and the response was cut short.
    func compressionFailed(route: String)
}

extension HTTPObserver {
    public func upstreamProtocolError(upstream: String, reason: String, bytes: Int) {}
    public func tlsHandshake(version: String, outcome: String) {}
    public func http2ConnectionError(reason: String) {}
    public func clientLimited(limit: String) {}
    public func proxyProtocolRefused(reason: String) {}
    public func grpcFinished(route: String, grpcStatus: String) {}
    public func compressed(route: String, coding: String, bytesIn: Int, bytesOut: Int) {}
    public func compressionFailed(route: String) {}
}

/// Observes nothing: the default.
public struct NoObserver: HTTPObserver {
    public init() {}
    public func connectionOpened() {}
    public func connectionClosed(reason: ConnectionEndReason) {}
    public func bytesTransferred(in: Int, out: Int) {}
    public func requestFinished(route: String, status: Int, durationNanoseconds: Int64, end: String) {}
    public func probeSent(route: String) {}
    public func probeAnsweredByReset(route: String) {}
}
