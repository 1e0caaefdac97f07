import NIOCore

/// A connection's start: counted in metrics, its client address taken, and counted against
/// that client's `connections_per_client` (closed at once, staged, when over).
extension HTTPConnectionHandler {
    func connectionStarted(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        observer.connectionOpened()
        if let address = context.channel.remoteAddress {
            log.remoteAddress = address.ipAddress ?? "\(address)"
        }
        // A peer in trusted_proxies is a balancer carrying many clients: its PROXY header (if
        // any) names the client to count; without one, it is not limited per client.
        if let isTrusted = settings.isTrustedProxy, isTrusted(log.remoteAddress) {
            updateTimer()
            return
        }
        countClient(log.remoteAddress)
        updateTimer()
    }

    /// Counts this connection against its client's `connections_per_client`; one over the
    /// limit is closed at once (staged, no answer).
    func countClient(_ ip: String) {
        guard let limiter = settings.clientLimiter, limiter.settings.connectionsPerClient != nil, countedClient == nil else { return }
        if limiter.acquireConnection(ip) {
            countedClient = ip
        } else {
            observer.clientLimited(limit: "connections")
            perform(machine.quiesce())
        }
    }
}
