import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// A handshake that has not finished within `timeout` ends the connection (a client that
/// connects and says nothing, or too slowly, holds no slot for long), with the reason logged.
final class TLSHandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private let logger: Logger
    private var task: Scheduled<Void>?

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if task == nil { arm(context) }
        context.fireChannelActive()
    }

    private func arm(_ context: ChannelHandlerContext) {
        let logger = self.logger
        let timeout = self.timeout
        task = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            logger.info("TLS handshake timed out", metadata: [
                "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "-")",
                "timeout_ms": "\(timeout.nanoseconds / 1_000_000)",
            ])
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            task?.cancel()
            task = nil
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        task = nil
        context.fireChannelInactive()
    }
}
