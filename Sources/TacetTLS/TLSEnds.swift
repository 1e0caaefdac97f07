import Logging
import NIOCore
import NIOSSL
import NIOTLS
import TacetHTTP
import TacetTunnel

/// TLS's own ends, read for what they mean before HTTP sees them.
/// - A TCP FIN without `close_notify` first: NIOSSL raises `uncleanShutdown`, then reports the
///   input closed. That may be a truncation attack on a response, but a request its framing
///   shows whole is whole: HTTP handles it as any FIN (`inputClosed` follows), so the error is
///   not passed on, where it would end the connection and drop that client's answer.
/// - A failed handshake (no common version or cipher, a malformed ClientHello, a plain client
///   that got past the first byte): logged with the reason; the connection closes.
/// - After such a bare FIN, the last close sends our `close_notify` and FIN, then closes the
///   socket under NIOSSL: a full close through NIOSSL would wait its shutdown timeout (5 s) for
///   a `close_notify` that cannot come any more, holding the connection (and a drain on reload
///   or stop) for nothing.
final class TLSEnds: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private let logger: Logger
    /// On an upstream connection: a failed handshake (a certificate that does not verify) is an
    /// error the operator must see, logged as such with the reason; the client gets a 502.
    private let upstream: Bool
    private let observer: any HTTPObserver
    private var handshakeDone = false
    private var peerEndedUncleanly = false

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
                peerEndedUncleanly = true
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

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all, peerEndedUncleanly, let end = try? context.pipeline.syncOperations.handler(type: SocketEnd.self) {
            // Our close_notify and FIN still go out (NIOSSL sends them on an output close), then
            // the socket closes without waiting for an answer.
            let output = context.eventLoop.makePromise(of: Void.self)
            context.close(mode: .output, promise: output)
            output.futureResult.assumeIsolated().whenComplete { _ in
                end.closeNow()
                promise?.succeed(())
            }
            return
        }
        context.close(mode: mode, promise: promise)
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
