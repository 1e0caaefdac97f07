import Logging
import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import TacetHTTP

/// One HTTP/2 stream: its request given to the same routes HTTP/1.1 requests go to, through a
/// `ResponseWriter` whose sink is this stream. `StreamMachine` decides; this carries it out:
/// frames in, frames out, the route's body and cancellation, the access line.
final class HTTP2StreamHandler: ChannelDuplexHandler, ResponseSink {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// The one exchange of a stream.
    private static let exchangeID: UInt64 = 1

    private let connection: HTTP2ConnectionState
    private var machine: StreamMachine
    private var context: ChannelHandlerContext?
    private var request: Request?
    private var handler: (any RequestHandler)?
    private var status: Int?
    private var client: String?
    private var routeLabelValue = "-"
    private var suppressBody = false
    private var endStreamSent = false
    private var bodyBytesOut = 0
    private var start: NIODeadline
    private var bodyTimer: Scheduled<Void>?
    /// What the access line says instead, when the route gave up (status, end).
    private var abandonLog: (Int?, String?)?

    init(connection: HTTP2ConnectionState, eventLoop: any EventLoop) {
        self.connection = connection
        self.eventLoop = eventLoop
        self.machine = StreamMachine(maxBodySize: connection.listener.settings.parserLimits.maxBodySize)
        self.start = .now()
    }

    // MARK: ResponseSink

