import NIOCore
import NIOPosix
import TacetHTTP

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

    /// The read deadline of the exchange using the connection, and one task per connection that
    /// is moved lazily: a request on a kept-alive connection only writes a new deadline; nothing
    /// is scheduled or cancelled per request. Cleared (target released) when the exchange lets go.
    private var readTimer = LazyTimer()
    private var readTimeoutTarget: (any UpstreamReadTimeoutDelegate)?
    /// The last request head handed to NIO: the next head reuses its storage (`headBuffer`).
    private var spare = SpareBuffer()

    private init(channel: any Channel, server: Int, handler: UpstreamChannelHandler) {
        self.channel = channel
        self.server = server
        self.handler = handler
    }

    /// Connects on `eventLoop` (the client connection's loop).
    static func connect(host: String, port: Int, server: Int, on eventLoop: any EventLoop,
                        timeout: TimeAmount) -> EventLoopFuture<UpstreamConnection> {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            // A FIN from the upstream arrives as an event: in a tunnel it is passed on, not an end.
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpstreamChannelHandler(), name: "upstream")
                }
            }
            .connect(host: host, port: port)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamChannelHandler.self)
                let connection = UpstreamConnection(channel: channel, server: server, handler: handler)
                handler.connection = connection
                return connection
            }
    }

    /// Open, idle-clean, and not closed by the server while it waited in the pool.
    var isReusable: Bool { !closed && channel.isActive }

    func attach(_ delegate: any UpstreamConnectionDelegate) {
        self.delegate = delegate
        pool = nil
        handler.setReadsPaused(false)
    }

    func detach() {
        delegate = nil
    }

    func becameIdle(in pool: UpstreamPool) {
        delegate = nil
        self.pool = pool
    }

    /// Sends a request head (already serialised); the response parser learns whether it was HEAD.
    func writeHead(_ buffer: ByteBuffer, isHEAD: Bool, flush: Bool) {
        handler.requestIsHEAD = isHEAD
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

    /// After a 101: stop speaking HTTP on this connection; bytes and FIN go to `tunnel`.
    /// The connection is never pooled again.
    func switchToTunnel(_ tunnel: any UpstreamTunnelDelegate) throws {
        closed = true  // never reusable
        delegate = nil
        handler.connection = nil
        // The handler stops parsing; bytes after the 101 (and all that follow) go to `tunnel`.
        handler.switchToTunnel(tunnel)
    }

    func setTunnelReadsPaused(_ paused: Bool) {
        handler.setReadsPaused(paused)
    }

    func writeRaw(_ buffer: ByteBuffer) {
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// In a tunnel: the client's FIN, passed on.
    func shutdownOutput() {
        handler.outputShut = true
        channel.close(mode: .output, promise: nil)
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
        channel.setResetOnClose()
        channel.close(promise: nil)
    }

    func close() {
        stopReadTimer()
        guard !closed else { return }
        closed = true
        delegate = nil
        channel.close(promise: nil)
    }

    // MARK: from the channel handler

    /// Serving no exchange (idle in the pool, or between release and close).
    fileprivate var isIdle: Bool { delegate == nil }

    /// Bytes that no request asked for: the server is confused or closing; never reuse it.
    fileprivate func unexpectedBytes() {
        pool?.remove(self)
        close()
    }

    /// False when nobody took it: the connection is being closed.
    fileprivate func received(_ event: UpstreamResponseParser.Event) -> Bool {
        if let delegate {
            delegate.upstreamReceived(event)
            return true
        } else {
            // Bytes on an idle connection: the server is confused or closing; never reuse it.
            pool?.remove(self)
            close()
            return false
        }
    }

    fileprivate func failed() {
        let wasClosed = closed
        closed = true
        stopReadTimer()
        pool?.remove(self)
        pool = nil
        if let delegate {
            self.delegate = nil
            delegate.upstreamFailed()
        }
        if !wasClosed { channel.close(promise: nil) }
    }

    fileprivate func readComplete() {
        delegate?.upstreamReadComplete()
    }

    fileprivate func writabilityChanged(_ writable: Bool) {
        delegate?.upstreamWritabilityChanged(writable)
    }
}

/// The only handler of an upstream channel: writes request bytes, parses the response into
/// events for the connection, and holds reads while the client is not writable. After a 101 it
/// stops parsing and passes bytes (and the FIN) to the tunnel.
final class UpstreamChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    fileprivate var connection: UpstreamConnection?
    private var parser = UpstreamResponseParser()
    /// Bytes received but not yet parsed (a response cut across reads).
    private var pending: ByteBuffer?
    private var gate = ReadGate()
    private var context: ChannelHandlerContext?

    // Tunnel mode.
    private weak var tunnel: (any UpstreamTunnelDelegate)?
    private var tunnelling = false
    private var sawFIN = false
    private var sawError = false
    /// We sent our FIN: NIO then reports the upstream's FIN as the channel closing.
    fileprivate var outputShut = false

    fileprivate var requestIsHEAD: Bool {
        get { parser.requestIsHEAD }
        set { parser.requestIsHEAD = newValue }
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Bytes for the upstream. Without a context the channel is gone, and so would be the write.
    fileprivate func send(_ buffer: ByteBuffer, flush: Bool) {
        guard let context else { return }
        if flush {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        } else {
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
    }

    fileprivate func flush() {
        context?.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if tunnelling {
            tunnel?.upstreamTunnelBytes(buffer)
            return
        }
        if var held = pending {
            pending = nil
            held.writeBuffer(&buffer)
            buffer = held
        }
        while true {
            let event: UpstreamResponseParser.Event?
            do {
                event = try parser.next(&buffer)
            } catch {
                fail(context)
                return
            }
            guard let event else { break }
            guard let connection, connection.received(event) else { return }
            if tunnelling {
                // The 101 is done: what came with it is the tunnel's.
                if buffer.readableBytes > 0 { tunnel?.upstreamTunnelBytes(buffer) }
                return
            }
        }
        guard buffer.readableBytes > 0 else { return }
        if let connection, connection.isIdle {
            // Part of a response nobody asked for: kept, it would answer the next request.
            connection.unexpectedBytes()
            self.connection = nil
            return
        }
        pending = buffer
    }

    private func fail(_ context: ChannelHandlerContext) {
        connection?.failed()
        connection = nil
        context.close(promise: nil)
    }

    fileprivate func switchToTunnel(_ delegate: any UpstreamTunnelDelegate) {
        tunnel = delegate
        tunnelling = true
        connection = nil
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        connection?.readComplete()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if tunnelling {
            if !sawFIN {
                if outputShut && !sawError {
                    // After our FIN, NIO reports the upstream's FIN as the channel closing.
                    tunnel?.upstreamTunnelFIN()
                } else {
                    tunnel?.upstreamTunnelFailed()
                }
            }
            tunnel = nil
        } else {
            connection?.failed()
            connection = nil
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if tunnelling {
            sawError = true
            tunnel?.upstreamTunnelFailed()
            tunnel = nil
        } else {
            connection?.failed()
            connection = nil
        }
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            if tunnelling {
                sawFIN = true
                tunnel?.upstreamTunnelFIN()
            } else {
                // A close-delimited body ends here; anywhere else the response was cut short.
                let empty = context.channel.allocator.buffer(capacity: 0)
                if let end = try? parser.inputClosed(pending: pending ?? empty), let connection {
                    _ = connection.received(end)
                }
                pending = nil
                connection?.failed()
                connection = nil
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if tunnelling {
            tunnel?.upstreamTunnelWritabilityChanged(context.channel.isWritable)
        } else {
            connection?.writabilityChanged(context.channel.isWritable)
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        gate.read(context)
    }

    fileprivate func setReadsPaused(_ paused: Bool) {
        gate.setPaused(paused, context)
    }
}

/// What a tunnelled upstream connection reports.
protocol UpstreamTunnelDelegate: AnyObject {
    func upstreamTunnelBytes(_ buffer: ByteBuffer)
    func upstreamTunnelFIN()
    /// Reset, or closed without a FIN first.
    func upstreamTunnelFailed()
    func upstreamTunnelWritabilityChanged(_ writable: Bool)
}

/// Backpressure on one channel: while paused, a `read` is held instead of passed on, and the
/// held one goes out on resume.
struct ReadGate {
    private var paused = false
    private var held = false

    mutating func read(_ context: ChannelHandlerContext) {
        if paused {
            held = true
        } else {
            context.read()
        }
    }

    mutating func setPaused(_ paused: Bool, _ context: ChannelHandlerContext?) {
        self.paused = paused
        if !paused && held, let context {
            held = false
            context.read()
        }
    }
}
