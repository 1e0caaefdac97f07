import NIOCore
import NIOHTTP1
import NIOPosix
import TacetHTTP

/// What an upstream connection reports to the exchange using it.
protocol UpstreamConnectionDelegate: AnyObject {
    func upstreamReceived(_ part: HTTPClientResponsePart)
    /// The connection closed, was reset, or sent bytes that are not HTTP.
    func upstreamFailed()
    func upstreamWritabilityChanged(_ writable: Bool)
    /// The end of one read: flush what was relayed.
    func upstreamReadComplete()
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
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(HTTPRequestEncoder(), name: "encoder")
                    // .forwardBytes: after a 101, bytes that came with it belong to the tunnel.
                    try sync.addHandler(ByteToMessageHandler(HTTPResponseDecoder(
                        leftOverBytesStrategy: .forwardBytes, informationalResponseStrategy: .forward)), name: "decoder")
                    try sync.addHandler(UpstreamChannelHandler(), name: "upstream")
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

    func write(_ part: HTTPClientRequestPart, flush: Bool) {
        if flush {
            channel.writeAndFlush(part, promise: nil)
        } else {
            channel.write(part, promise: nil)
        }
    }

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
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(UpstreamTunnelHandler(delegate: tunnel))
        // Removal runs at once on the channel's loop; the decoder hands on any bytes that came
        // after the 101 to the tunnel handler as it goes.
        _ = sync.removeHandler(name: "upstream")
        _ = sync.removeHandler(name: "encoder")
        _ = sync.removeHandler(name: "decoder")
    }

    func setTunnelReadsPaused(_ paused: Bool) {
        try? channel.pipeline.syncOperations.handler(type: UpstreamTunnelHandler.self).setReadsPaused(paused)
    }

    func writeRaw(_ buffer: ByteBuffer) {
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// In a tunnel: the client's FIN, passed on.
    func shutdownOutput() {
        try? channel.pipeline.syncOperations.handler(type: UpstreamTunnelHandler.self).outputShut = true
        channel.close(mode: .output, promise: nil)
    }

    /// Ends with an RST, not a FIN.
    func reset() {
        channel.setResetOnClose()
        channel.close(promise: nil)
    }

    func close() {
        guard !closed else { return }
        closed = true
        delegate = nil
        channel.close(promise: nil)
    }

    // MARK: from the channel handler

    fileprivate func received(_ part: HTTPClientResponsePart) {
        if let delegate {
            delegate.upstreamReceived(part)
        } else {
            // Bytes on an idle connection: the server is confused or closing; never reuse it.
            pool?.remove(self)
            close()
        }
    }

    fileprivate func failed() {
        let wasClosed = closed
        closed = true
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

/// The last handler of an upstream channel: hands response parts to the connection, and
/// holds reads while the client is not writable.
final class UpstreamChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    fileprivate var connection: UpstreamConnection?
    private var gate = ReadGate()
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection?.received(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        connection?.readComplete()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection?.failed()
        connection = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection?.failed()
        connection = nil
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            connection?.failed()
            connection = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection?.writabilityChanged(context.channel.isWritable)
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

/// The upstream side of a tunnel: raw bytes, FIN as an event, reads held while the client is
/// not writable.
final class UpstreamTunnelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private weak var delegate: (any UpstreamTunnelDelegate)?
    private var sawFIN = false
    private var sawError = false
    /// We sent our FIN: NIO then reports the upstream's FIN as the channel closing.
    var outputShut = false
    private var gate = ReadGate()
    private var context: ChannelHandlerContext?

    init(delegate: any UpstreamTunnelDelegate) {
        self.delegate = delegate
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        delegate?.upstreamTunnelBytes(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            sawFIN = true
            delegate?.upstreamTunnelFIN()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        sawError = true
        delegate?.upstreamTunnelFailed()
        delegate = nil
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !sawFIN {
            if outputShut && !sawError {
                // After our FIN, NIO reports the upstream's FIN as the channel closing.
                delegate?.upstreamTunnelFIN()
            } else {
                delegate?.upstreamTunnelFailed()
            }
        }
        delegate = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamTunnelWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        gate.read(context)
    }

    func setReadsPaused(_ paused: Bool) {
        gate.setPaused(paused, context)
    }
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
