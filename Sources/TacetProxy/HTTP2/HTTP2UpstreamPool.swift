import NIOCore
import NIOPosix
import TacetHTTP2
import TacetTunnel

/// HTTP/2 connections to an upstream's servers, for one event loop: each carries many
/// requests at once, as many as its server's SETTINGS_MAX_CONCURRENT_STREAMS allows. A request
/// takes a stream on a connection with room; past every connection's limit another connection
/// is opened (a request is never refused for want of a stream). Requests that arrive while a
/// connection is still starting wait for its SETTINGS; those past its limit then go to another.
/// Touched only on its loop; `@unchecked Sendable` as `UpstreamPool` is.
final class HTTP2UpstreamPool: HTTP2UpstreamConnectionOwner, @unchecked Sendable {
    /// A request waiting for a stream.
    struct Waiter {
        let delegate: any HTTP2UpstreamStreamDelegate
        /// The stream, and whether it went on a connection that was already up; nil: the
        /// connection could not be made.
        let done: (HTTP2UpstreamStream?, Bool) -> Void
    }

    /// A connection, from its connect on, and the requests waiting for its SETTINGS.
    final class Slot {
        let server: Int
        var connection: HTTP2UpstreamConnection?
        var waiting: [Waiter] = []
        init(server: Int) { self.server = server }
    }

    let eventLoop: any EventLoop
    private let selector: any UpstreamSelector
    private let settings: Upstream.Settings
    private var slots: [[Slot]] = []
    private var retired = false

    init(eventLoop: any EventLoop, selector: any UpstreamSelector, settings: Upstream.Settings) {
        self.eventLoop = eventLoop
        self.selector = selector
        self.settings = settings
    }

    /// A stream to `server` for `waiter`: at once on a connection with room, else once a
    /// connection is up.
    func stream(server: Int, for waiter: Waiter) {
        eventLoop.preconditionInEventLoop()
        guard !retired else { return waiter.done(nil, false) }
        while slots.count <= server { slots.append([]) }
        for slot in slots[server] {
            if let connection = slot.connection, connection.mayOpenStream,
               let stream = connection.openStream(for: waiter.delegate) {
                waiter.done(stream, true)
                return
            }
        }
        // Its SETTINGS_MAX_CONCURRENT_STREAMS is unknown until it is up: all wait, and what is
        // past the limit then starts one more connection, not one per hundred requests.
        if let starting = slots[server].first(where: { $0.connection.map { !$0.isReady && !$0.isClosed } ?? true }) {
            starting.waiting.append(waiter)
            return
        }
        let slot = Slot(server: server)
        slot.waiting.append(waiter)
        slots[server].append(slot)
        connect(server).assumeIsolated().whenComplete { [self] result in
            let pool = self
            switch result {
            case .success(let connection):
                if pool.retired || connection.isClosed {
                    pool.remove(slot)
                    connection.close()
                    pool.failWaiters(of: slot)
                    return
                }
                slot.connection = connection
                connection.owner = pool
            case .failure:
                pool.remove(slot)
                pool.failWaiters(of: slot)
            }
        }
    }

    // MARK: HTTP2UpstreamConnectionOwner

    func connectionReady(_ connection: HTTP2UpstreamConnection) {
        guard let slot = slot(of: connection) else { return }
        let waiting = slot.waiting
        slot.waiting = []
        var overflow: [Waiter] = []
        for waiter in waiting {
            if let stream = connection.openStream(for: waiter.delegate) {
                waiter.done(stream, false)
            } else {
                overflow.append(waiter)
            }
        }
        // More waited than the server allows on one connection: they go to another.
        for waiter in overflow { stream(server: slot.server, for: waiter) }
    }

    func connectionHasRoom(_ connection: HTTP2UpstreamConnection) {}

    func connectionUnavailable(_ connection: HTTP2UpstreamConnection) {
        guard let slot = slot(of: connection) else { return }
        remove(slot)
        failWaiters(of: slot)
    }

    /// A new connection to `server`: TCP (and TLS, ALPN h2, when the upstream has it), then
    /// the connection preface and our SETTINGS; ready once the server's SETTINGS come.
    private func connect(_ server: Int) -> EventLoopFuture<HTTP2UpstreamConnection> {
        let address = selector.addresses[server]
        let prelude = settings.prelude
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(settings.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try prelude?.configure(channel)
                    try channel.pipeline.syncOperations.addHandler(HTTP2UpstreamConnection(server: server, channel: channel))
                }
            }
            .connect(host: address.host, port: address.port)
            .flatMapThrowing { channel in
                try channel.pipeline.syncOperations.handler(type: HTTP2UpstreamConnection.self)
            }
    }

    // MARK: helpers

    private func slot(of connection: HTTP2UpstreamConnection) -> Slot? {
        guard connection.server < slots.count else { return nil }
        return slots[connection.server].first { $0.connection === connection }
    }

    private func remove(_ slot: Slot) {
        guard slot.server < slots.count else { return }
        slots[slot.server].removeAll { $0 === slot }
    }

    private func failWaiters(of slot: Slot) {
        let waiting = slot.waiting
        slot.waiting = []
        for waiter in waiting { waiter.done(nil, false) }
    }

    /// After a reload: every connection finishes its streams and closes (GOAWAY); none is made.
    func retire() {
        eventLoop.preconditionInEventLoop()
        retired = true
        let all = slots.flatMap { $0 }
        slots = []
        for slot in all {
            slot.connection?.drain()
            failWaiters(of: slot)
        }
    }

    /// Open connections (for tests and metrics).
    var connectionCount: Int { slots.reduce(0) { $0 + $1.count } }
}

