/// What every request goes through between its parsed head and its route, on HTTP/1.1 and
/// HTTP/2 alike (one place, so the two protocols cannot disagree): whether it came over TLS,
/// its request ID, the client behind a trusted proxy, and the per-client request rate.
package struct Admission {
    /// The request as its route sees it.
    package var request: Request
    /// The client X-Forwarded-For names, when a trusted proxy sent the request.
    package let client: String?
    /// Over `requests_per_second`: answer 429 with this Retry-After (seconds), not the route.
    package let retryAfter: Int?

    package init(_ parsed: Request, peer: String, isSecure: Bool, settings: ServerSettings, observer: any HTTPObserver) {
        var request = parsed
        request.isSecure = isSecure
        let trusted = settings.isTrustedProxy.map { $0(peer) } ?? false
        if settings.requestID { RequestID.apply(to: &request, peerTrusted: trusted) }
        let client = trusted ? settings.isTrustedProxy.flatMap { RealIP.client(of: request, peer: peer, isTrusted: $0) } : nil
        self.request = request
        self.client = client
        self.retryAfter = settings.clientLimiter?.admitRequest(client ?? peer)
        if retryAfter != nil { observer.clientLimited(limit: "requests") }
    }
}
