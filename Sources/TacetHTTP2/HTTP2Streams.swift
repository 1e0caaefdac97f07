import NIOCore
import NIOHTTP2

/// The streams of one HTTP/2 connection, last in its pipeline: NIOHTTP2 runs without a
/// multiplexer (frames stay on the connection, a stream is an `HTTP2StreamExchange` value, not a
/// child channel), so this hands each frame to its stream, writes what streams write, and gives
/// flow-control credit back as routes take the body: the connection's at once, a stream's when
/// its route is not paused.
final class HTTP2Streams: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let shared: HTTP2ConnectionState
    /// The connection window we open at the start (the protocol's default is 64 KiB).
    private let connectionWindow: Int
    private var streams: [HTTP2StreamID: HTTP2StreamExchange] = [:]
    private var context: ChannelHandlerContext?
    private var connectionCredit = 0
    private var windowOpened = false
    private var inRead = false
    private var flushPending = false
    private(set) var allocator = ByteBufferAllocator()
    private(set) var parentWritable = true

    init(shared: HTTP2ConnectionState, connectionWindow: Int) {
        self.shared = shared
        self.connectionWindow = connectionWindow
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        allocator = context.channel.allocator
        parentWritable = context.channel.isWritable
        if context.channel.isActive { openConnectionWindow(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelActive(context: ChannelHandlerContext) {
        openConnectionWindow(context)
        context.fireChannelActive()
    }

    private func openConnectionWindow(_ context: ChannelHandlerContext) {
        guard !windowOpened else { return }
        windowOpened = true
        let increment = connectionWindow - 65_535
        if increment > 0 {
            context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment))),
                                  promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.streamID != .rootStream else { return }
        inRead = true
        switch frame.payload {
        case .headers:
            if let stream = streams[frame.streamID] {
                stream.receive(frame.payload)
            } else {
                let stream = HTTP2StreamExchange(id: frame.streamID, connection: shared, streams: self, eventLoop: context.eventLoop)
                streams[frame.streamID] = stream
                stream.receive(frame.payload)
            }
        case .data(let data):
            connectionCredit += data.data.readableBytes + (data.paddingBytes ?? 0)
            streams[frame.streamID]?.receive(frame.payload)
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inRead = false
        if connectionCredit >= 32 * 1024 {
            context.write(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: connectionCredit))),
                          promise: nil)
            connectionCredit = 0
            flushPending = true
        }
        for stream in streams.values where stream.creditOwed >= 16 * 1024 && stream.mayTakeCredit {
            giveCredit(stream, context)
        }
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let closed = event as? StreamClosedEvent, let stream = streams.removeValue(forKey: closed.streamID) {
            stream.closed(connectionGone: false)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        parentWritable = context.channel.isWritable
        for stream in streams.values { stream.parentWritabilityChanged() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let remaining = streams.values
        streams.removeAll()
        for stream in remaining { stream.closed(connectionGone: true) }
        context.fireChannelInactive()
    }

    // MARK: for the streams

    func write(_ id: HTTP2StreamID, _ payload: HTTP2Frame.FramePayload, promise: EventLoopPromise<Void>? = nil) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: payload)), promise: promise)
    }

    /// Inside a read, one flush at its end covers every stream's writes.
    func flush() {
        if inRead {
            flushPending = true
        } else {
            context?.flush()
        }
    }

    /// A resumed stream's credit, at once.
    func sendCredit(for stream: HTTP2StreamExchange) {
        guard let context, stream.creditOwed > 0, stream.mayTakeCredit else { return }
        giveCredit(stream, context)
        flush()
    }

    private func giveCredit(_ stream: HTTP2StreamExchange, _ context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(HTTP2Frame(streamID: stream.id, payload: .windowUpdate(windowSizeIncrement: stream.creditOwed))),
                      promise: nil)
        stream.creditOwed = 0
        flushPending = true
    }
}
