import NIOCore

/// Stops accepting while `maxConnections` connections are open, and accepts again below it,
/// like nginx's `worker_connections`. Waiting clients stay in the kernel's accept queue.
/// Sits in the listening channel's pipeline; a batch of accepts may overshoot by
/// `maxMessagesPerRead` at most.
final class ConnectionLimiter: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    /// A new limit for a listener that stays across a reload (`HTTPServer.setMaxConnections`).
    struct NewLimit: Sendable {
        var maxConnections: Int
    }

    private var maxConnections: Int
    private var open = 0
    private var readHeld = false

    init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        open += 1
        // The child closes on its own event loop; hop back to the listener's before touching state.
        let listenerLoop = context.eventLoop
        let loopBound = NIOLoopBound((self, context), eventLoop: listenerLoop)
        child.closeFuture.whenComplete { _ in
            listenerLoop.execute {
                let (limiter, context) = loopBound.value
                limiter.childClosed(context: context)
            }
        }
        context.fireChannelRead(data)
    }

    private func childClosed(context: ChannelHandlerContext) {
        open -= 1
        if readHeld && open < maxConnections {
            readHeld = false
            context.read()
        }
    }

    /// Raised: accepting resumes at once if it was held. Lowered below the open count: no
    /// connection is closed for it, accepting waits until enough have closed (as nginx's old
    /// workers finish theirs).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let limit = event as? NewLimit else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        maxConnections = limit.maxConnections
        if readHeld && open < maxConnections {
            readHeld = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if open >= maxConnections {
            readHeld = true
        } else {
            context.read()
        }
    }
}
