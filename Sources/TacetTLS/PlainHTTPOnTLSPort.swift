import NIOCore
import TacetHTTP

/// Reads the first byte a client sends to a TLS port. A TLS client starts with a handshake
/// record (0x16); anything else is most likely plain HTTP, which gets a plain-text 400 saying
/// so (as nginx answers "The plain HTTP request was sent to HTTPS port"), then our FIN, and the
/// connection is closed when the client closes or after a short wait. The TLS handler never
/// sees those bytes. Once the first byte is TLS, this handler leaves the pipeline.
final class PlainHTTPOnTLSPort: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var refused = false
    private var closer: Scheduled<Void>?
    private let observer: any HTTPObserver

    init(observer: any HTTPObserver) {
        self.observer = observer
    }

    static let answer: String = {
        let body = "This is a TLS port: the plain HTTP request was sent to an HTTPS port.\n"
        return "HTTP/1.1 400 Bad Request\r\nServer: tacet\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
    }()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refused { return }  // discarded: the client is being told, then closed
        let bytes = unwrapInboundIn(data)
        guard let first = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) else { return }
        if first == 0x16 {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        refused = true
        observer.tlsHandshake(version: "-", outcome: "plain_http")
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: Self.answer)), promise: nil)
        // Staged, as every close of ours: FIN, then the client's FIN (or a short wait) ends it.
        context.close(mode: .output, promise: nil)
        closer = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(5)) { context.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if refused, case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closer?.cancel()
        context.fireChannelInactive()
    }
}
