import NIOCore

/// On a plain listener with `http2: true`: reads until the first bytes tell the HTTP/2
/// connection preface (`PRI * HTTP/2.0...`) from an HTTP/1.1 request line, then installs the
/// protocol and passes on what it read (and an early FIN) to it. A client that sends nothing
/// within `timeout` is closed. 24 bytes at most are held.
final class PrefaceSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let preface = ConnectionPreface.bytes

    private let timeout: TimeAmount
    private let install: (any Channel, Bool) throws -> Void
    private var buffered: ByteBuffer?
    private var inputClosed = false
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, install: @escaping (any Channel, Bool) throws -> Void) {
        self.timeout = timeout
        self.install = install
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { context.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if buffered == nil { buffered = bytes } else { buffered?.writeBuffer(&bytes) }
        decide(context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            decide(context, atEnd: true)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func decide(_ context: ChannelHandlerContext, atEnd: Bool = false) {
        let seen = buffered.map { Array($0.readableBytesView.prefix(Self.preface.count)) } ?? []
        let isPrefix = seen == Array(Self.preface.prefix(seen.count))
        // Undecided while what came is a strict prefix of the preface (and more may come).
        if isPrefix && seen.count < Self.preface.count && !atEnd { return }
        let isHTTP2 = isPrefix && seen.count == Self.preface.count
        timer?.cancel()
        do {
            try install(context.channel, isHTTP2)
        } catch {
            context.close(promise: nil)
            return
        }
        let bytes = buffered
        buffered = nil
        // What was read goes to the protocol now after this handler, then this handler leaves.
        if let bytes { context.fireChannelRead(wrapInboundOut(bytes)) }
        context.fireChannelReadComplete()
        if inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
