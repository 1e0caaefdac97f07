import Logging
import NIOCore
import NIOSSL
import NIOTLS
import TacetHTTP

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
    /// On an upstream connection: a failed handshake (a certificate that does not verify) is an
    /// error the operator must see, logged as such with the reason; the client gets a 502.
    private let upstream: Bool
    private let observer: any HTTPObserver
    private var handshakeDone = false

    init(logger: Logger, upstream: Bool = false, observer: any HTTPObserver = NoObserver()) {
        self.logger = logger
        self.upstream = upstream
        self.observer = observer
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
                handshakeFailed(context, reason: "\(reasons)")
                return
            default:
                break
            }
        }
        if !handshakeDone {
            handshakeFailed(context, reason: "\(error)")
            return
        }
        context.fireErrorCaught(error)
    }

    private func handshakeFailed(_ context: ChannelHandlerContext, reason: String) {
        let metadata: Logger.Metadata = ["peer": "\(Self.peer(context))", "reason": "\(reason)"]
        if upstream {
            logger.error("upstream TLS handshake failed", metadata: metadata)
            // Passed on: the upstream connection reports the failure to its request (502).
            context.fireErrorCaught(TLSHandshakeFailure(reason: reason))
        } else {
            logger.info("TLS handshake failed", metadata: metadata)
            observer.tlsHandshake(version: "-", outcome: "failed")
        }
        context.close(promise: nil)
    }

    private static func peer(_ context: ChannelHandlerContext) -> String {
        context.channel.remoteAddress.map { "\($0)" } ?? "-"
    }
}

/// A TLS handshake that failed, with the reason BoringSSL gave.
public struct TLSHandshakeFailure: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { "TLS handshake failed: \(reason)" }
}
