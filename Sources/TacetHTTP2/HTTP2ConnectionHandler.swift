import NIOCore
import NIOHTTP2
import TacetHTTP
import TacetTunnel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The connection's own handler, after the frame handler: its metrics and end line, Tacet's
/// graceful shutdown handed to NIO's connection management as its quiesce event (GOAWAY, PING,
/// GOAWAY with the last stream, then close once the streams are done), and the client's FIN
/// (or `close_notify`) with streams in flight passed to each as on HTTP/1.1: the route's
/// `on_client_fin` decides (serve answers, abort cancels, probe sends a 1xx). After the FIN,
/// the connection closes (staged) when its last stream ends.
final class HTTP2ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let shared: HTTP2ConnectionState
    private var endReason: ConnectionEndReason = .serverClose
    private var limitBroken = false
    private var countedClient: String?

    init(shared: HTTP2ConnectionState) { self.shared = shared }

    func handlerAdded(context: ChannelHandlerContext) {
        if let ip = context.channel.remoteAddress?.ipAddress { shared.log.remoteAddress = ip }
        shared.listener.observer.connectionOpened()
        if !(shared.listener.settings.isTrustedProxy?(shared.log.remoteAddress) ?? false) {
            countClient(shared.log.remoteAddress, context)
        }
        shared.onIdleAfterFIN = { [weak self] in
            guard self != nil else { return }
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is QuiesceEvent:
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            return
        case let client as ClientAddressEvent:
            shared.log.remoteAddress = client.ip
            countClient(client.ip, context)
        case ChannelEvent.inputClosed:
            shared.inputClosed = true
            endReason = .clientFIN
            if shared.open.isEmpty {
                context.close(promise: nil)
            } else {
                for stream in shared.open.values { stream.clientHalfClosed() }
            }
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let io = error as? IOError, io.errnoCode == ECONNRESET || io.errnoCode == EPIPE {
            endReason = .clientRST
        } else if let reason = Self.limitBroken(error) {
            // NIOHTTP2 has queued a GOAWAY (ENHANCE_YOUR_CALM or PROTOCOL_ERROR); the connection
            // ends as soon as it is out, once, with no staged close for this client.
            guard !limitBroken else { return }
            limitBroken = true
            shared.listener.observer.http2ConnectionError(reason: reason)
            shared.log.logger.info("HTTP/2 client broke a limit; connection closed", metadata: [
                "peer": "\(shared.log.remoteAddress)", "reason": "\(reason)",
            ])
            context.triggerUserOutboundEvent(CloseAtOnce(), promise: nil)
        }
        context.fireErrorCaught(error)
    }

    /// The DoS limits NIOHTTP2 enforces, by the name the metric and the log give them.
    static func limitBroken(_ error: any Error) -> String? {
        switch error {
        case is NIOHTTP2Errors.ExcessiveRSTFrames: return "rapid_reset"
        case is NIOHTTP2Errors.ExcessiveContinuationFrames: return "continuation_flood"
        case is NIOHTTP2Errors.ExcessiveEmptyDataFrames: return "empty_data_flood"
        case is NIOHTTP2Errors.ExcessiveControlFrames: return "control_frame_flood"
        case is NIOHTTP2Errors.ExcessiveStreamErrors: return "stream_errors"
        case is NIOHTTP2Errors.ExcessiveNumberOfGlitches: return "glitches"
        case is NIOHTTP2Errors.ExcessiveOutboundFrameBuffering: return "outbound_buffering"
        default: return nil
        }
    }

    /// `connections_per_client`, as on HTTP/1.1: one over the limit gets GOAWAY and is closed.
    private func countClient(_ ip: String, _ context: ChannelHandlerContext) {
        guard let limiter = shared.listener.settings.clientLimiter, limiter.settings.connectionsPerClient != nil,
              countedClient == nil else { return }
        if limiter.acquireConnection(ip) {
            countedClient = ip
        } else {
            shared.listener.observer.clientLimited(limit: "connections")
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let ip = countedClient {
            countedClient = nil
            shared.listener.settings.clientLimiter?.releaseConnection(ip)
        }
        shared.onIdleAfterFIN = nil
        shared.log.connectionEnded(reason: endReason, requests: shared.requests, now: context.eventLoop.now)
        context.fireChannelInactive()
    }
}
