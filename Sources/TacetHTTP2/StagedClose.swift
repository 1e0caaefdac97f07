import NIOCore

/// Under the HTTP/2 handler: every close it (or the connection management) asks for becomes the
/// staged close HTTP/1.1 connections make (RFC 9112 §9.6 by analogy, as nginx does for HTTP/2):
/// what is written is flushed, our FIN (over TLS, `close_notify` then FIN) goes out, and what
/// the client still sends is read and discarded until its own end, `lingerTimeout` per read and
/// `lingerTotal` in all, so that our last frames (a GOAWAY, a response) are never destroyed by
/// an RST for bytes we did not read. Before that, bytes and events pass through untouched.
final class StagedClose: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let lingerTimeout: TimeAmount
    private let lingerTotal: TimeAmount
    private var staging = false
    private var inputClosed = false
    private var timer: Scheduled<Void>?
    private var lingerUntil: NIODeadline?

    init(lingerTimeout: TimeAmount, lingerTotal: TimeAmount) {
        self.lingerTimeout = lingerTimeout
        self.lingerTotal = lingerTotal
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if staging {
            armTimer(context)  // discarded; the client is still sending
            return
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            if staging {
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if event is CloseAtOnce {
            closeAtOnce(context: context)
            promise?.succeed(())
            return
        }
        context.triggerUserOutboundEvent(event, promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, !staging else {
            context.close(mode: mode, promise: promise)
            return
        }
        if inputClosed {
            // The client has sent its FIN: nothing to linger for, but what is queued must reach
            // the socket first (a close drops writes still waiting for it). An empty write
            // completes once everything before it has; the linger total bounds the wait.
            staging = true
            lingerUntil = .now() + lingerTotal
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: lingerTotal) { context.close(promise: nil) }
            let flushed = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer())), promise: flushed)
            flushed.futureResult.assumeIsolated().whenComplete { _ in context.close(mode: .all, promise: nil) }
            promise?.succeed(())
            return
        }
        staging = true
        lingerUntil = .now() + lingerTotal
        context.flush()
        context.close(mode: .output, promise: nil)
        promise?.succeed(())
        armTimer(context)
        context.read()
    }

    /// A client that broke a limit: no staging, the socket closes once what is queued (the
    /// GOAWAY) is flushed.
    func closeAtOnce(context: ChannelHandlerContext) {
        staging = true
        context.flush()
        context.close(mode: .all, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    private func armTimer(_ context: ChannelHandlerContext) {
        guard let until = lingerUntil else { return }
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: min(.now() + lingerTimeout, until)) {
            context.close(promise: nil)
        }
    }
}

/// Sent down the pipeline to end a connection without the staged close (a client that broke
/// a limit: its unread bytes are not worth lingering for).
struct CloseAtOnce {}