    let eventLoop: any EventLoop
    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }
    var isWritable: Bool { context?.channel.isWritable ?? false }
    var remoteAddressString: String { connection.log.remoteAddress }
    var observer: any HTTPObserver { connection.listener.observer }
    var logger: Logger { connection.log.logger }

    func isCurrent(_ id: UInt64) -> Bool { context != nil && !machine.done && machine.response != .ended }
    func clientAddress(_ id: UInt64) -> String { client ?? connection.log.remoteAddress }
    func acceptsInterim(_ id: UInt64) -> Bool { status == nil && !machine.done }
    func setRouteLabel(_ id: UInt64, _ label: String) { routeLabelValue = label }
    func routeLabel(_ id: UInt64) -> String { routeLabelValue }

    func writeInterim(_ id: UInt64, status: HTTPResponseStatus, headers: HTTPHeaders) -> Bool {
        guard let context, self.status == nil, !machine.done, (100..<200).contains(status.code), status.code != 101 else { return false }
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: ResponseFields.interim(status, headers: headers)))), promise: nil)
        return true
    }

    func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        guard let context, status == nil, !machine.done else { return }
        let code = Int(head.status.code)
        status = code
        machine.responseStarted()
        if code == 204 || code == 304 { suppressBody = true }
        let block = ResponseFields.block(for: head, date: HTTPDate.now)
        let bodyBytes = suppressBody ? 0 : (body?.readableBytes ?? 0)
        let headersEnd = suppressBody || (end && bodyBytes == 0)
        context.write(wrapOutboundOut(.headers(.init(headers: block, endStream: headersEnd))), promise: nil)
        endStreamSent = headersEnd
        if let body, bodyBytes > 0 {
            bodyBytesOut += bodyBytes
            context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(body), endStream: end))), promise: nil)
            endStreamSent = end
        }
        // The response is over before the flush: sending END_STREAM on a stream whose request
        // ended closes it inside the flush, and that close must not read as a reset.
        let finished = end ? machine.responseEnded() : .none
        if flush || end { context.flush() }
        perform(finished)
    }

    func writeBody(_ id: UInt64, _ buffer: ByteBuffer, flush: Bool) {
        guard let context, status != nil, !machine.done, machine.response != .ended else { return }
        guard !suppressBody, !endStreamSent, buffer.readableBytes > 0 else { return }
        bodyBytesOut += buffer.readableBytes
        context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(buffer)))), promise: nil)
        if flush { context.flush() }
    }

    func flushResponse(_ id: UInt64) { context?.flush() }

    func writeFile(_ id: UInt64, descriptor fd: CInt, offset: Int, count: Int) {
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
        guard let context, status != nil, !machine.done, !suppressBody, !endStreamSent, count > 0 else {
            try? handle.close()
            return
        }
        bodyBytesOut += count
        let region = FileRegion(fileHandle: handle, readerIndex: offset, endIndex: offset + count)
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.write(wrapOutboundOut(.data(.init(data: .fileRegion(region)))), promise: promise)
        context.flush()
        promise.futureResult.whenComplete { _ in try? handle.close() }
    }

    func endResponse(_ id: UInt64) {
        guard let context, status != nil, !machine.done, machine.response != .ended else { return }
        if !endStreamSent {
            context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true))), promise: nil)
            endStreamSent = true
        }
        let finished = machine.responseEnded()
        context.flush()
        perform(finished)
    }

    func setRoutePausedReads(_ id: UInt64, _ paused: Bool) {
        // A paused stream reads nothing and so opens no flow-control window: the client stops.
        // Turning autoRead back on does not read by itself on a stream channel: read, so the
        // frames it holds are delivered and the window opens again.
        guard let context else { return }
        context.channel.setOption(.autoRead, value: !paused).whenFailure { _ in }
        if !paused { context.read() }
    }

    func abandon(_ id: UInt64, reason: ConnectionEndReason, logStatus: Int?, logEnd: String?) {
        abandonLog = (logStatus, logEnd)
        handler = nil
        perform(machine.routeAbandoned(reason))
    }

    // MARK: FIN from the connection

    /// The client's FIN (or `close_notify`) reached the connection while this stream was open.
    func clientHalfClosed() {
        handler?.clientHalfClosed()
    }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        start = context.eventLoop.now
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        bodyTimer?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            if machine.request == .awaitingHead {
                headReceived(headers.headers, endStream: headers.endStream)
            } else {
                perform(machine.trailersReceived())
            }
        case .data(let frame):
            guard case .byteBuffer(let buffer) = frame.data else { return }
            connection.log.bytesIn += buffer.readableBytes
            let action = machine.dataReceived(bytes: buffer.readableBytes, endStream: frame.endStream)
            if case .deliverBody(let ended) = action {
                armBodyTimer(ended: ended)
                if buffer.readableBytes > 0 { handler?.requestBodyPart(buffer) }
                if ended { handler?.requestEnded() }
            } else {
                perform(action)
            }
        default:
            break
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        handler?.writabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let connectionGone = !(context.channel.parent?.isActive ?? false)
        perform(machine.streamClosed(connectionGone: connectionGone))
        connection.ended(self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A stream error (NIOHTTP2 resets the stream): the close that follows cancels the route.
        context.fireErrorCaught(error)
    }

    // MARK: the exchange

    private func headReceived(_ block: HPACKHeaders, endStream: Bool) {
        switch RequestHead.request(from: block, endStream: endStream, limits: connection.listener.settings.parserLimits) {
        case .failure(let refusal):
            let (code, reason): (Int, String) = {
                switch refusal {
                case .badRequest(let why): return (400, why)
                case .tooLarge: return (413, "request body too large")
                case .notImplemented(let why): return (501, why)
                }
            }()
            perform(machine.headRefused(status: code, reason: reason))
        case .success(var request):
            let settings = connection.listener.settings
            let trusted = settings.isTrustedProxy.map { $0(connection.log.remoteAddress) } ?? false
            if settings.requestID { RequestID.apply(to: &request, peerTrusted: trusted) }
            self.request = request
            suppressBody = request.method == .HEAD
            connection.opened(self)
            if trusted, let isTrusted = settings.isTrustedProxy {
                client = RealIP.client(of: request, peer: connection.log.remoteAddress, isTrusted: isTrusted)
            }
            if let limiter = settings.clientLimiter, let retry = limiter.admitRequest(client ?? connection.log.remoteAddress) {
                observer.clientLimited(limit: "requests")
                _ = machine.headReceived(endStream: endStream)
                ClientLimiter.tooManyRequests(ResponseWriter(sink: self, id: Self.exchangeID), retryAfter: retry)
                return
            }
            perform(machine.headReceived(endStream: endStream))
        }
    }

    private func perform(_ action: StreamMachine.Action) {
        switch action {
        case .none, .deliverBody:
            break
        case .dispatch(let ended):
            guard let request else { return }
            let writer = ResponseWriter(sink: self, id: Self.exchangeID)
            let route = connection.listener.responder.respond(to: request, writer: writer)
            if !machine.done && machine.response != .ended { handler = route }
            if ended { handler?.requestEnded() } else { armBodyTimer(ended: false) }
        case .respondError(let code, let reason):
            handler?.cancel(.serverClose)
            handler = nil
            let body = ByteBuffer(string: reason + "\n")
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/plain; charset=utf-8")
            if request == nil { connection.log.refused(status: code, now: eventLoop.now, end: "complete") }
            writeHead(Self.exchangeID, ResponseHead(status: HTTPResponseStatus(statusCode: code), headers: headers,
                                                    body: .length(body.readableBytes)), body: body, end: true, flush: true)
        case .endBody:
            bodyTimer?.cancel()
            handler?.requestEnded()
        case .cancel(let reason, let end, let reset):
            bodyTimer?.cancel()
            let route = handler
            handler = nil
            route?.cancel(reason)
            logExchange(status: abandonLog?.0 ?? status ?? 499, end: abandonLog?.1 ?? end)
            if let reset, let context {
                context.writeAndFlush(wrapOutboundOut(.rstStream(reset)), promise: nil)
            }
            connection.ended(self)
        case .finished(let stopUpload):
            bodyTimer?.cancel()
            handler = nil
            logExchange(status: status ?? 0, end: "complete")
            if stopUpload, let context {
                context.writeAndFlush(wrapOutboundOut(.rstStream(.noError)), promise: nil)
            }
            connection.ended(self)
        }
    }

    private func logExchange(status: Int, end: String) {
        connection.log.bytesOut += bodyBytesOut
        guard let request else { return }
        connection.log.exchangeFinished(request, client: client, route: routeLabelValue, status: status,
                                        bodyBytes: bodyBytesOut, start: start, now: eventLoop.now, end: end)
    }

    private func armBodyTimer(ended: Bool) {
        bodyTimer?.cancel()
        bodyTimer = nil
        guard !ended, let context else { return }
        bodyTimer = context.eventLoop.assumeIsolated().scheduleTask(in: connection.listener.settings.bodyTimeout) { [self] in
            perform(machine.bodyTimedOut())
        }
    }
}
