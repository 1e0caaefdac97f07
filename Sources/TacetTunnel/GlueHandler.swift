import NIOCore

/// One side of a tunnel: what it reads goes to the other side's socket, and it reads only while
/// the other side can take more (NIO's GlueHandler pattern), so memory per tunnel is bounded by
/// one read plus the other channel's write watermark, whatever the two speeds.
///
/// FIN, RST and close are not handled here: they go to the `TunnelSession`, which asks the
/// state machine what to do.
package final class GlueHandler: ChannelDuplexHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = ByteBuffer
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    package let side: TunnelStateMachine.Side
    private let session: TunnelSession
    package private(set) var context: ChannelHandlerContext?
    /// A read was asked for while the partner was not writable; issue it when it is.
    private var pendingRead = false
    /// Until the session is glued (the upstream connect is in progress, or the HTTP handler is
    /// handing over) bytes and a FIN that arrive are held here; NIO reads out an early FIN's data
    /// even with autoRead off.
    private var held: [ByteBuffer] = []
    private var heldEOF = false
    private var isGlued = false

    package init(side: TunnelStateMachine.Side, session: TunnelSession) {
        self.side = side
        self.session = session
        session.attach(self)
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: inbound

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard isGlued else {
            held.append(bytes)
            return
        }
        session.forward(bytes, from: side)
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        if isGlued { session.flush(to: side.other) }
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            if isGlued { session.inputClosed(side) } else { heldEOF = true }
        }
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        session.failed(side)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        session.channelClosed(side)
    }

    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { session.becameWritable(side) }
    }

    // MARK: outbound

    package func read(context: ChannelHandlerContext) {
        if isGlued, session.isWritable(side.other) {
            context.read()
        } else {
            pendingRead = true
        }
    }

    // MARK: called by the session

    /// The partner can take bytes again: resume a read that was held back.
    func partnerBecameWritable() {
        guard pendingRead, let context else { return }
        pendingRead = false
        context.read()
    }

    /// Glued: pass on what arrived while connecting, then read.
    func startForwarding() {
        isGlued = true
        let bytes = held
        held = []
        for buffer in bytes { session.forward(buffer, from: side) }
        if !bytes.isEmpty { session.flush(to: side.other) }
        if heldEOF {
            heldEOF = false
            session.inputClosed(side)
        }
        // A read the handler before this one held back (HTTP's backpressure) is issued here.
        guard let context else { return }
        if session.isWritable(side.other) {
            pendingRead = false
            context.read()
        } else {
            pendingRead = true
        }
    }
}
