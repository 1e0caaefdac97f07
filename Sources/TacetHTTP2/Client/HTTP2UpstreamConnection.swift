import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOTLS
import TacetHTTP
import TacetTunnel

/// Who keeps an upstream connection (the proxy's per-loop pool) and hears when it can take
/// streams, and when it no longer can.
package protocol HTTP2UpstreamConnectionOwner: AnyObject {
    /// The server's SETTINGS came: streams may be opened, up to its SETTINGS_MAX_CONCURRENT_STREAMS.
    func connectionReady(_ connection: HTTP2UpstreamConnection)
    /// A stream ended: there may be room for another.
    func connectionHasRoom(_ connection: HTTP2UpstreamConnection)
    /// GOAWAY came, or the connection closed: no more streams on it.
    func connectionUnavailable(_ connection: HTTP2UpstreamConnection)
}

/// One HTTP/2 connection to an upstream server (issue #22): the client role of Tacet's own
/// HTTP/2, the same frame codec and connection machine as the server side. Many proxied
/// requests share it, each an `HTTP2UpstreamStream` up to the server's
/// SETTINGS_MAX_CONCURRENT_STREAMS; every frame of a read, or of an event-loop turn outside
/// one, leaves in one write. Lives on the event loop of the client connections that use it.
package final class HTTP2UpstreamConnection: ChannelInboundHandler, RemovableChannelHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    /// What the client side advertises to upstreams: each stream's window bounds what a slow
    /// client can make Tacet hold of one response.
    package struct Limits: Sendable {
        package var initialWindowSize = 256 * 1024
        package var connectionWindowSize = 4 << 20
        package var maxHeaderListSize = 64 * 1024
        package init() {}
    }

    package let server: Int
    package weak var owner: (any HTTP2UpstreamConnectionOwner)?
    var machine: HTTP2ConnectionStateMachine
    var streams: [UInt32: HTTP2UpstreamStream] = [:]
    /// Streams with request DATA waiting for window, in the order they began to wait.
    var blocked: [HTTP2UpstreamStream] = []
    var out = ByteBuffer()
    var wroteSinceFlush = false
    var flushScheduled = false
    private var pending = PendingBytes()
    var context: ChannelHandlerContext?
    var inRead = false
    var channelWritable = true
    private var openingSent = false
    private var timer = LazyTimer()
    /// The server's first SETTINGS came in this read: the owner hears at its end.
    private var becameReady = false
    package private(set) var isReady = false
    package private(set) var isClosed = false
    /// No new streams (GOAWAY either way, or retired): closed once the last stream ends.
    package private(set) var isDraining = false
    /// Streams that received frames in this read, told at its end.
    private var readers: [HTTP2UpstreamStream] = []
    let allocator: ByteBufferAllocator
    let eventLoop: any EventLoop

    package init(server: Int, limits: Limits = Limits(), channel: any Channel) {
        self.server = server
        allocator = channel.allocator
        eventLoop = channel.eventLoop
        var configuration = HTTP2ConnectionStateMachine.Configuration()
        configuration.role = .client
        configuration.initialWindowSize = limits.initialWindowSize
        configuration.connectionWindowSize = limits.connectionWindowSize
        configuration.maxHeaderListSize = limits.maxHeaderListSize
        machine = HTTP2ConnectionStateMachine(configuration: configuration, allocator: allocator)
    }

    /// Another stream may be opened now.
    package var mayOpenStream: Bool { !isClosed && !isDraining && isReady && machine.mayOpenStream }

    package var activeStreams: Int { streams.count }

    /// A stream for one request, or nil when the connection has no room (see `mayOpenStream`).
    package func openStream(for delegate: any HTTP2UpstreamStreamDelegate) -> HTTP2UpstreamStream? {
        guard mayOpenStream, let id = machine.openStream() else { return nil }
        let stream = HTTP2UpstreamStream(id: id, connection: self, delegate: delegate)
        streams[id] = stream
        return stream
    }

    /// No new streams; GOAWAY, and the connection closes once its streams are done (a reload).
    package func drain() {
        guard !isClosed, !isDraining else { return }
        isDraining = true
        FrameEncoder.goAway(&out, lastStream: 0, code: .noError)
        if streams.isEmpty { close() } else { flush() }
    }

    // MARK: pipeline

    package func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        channelWritable = context.channel.isWritable
        if context.channel.isActive { sendOpening() }
    }

    package func channelActive(context: ChannelHandlerContext) {
        sendOpening()
        context.fireChannelActive()
    }

    private func sendOpening() {
        guard !openingSent else { return }
        openingSent = true
        machine.writeOpening(into: &out)
        flushOut()
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        timer.cancel()
        self.context = nil
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        inRead = true
        let now = context.eventLoop.now
        pending.read(&bytes, allocator: context.channel.allocator) { process(&$0, now: now) }
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        inRead = false
        if let increment = machine.connectionCreditDue() {
            FrameEncoder.windowUpdate(&out, stream: 0, increment: increment)
        }
        let read = readers
        readers.removeAll(keepingCapacity: true)
        for stream in read {
            stream.inReaders = false
            stream.delegate?.streamReadComplete()
        }
        if becameReady {
            becameReady = false
            owner?.connectionReady(self)
        }
        flushOut()
    }

    private func process(_ buffer: inout ByteBuffer, now: NIODeadline) {
        while !isClosed {
            let step = machine.read(&buffer, now: now)
            if step == .needMore { return }
            perform(step)
        }
    }

    private func perform(_ step: HTTP2ConnectionStateMachine.Step) {
        switch step {
        case .needMore, .refused:
            break
        case .settings(let windowGrew):
            FrameEncoder.settingsAck(&out)
            if !isReady {
                isReady = true
                becameReady = true
            }
            if windowGrew { drainBlocked() }
        case .ping(let opaque):
            FrameEncoder.ping(&out, ack: true, opaque: opaque)
        case .pingAck:
            break
        case .head(let id, let block, let endStream):
            guard let stream = streams[id] else { return resetUnknown(id) }
            noteRead(stream)
            switch UpstreamResponseHead.parse(block) {
            case .failure(let refusal):
                reset(stream, .protocolError, failing: "malformed response head: \(refusal.reason)")
            case .success(let head) where head.isInterim:
                stream.delegate?.streamReceivedInterim(head)
            case .success(let head):
                stream.headReceived = true
                stream.delegate?.streamReceivedHead(head, endStream: endStream)
                if endStream { remoteEnded(stream) }
            }
        case .trailers(let id, let block):
            guard let stream = streams[id] else { return resetUnknown(id) }
            noteRead(stream)
            guard RequestHead.validTrailers(block) else {
                return reset(stream, .protocolError, failing: "malformed trailers")
            }
            var trailers = HTTPHeaders()
            for (name, value, _) in block { trailers.add(name: name, value: value) }
            stream.delegate?.streamReceivedTrailers(trailers)
            remoteEnded(stream)
        case .data(let id, let data, let endStream):
            guard let stream = streams[id] else {
                // Ours no more (cancelled): the window reopens all the same.
                if let increment = machine.bodyTaken(id, bytes: data.readableBytes) {
                    FrameEncoder.windowUpdate(&out, stream: id, increment: increment)
                }
                return
            }
            noteRead(stream)
            stream.received(data, endStream: endStream)
            if endStream { remoteEnded(stream) }
        case .reset(let id, let code):
            guard let stream = streams.removeValue(forKey: id) else { return }
            unblock(stream)
            stream.fail(unprocessed: code == .refusedStream, reset: true, reason: "upstream reset the stream (\(code))")
            streamEnded()
        case .windowOpened(let id):
            if id == 0 { drainBlocked() } else if let stream = streams[id], stream.isBlocked { drain(stream) }
        case .streamError(let id, let code, let reason):
            FrameEncoder.rstStream(&out, stream: id, code: code)
            guard let stream = streams.removeValue(forKey: id) else { return }
            unblock(stream)
            stream.fail(unprocessed: false, reason: reason)
            streamEnded()
        case .connectionError(let code, let reason, _, _):
            FrameEncoder.goAway(&out, lastStream: 0, code: code, debug: reason)
            failAll(reason: "upstream connection error: \(reason)")
            close()
        case .goAway(let lastStream, _):
            isDraining = true
            owner?.connectionUnavailable(self)
            for (id, stream) in streams where id > lastStream {
                streams.removeValue(forKey: id)
                unblock(stream)
                machine.resetSent(id)
                stream.fail(unprocessed: true, reason: "upstream GOAWAY")
            }
            if streams.isEmpty { close() }
        }
    }

    private func noteRead(_ stream: HTTP2UpstreamStream) {
        guard !stream.inReaders else { return }
        stream.inReaders = true
        readers.append(stream)
    }

    /// A head on a stream nobody uses any more: its answer is not wanted.
    private func resetUnknown(_ id: UInt32) {
        guard machine.isOpen(id) else { return }
        FrameEncoder.rstStream(&out, stream: id, code: .cancel)
        machine.resetSent(id)
    }

    /// The upstream's END_STREAM: the stream stays ours until the exchange lets go (its request
    /// may still be going), unless nobody is using it.
    private func remoteEnded(_ stream: HTTP2UpstreamStream) {
        if stream.delegate == nil || !machine.isOpen(stream.id) { retire(stream) }
    }

    /// Over TLS the server must have chosen h2 by ALPN: anything else does not speak HTTP/2.
    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event, negotiated != "h2" {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        let wasClosed = isClosed
        isClosed = true
        timer.cancel()
        if !wasClosed { owner?.connectionUnavailable(self) }
        failAll(reason: "upstream connection closed")
        context.fireChannelInactive()
    }

    private func failAll(reason: String) {
        let all = Array(streams.values)
        streams.removeAll()
        blocked.removeAll()
        for stream in all { stream.fail(unprocessed: false, reason: reason) }
    }

    package func close() {
        guard !isClosed else { return }
        isClosed = true
        timer.cancel()
        owner?.connectionUnavailable(self)
        flushOut()
        context?.close(promise: nil)
    }

    // MARK: the read deadline

    /// A stream's deadline was set: the one timer fires no later than it. When it fires, every
    /// stream is looked at; deadlines only move later, so most look finds nothing due.
    func readDeadlineSet(_ deadline: NIODeadline) {
        if let current = timer.deadline, current <= deadline { return }
        timer.move(to: deadline, schedule: scheduleTimer)
    }

    private func scheduleTimer(at deadline: NIODeadline) -> Scheduled<Void> {
        eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            guard timer.fired(now: .now(), schedule: scheduleTimer) else { return }
            readTimerFired(now: .now())
        }
    }

    private func readTimerFired(now: NIODeadline) {
        var next: NIODeadline?
        for stream in Array(streams.values) {
            guard let deadline = stream.readDeadline else { continue }
            if deadline <= now {
                stream.readDeadline = nil
                stream.delegate?.streamReadTimedOut()
            } else if next.map({ deadline < $0 }) ?? true {
                next = deadline
            }
        }
        if let next { timer.move(to: next, schedule: scheduleTimer) }
    }
}
