import Logging
import NIOCore
import TacetHTTP
import TacetTunnel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP/2 connection, the only handler on its channel after TLS: bytes in, bytes out.
/// `HTTP2ConnectionStateMachine` reads the frames and decides; this carries out its steps:
/// each new stream an `HTTP2StreamExchange` (a value in a table, not a channel) that answers
/// through the same routes as HTTP/1.1; every frame of a read, or of a flush outside one,
/// written into one buffer and sent as one write; DATA held per stream until the windows open;
/// the client's FIN, GOAWAY in two steps on stop, idle and timeouts on one lazy timer, and the
/// staged close (RFC 9112 §9.6 by analogy, as nginx does for HTTP/2).
final class HTTP2ServerConnection: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let listener: ListenerState
    var log: ConnectionLog
    var machine: HTTP2ConnectionStateMachine
    /// Streams whose exchange is not over, by stream identifier.
    var exchanges: [UInt32: HTTP2StreamExchange] = [:]
    /// Streams with DATA waiting for window, in the order they began to wait.
    var blocked: [HTTP2StreamExchange] = []
    /// Exchanges whose END_STREAM is in `out`: told when the write carrying it completes.
    var deliveries: [HTTP2StreamExchange] = []
    /// The frames of this flush.
    var out = ByteBuffer()
    var wroteSinceFlush = false
    /// A flush outside a read is queued for the end of the loop's turn (`flush()`).
    var flushScheduled = false
    /// A file was queued during this read: drained at its end.
    var filesQueued = false
    /// What is left of a frame that did not arrive whole.
    private var pending = PendingBytes()
    var context: ChannelHandlerContext?
    var inRead = false
    var channelWritable = true
    var requests = 0
    var endReason: ConnectionEndReason = .serverClose
    var inputClosed = false
    var closing = Closing.open
    var timer = LazyTimer()
    var idleDeadline: NIODeadline?
    var stalledDeadline: NIODeadline?
    /// Streams have waited this long for window with no WINDOW_UPDATE (`windowStallChanged`).
    var windowStalledDeadline: NIODeadline?
    var lingerUntil: NIODeadline?
    /// When the linger ends if nothing more arrives.
    var lingerNext: NIODeadline?
    /// No stream's body deadline is earlier than this (it may be stale: then the timer looks again).
    var bodyEarliest: NIODeadline?
    var countedClient: String?
    /// Our PING of the two-step GOAWAY (§6.8: the client's in-flight streams are counted in).
    static let quiescePing: UInt64 = 0x7461_6365_7432_6771

    enum Closing: Equatable {
        case open
        /// GOAWAY (2^31-1) and a PING sent; the final GOAWAY goes when the PING comes back.
        case quiescing
        /// The final GOAWAY is out: close once the streams are done.
        case goingAway
        /// Our FIN is out, the client's bytes are read and discarded until its own end.
        case lingering
        case closed
    }

    let eventLoop: any EventLoop
    let allocator: ByteBufferAllocator

    init(listener: ListenerState, logger: Logger, configuration: HTTP2ConnectionStateMachine.Configuration, channel: any Channel) {
        self.listener = listener
        eventLoop = channel.eventLoop
        allocator = channel.allocator
        let now = channel.eventLoop.now
        log = ConnectionLog(accessLog: listener.accessLog, observer: listener.observer, logger: logger, connectedAt: now)
        log.logsRequestID = listener.settings.requestID
        machine = HTTP2ConnectionStateMachine(configuration: configuration)
    }

    var settings: ServerSettings { listener.settings }

    // MARK: pipeline

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        out = context.channel.allocator.buffer(capacity: 1024)
        channelWritable = context.channel.isWritable
        if let ip = context.channel.remoteAddress?.ipAddress { log.remoteAddress = ip }
        listener.observer.connectionOpened()
        if !(settings.isTrustedProxy?(log.remoteAddress) ?? false) { countClient(log.remoteAddress) }
        machine.writeOpening(into: &out)
        moveIdleDeadline(now: context.eventLoop.now)
        if context.channel.isActive { flushOut() }
    }

    func channelActive(context: ChannelHandlerContext) {
        flushOut()
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        log.bytesIn += bytes.readableBytes
        if closing == .lingering {
            armLinger(now: context.eventLoop.now)  // discarded; the client is still sending
            return
        }
        inRead = true
        let now = context.eventLoop.now
        pending.read(&bytes, allocator: context.channel.allocator) { process(&$0, now: now) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inRead = false
        // Files queued in the read (`writeFile`) are read into frames now, their END_STREAM
        // with their last bytes.
        if filesQueued {
            filesQueued = false
            drainBlocked()
        }
        if let increment = machine.connectionCreditDue() {
            FrameEncoder.windowUpdate(&out, stream: 0, increment: increment)
        }
        flushOut()
    }

    /// Every step the bytes make, until the machine needs more.
    private func process(_ buffer: inout ByteBuffer, now: NIODeadline) {
        while closing != .closed {
            let step = machine.read(&buffer, now: now)
            if step == .needMore { return }
            perform(step, now: now)
        }
    }

    private func perform(_ step: HTTP2ConnectionStateMachine.Step, now: NIODeadline) {
        switch step {
        case .needMore:
            break
        case .settings(let windowGrew):
            FrameEncoder.settingsAck(&out)
            if windowGrew {
                drainBlocked()
                windowStallChanged(progress: true)
            }
        case .ping(let opaque):
            FrameEncoder.ping(&out, ack: true, opaque: opaque)
        case .pingAck(let opaque):
            if opaque == Self.quiescePing, closing == .quiescing { sendFinalGoAway() }
        case .head(let stream, let headers, let endStream):
            let exchange = HTTP2StreamExchange(id: stream, connection: self, start: now)
            exchanges[stream] = exchange
            idleDeadline = nil
            exchange.headReceived(headers, endStream: endStream)
        case .refused(let stream):
            FrameEncoder.rstStream(&out, stream: stream, code: .refusedStream)
        case .trailers(let stream, let block):
            if RequestHead.validTrailers(block) {
                exchanges[stream]?.trailersReceived()
            } else {
                FrameEncoder.rstStream(&out, stream: stream, code: .protocolError)
                machine.resetSent(stream)
                exchanges[stream]?.streamFailed()
            }
        case .data(let stream, let data, let endStream):
            if let exchange = exchanges[stream] {
                exchange.dataReceived(data, endStream: endStream, now: now)
            } else if let increment = machine.bodyTaken(stream, bytes: data.readableBytes) {
                FrameEncoder.windowUpdate(&out, stream: stream, increment: increment)
            }
        case .reset(let stream, _):
            exchanges[stream]?.resetByClient()
        case .windowOpened(let stream):
            if stream == 0 { drainBlocked() } else if let exchange = exchanges[stream], exchange.isBlocked { drain(exchange) }
            windowStallChanged(progress: true)
        case .streamError(let stream, let code, let reason):
            FrameEncoder.rstStream(&out, stream: stream, code: code)
            log.logger.debug("HTTP/2 stream error", metadata: ["peer": "\(log.remoteAddress)", "stream": "\(stream)",
                                                              "code": "\(code)", "reason": "\(reason)"])
            exchanges[stream]?.streamFailed()
        case .connectionError(let code, let reason, let lastStream, let flood):
            connectionError(code, reason, lastStream: lastStream, flood: flood)
        case .goAway:
            // The client opens no more streams: done once the ones it has are.
            if exchanges.isEmpty { closeStaged() }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is QuiesceEvent:
            quiesce()
        case let client as ClientAddressEvent:
            log.remoteAddress = client.ip
            countClient(client.ip)
        case ChannelEvent.inputClosed:
            clientFinished()
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        channelWritable = context.channel.isWritable
        if channelWritable {
            stalledDeadline = nil
            drainBlocked()
            windowStallChanged(progress: true)
            flushOut()
        } else {
            stalledDeadline = context.eventLoop.now + settings.sendTimeout
            moveTimer()
        }
        for exchange in Array(exchanges.values) { exchange.writabilityMayHaveChanged() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let io = error as? IOError, io.errnoCode == ECONNRESET || io.errnoCode == EPIPE {
            endReason = .clientRST
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = .closed
        timer.cancel()
        if let ip = countedClient {
            countedClient = nil
            settings.clientLimiter?.releaseConnection(ip)
        }
        let failedDeliveries = deliveries
        deliveries.removeAll()
        for exchange in failedDeliveries { exchange.endDelivered(false) }
        let remaining = Array(exchanges.values)
        exchanges.removeAll()
        blocked.removeAll()
        for exchange in remaining { exchange.connectionGone() }
        log.connectionEnded(reason: endReason, requests: requests, now: context.eventLoop.now)
        context.fireChannelInactive()
    }

    /// `connections_per_client`, as on HTTP/1.1: one over the limit gets GOAWAY and is closed.
    private func countClient(_ ip: String) {
        guard let limiter = settings.clientLimiter, limiter.settings.connectionsPerClient != nil, countedClient == nil else { return }
        if limiter.acquireConnection(ip) {
            countedClient = ip
        } else {
            listener.observer.clientLimited(limit: "connections")
            FrameEncoder.goAway(&out, lastStream: 0, code: .enhanceYourCalm, debug: "too many connections")
            closeStaged()
        }
    }
}
