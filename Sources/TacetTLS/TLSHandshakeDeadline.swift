#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import TacetHTTP

/// A handshake that has not finished within `timeout` ends the connection (a client that
/// connects and says nothing, or too slowly, holds no slot for long), with the reason logged.
final class TLSHandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private let logger: Logger
    private let observer: any HTTPObserver
    private var task: Scheduled<Void>?

    init(timeout: TimeAmount, logger: Logger, observer: any HTTPObserver) {
        self.timeout = timeout
        self.logger = logger
        self.observer = observer
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
        let observer = self.observer
        task = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            observer.tlsHandshake(version: "-", outcome: "timeout")
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
            let version = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).tlsVersion
            observer.tlsHandshake(version: version.flatMap { $0 }.map(Self.name) ?? "-", outcome: "ok")
            // BoringSSL sends its TLS 1.3 session tickets before the client's Finished, so nothing
            // would carry the ACK of that Finished until the delayed-ACK timer: a client with
            // Nagle's algorithm on holds its first request that long (40 ms). ACK it now.
            Self.quickAck(context.channel)
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

    /// TCP_QUICKACK: Linux sends an ACK it was delaying at once.
    static func quickAck(_ channel: any Channel) {
        #if os(Linux)
        let option = ChannelOptions.Types.SocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_TCP)), name: NIOBSDSocket.Option(rawValue: CInt(TCP_QUICKACK)))
        try? channel.syncOptions?.setOption(option, value: 1)
        #endif
    }

    static func name(_ version: TLSVersion) -> String {
        switch version {
        case .tlsv13: return "1.3"
        case .tlsv12: return "1.2"
        case .tlsv11: return "1.1"
        case .tlsv1: return "1.0"
        }
    }
}
