import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// TLS's own ends, read for what they mean before HTTP sees them.
/// - A TCP FIN without `close_notify` first: NIOSSL raises `uncleanShutdown`, then reports the
///   input closed. That may be a truncation attack on a response, but a request its framing
///   shows whole is whole: HTTP handles it as any FIN (`inputClosed` follows), so the error is
///   not passed on, where it would end the connection and drop that client's answer.
/// - A failed handshake (no common version or cipher, a malformed ClientHello, a plain client
///   that got past the first byte): logged with the reason; the connection closes.
final class TLSEnds: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let logger: Logger
    private var handshakeDone = false

    init(logger: Logger) {
        self.logger = logger
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { handshakeDone = true }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let tls = error as? NIOSSLError {
            switch tls {
            case .uncleanShutdown:
                logger.debug("TLS: FIN without close_notify", metadata: ["peer": "\(Self.peer(context))"])
                return
            case .handshakeFailed(let reasons):
                logger.info("TLS handshake failed", metadata: [
                    "peer": "\(Self.peer(context))", "reason": "\(reasons)",
                ])
                context.close(promise: nil)
                return
            default:
                break
            }
        }
        if !handshakeDone {
            logger.info("TLS handshake failed", metadata: ["peer": "\(Self.peer(context))", "reason": "\(error)"])
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    private static func peer(_ context: ChannelHandlerContext) -> String {
        context.channel.remoteAddress.map { "\($0)" } ?? "-"
    }
}
