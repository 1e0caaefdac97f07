import NIOCore
import NIOPosix
import TacetHTTP
import TacetTunnel

/// What an upstream connection reports to the exchange using it.
protocol UpstreamConnectionDelegate: AnyObject {
    func upstreamReceived(_ event: UpstreamResponseParser.Event)
    /// The connection closed, was reset, or sent bytes that are not HTTP.
    func upstreamFailed()
    func upstreamWritabilityChanged(_ writable: Bool)
    /// The end of one read: flush what was relayed.
    func upstreamReadComplete()
}

/// Who is told when the upstream stays silent past the read deadline.
protocol UpstreamReadTimeoutDelegate: AnyObject {
    func upstreamReadTimedOut()
}

/// One HTTP/1.1 connection to an upstream server, on a client connection's event loop: serving
/// one exchange at a time, or idle in its loop's pool. Only touched on that loop.
final class UpstreamConnection {
    let channel: any Channel
    let server: Int
    private let handler: UpstreamChannelHandler
    private weak var pool: UpstreamPool?
    /// The exchange using the connection; nil while idle.
    private var delegate: (any UpstreamConnectionDelegate)?
    private var closed = false
    /// Released for reuse inside a read: pooled once that read is handled completely.
    private var parkedIn: UpstreamPool?
    let report: UpstreamReport

    /// The read deadline of the exchange using the connection, and one task per connection that
    /// is moved lazily: a request on a kept-alive connection only writes a new deadline; nothing
    /// is scheduled or cancelled per request. Cleared (target released) when the exchange lets go.
    private var readTimer = LazyTimer()
    private var readTimeoutTarget: (any UpstreamReadTimeoutDelegate)?
    /// The last request head handed to NIO: the next head reuses its storage (`headBuffer`).
    private var spare = SpareBuffer()

    init(channel: any Channel, server: Int, handler: UpstreamChannelHandler, report: UpstreamReport) {
        self.channel = channel
        self.server = server
        self.handler = handler
        self.report = report
        handler.connection = self
    }

    /// Connects on `eventLoop` (the client connection's loop).
    static func connect(host: String, port: Int, server: Int, on eventLoop: any EventLoop,
                        timeout: TimeAmount, prelude: (any ConnectionPrelude)?,
                        report: UpstreamReport) -> EventLoopFuture<UpstreamConnection> {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            // A FIN from the upstream arrives as an event: in a tunnel it is passed on, not an end.
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try prelude?.configure(channel)
                    try channel.pipeline.syncOperations.addHandler(UpstreamChannelHandler(), name: "upstream")
                }
            }
            .connect(host: host, port: port)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamChannelHandler.self)
                return UpstreamConnection(channel: channel, server: server, handler: handler, report: report)
            }
    }

    /// Open, idle-clean, and not closed by the server while it waited in the pool.
    var isReusable: Bool { !closed && channel.isActive }

    func attach(_ delegate: any UpstreamConnectionDelegate) {
        self.delegate = delegate
        pool = nil
        handler.setReadsPaused(false)
    }

    /// The exchange lets go after its response: into `pool` when `reuse`, else closed. Inside a
    /// read the choice waits until that read is handled completely (`readHandled`): bytes later in
    /// it belong to no request, and a connection that sent any is closed, never pooled.
    func release(reuse: Bool, to pool: UpstreamPool?) {
        delegate = nil
        clearReadDeadline()
        guard reuse, let pool, !closed else {
            close()
            return
        }
        if handler.isReading {
            parkedIn = pool
        } else if !pool.put(self) {
            close()
        }
    }

    func becameIdle(in pool: UpstreamPool) {
        delegate = nil
        self.pool = pool
    }

    /// Sends a request head (already serialised); the response parser learns whether it was HEAD.
    func writeHead(_ buffer: ByteBuffer, isHEAD: Bool, flush: Bool) {
        handler.requestSent(isHEAD: isHEAD)
        write(buffer, flush: flush)
        spare.keep(buffer)
    }

    /// An empty buffer for a request head, on the last head's storage when NIO is done with it.
    func headBuffer(capacity: Int) -> ByteBuffer {
        spare.take(capacity: capacity, allocator: channel.allocator)
    }

    /// Written from the connection's handler, not the channel's tail: one pipeline step less.
    func write(_ buffer: ByteBuffer, flush: Bool) {
        handler.send(buffer, flush: flush)
    }

    func flush() {
        handler.flush()
    }

    var allocator: ByteBufferAllocator { channel.allocator }

    var isWritable: Bool { channel.isWritable }

    /// Stop reading the response while the client is not taking it (backpressure downstream).
    func setReadsPaused(_ paused: Bool) {
        handler.setReadsPaused(paused)
    }

    /// After a 101: the connection stops speaking HTTP and is never pooled again. `glue` takes
    /// the handler's place; bytes that came with the 101's end are passed on to it.
    func handOver(to glue: any ChannelHandler) throws {
        try channel.pipeline.syncOperations.addHandler(glue, position: .after(handler))
        closed = true
        delegate = nil
        stopReadTimer()
        handler.handOver()
    }

    func setReadDeadline(_ deadline: NIODeadline, for target: any UpstreamReadTimeoutDelegate) {
        readTimeoutTarget = target
        readTimer.move(to: deadline, schedule: scheduleReadTimer)
    }

    func clearReadDeadline() {
        readTimer.move(to: nil, schedule: scheduleReadTimer)
        readTimeoutTarget = nil
    }

    private func scheduleReadTimer(at deadline: NIODeadline) -> Scheduled<Void> {
        channel.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            guard readTimer.fired(now: .now(), schedule: scheduleReadTimer) else { return }
            let target = readTimeoutTarget
            readTimeoutTarget = nil
            target?.upstreamReadTimedOut()
        }
    }

    private func stopReadTimer() {
        readTimer.cancel()
        readTimeoutTarget = nil
    }

    /// Ends with an RST, not a FIN.
    func reset() {
        stopReadTimer()
        channel.resetNow()
    }

    func close() {
        stopReadTimer()
        parkedIn = nil
        guard !closed else { return }
        closed = true
        delegate = nil
        pool?.remove(self)
        pool = nil
        channel.close(promise: nil)
    }

    var isClosed: Bool { closed }

    // MARK: from the channel handler

    /// False when no exchange took it (it let go, or was cancelled): the connection closes.
    func received(_ event: UpstreamResponseParser.Event) -> Bool {
        guard let delegate else {
            close()
            return false
        }
        delegate.upstreamReceived(event)
        return !closed
    }

    /// Bytes that belong to no response: whatever they are, they must never answer a request.
    func extraBytes(_ count: Int) {
        report.extraBytes(count)
        failed()
    }

    func failed() {
        let wasClosed = closed
        closed = true
        parkedIn = nil
        stopReadTimer()
        pool?.remove(self)
        pool = nil
        if let delegate {
            self.delegate = nil
            delegate.upstreamFailed()
        }
        if !wasClosed { channel.close(promise: nil) }
    }

    /// The read is handled completely: flush what was relayed, and pool a connection let go
    /// during it (nothing came after its response).
    func readHandled() {
        delegate?.upstreamReadComplete()
        if let pool = parkedIn {
            parkedIn = nil
            if closed || !pool.put(self) { close() }
        }
    }

    func writabilityChanged(_ writable: Bool) {
        delegate?.upstreamWritabilityChanged(writable)
    }
}

