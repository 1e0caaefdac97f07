import NIOCore

/// The only handler of an upstream channel: writes request bytes, parses the response into
/// events for the connection, and holds reads while the client is not writable. After a 101 it
/// hands the channel to the tunnel's glue and leaves the pipeline.
///
/// Bytes are a response's only between a request's head going out and that response's end.
/// Anything else (more bytes after a Content-Length body, the final chunk, a 204, 304 or HEAD
/// response; bytes while idle in the pool) is the server's error, never the next request's
/// answer: the connection is closed and the event reported (`UpstreamReport.extraBytes`).
final class UpstreamChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var connection: UpstreamConnection?
    private var parser = UpstreamResponseParser()
    /// Bytes received but not yet parsed (a response cut across reads).
    private var pending: ByteBuffer?
    private var gate = ReadGate()
    private var context: ChannelHandlerContext?
    /// A request went out and its response has not ended.
    private var awaitingResponse = false
    /// Between a `channelRead` and its `channelReadComplete`: a connection let go now is pooled
    /// only when the read is handled completely.
    private(set) var isReading = false

    /// After a 101: the glue after this handler takes the channel; this one leaves at the end
    /// of the read that brought the 101's end.
    private var handedOver = false

    init() {}

    func requestSent(isHEAD: Bool) {
        parser.requestIsHEAD = isHEAD
        awaitingResponse = true
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Bytes for the upstream. Without a context the channel is gone, and so would be the write.
    func send(_ buffer: ByteBuffer, flush: Bool) {
        guard let context else { return }
        if flush {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        } else {
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
    }

    func flush() {
        context?.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        isReading = true
        guard let connection else { return }  // closing: nothing here is anyone's
        guard awaitingResponse else {
            extraBytes(buffer.readableBytes)
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
                connection.report.badResponse(error.reason, closedEarly: false)
                fail(context)
                return
            }
            guard let event else { break }
            if case .end = event, !parser.isSwitched { awaitingResponse = false }
            let taken = connection.received(event)
            if handedOver {
                // The 101 is done: what came with it is the tunnel's, and so is the channel.
                self.connection = nil
                if buffer.readableBytes > 0 { context.fireChannelRead(NIOAny(buffer)) }
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                return
            }
            if !awaitingResponse && buffer.readableBytes > 0 {
                // The response is whole: what follows in this read answers no request.
                extraBytes(buffer.readableBytes)
                return
            }
            guard taken else {
                self.connection = nil
                return
            }
            if !awaitingResponse { return }
        }
        if buffer.readableBytes > 0 { pending = buffer }
    }

    private func extraBytes(_ count: Int) {
        connection?.extraBytes(count)
        connection = nil
        pending = nil
    }

    private func fail(_ context: ChannelHandlerContext) {
        connection?.failed()
        connection = nil
        context.close(promise: nil)
    }

    func handOver() {
        handedOver = true
        // A read held back for the client's sake would be lost with this handler: the glue
        // does its own backpressure from here.
        setReadsPaused(false)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        isReading = false
        connection?.readHandled()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection?.failed()
        connection = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if awaitingResponse, let connection {
            connection.report.badResponse("\(error)", closedEarly: true)
        }
        connection?.failed()
        connection = nil
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { inputClosed(context) }
        context.fireUserInboundEventTriggered(event)
    }

    /// The upstream's FIN: the end of a close-delimited body; inside any other response, its cut.
    private func inputClosed(_ context: ChannelHandlerContext) {
        if let connection, awaitingResponse {
            do {
                if let end = try parser.inputClosed(pending: pending ?? ByteBuffer()) {
                    awaitingResponse = false
                    _ = connection.received(end)
                }
            } catch {
                connection.report.badResponse(error.reason, closedEarly: true)
            }
        }
        pending = nil
        connection?.failed()
        connection = nil
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection?.writabilityChanged(context.channel.isWritable)
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
