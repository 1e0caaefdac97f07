import Logging
import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import TacetHTTP

/// One HTTP/2 stream: its request given to the same routes HTTP/1.1 requests go to, through a
/// `ResponseWriter` whose sink is this stream. `StreamMachine` decides; this carries it out:
/// frames in and out through the connection's `HTTP2Streams` (a stream is a value there, not a
/// channel: NIO's per-stream channels cost half the throughput), the route's body (held while
/// the route pauses it, the window not reopened meanwhile), cancellation, the access line.
final class HTTP2StreamExchange: ResponseSink {
    /// The one exchange of a stream.
    private static let exchangeID: UInt64 = 1

    let id: HTTP2StreamID
    private let connection: HTTP2ConnectionState
    private unowned let streams: HTTP2Streams
    private var machine: StreamMachine
    /// Until NIOHTTP2 reports the stream closed.
    private var open = true
    /// Body the route paused (its upstream is full): delivered when it resumes.
    private var paused = false
    private var heldBody = CircularBuffer<ByteBuffer>()
    private var heldEnd = false
    /// Handing held body to the route: a resume from inside it only clears `paused`.
    private var draining = false
    /// Flow-control credit owed to the client for body the route has taken (sent by `HTTP2Streams`).
    var creditOwed = 0
    /// DATA written but not yet passed to the socket (held by flow control or the channel).
    private var unsent = 0
    private var reportedWritable = true
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
    /// Where END_STREAM is: the exchange is logged `complete` only once it has left (a response
    /// held by flow control may never: a client that has sent its FIN can open no window).
    private enum EndStreamDelivery { case notWritten, pending, delivered, failed }
    private var endStream = EndStreamDelivery.notWritten
    /// The status to log when END_STREAM leaves (or cannot), when the exchange finished first.
    private var logOnDelivery: Int?

    init(id: HTTP2StreamID, connection: HTTP2ConnectionState, streams: HTTP2Streams, eventLoop: any EventLoop) {
        self.id = id
        self.connection = connection
        self.streams = streams
        self.eventLoop = eventLoop
        self.machine = StreamMachine(maxBodySize: connection.listener.settings.parserLimits.maxBodySize)
        self.start = .now()
    }

    // MARK: ResponseSink

    let eventLoop: any EventLoop
    var allocator: ByteBufferAllocator { streams.allocator }
    /// The connection takes bytes, and this stream has less than 64 KiB waiting for its window.
    var isWritable: Bool { open && streams.parentWritable && unsent < 64 * 1024 }
    var remoteAddressString: String { connection.log.remoteAddress }
    var observer: any HTTPObserver { connection.listener.observer }
    var logger: Logger { connection.log.logger }

    func isCurrent(_ id: UInt64) -> Bool { open && !machine.done && machine.response != .ended }
    func clientAddress(_ id: UInt64) -> String { client ?? connection.log.remoteAddress }
    func acceptsInterim(_ id: UInt64) -> Bool { status == nil && !machine.done }
    func setRouteLabel(_ id: UInt64, _ label: String) { routeLabelValue = label }
    func routeLabel(_ id: UInt64) -> String { routeLabelValue }

    func writeInterim(_ id: UInt64, status: HTTPResponseStatus, headers: HTTPHeaders) -> Bool {
        guard open, self.status == nil, !machine.done, (100..<200).contains(status.code), status.code != 101 else { return false }
        streams.write(self.id, .headers(.init(headers: ResponseFields.interim(status, headers: headers))))
        streams.flush()
        return true
    }

    func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        guard open, status == nil, !machine.done else { return }
        let code = Int(head.status.code)
        status = code
        machine.responseStarted()
        if code == 204 || code == 304 { suppressBody = true }
        let block = ResponseFields.block(for: head, date: HTTPDate.now)
        let bodyBytes = suppressBody ? 0 : (body?.readableBytes ?? 0)
        let headersEnd = suppressBody || (end && bodyBytes == 0)
        streams.write(self.id, .headers(.init(headers: block, endStream: headersEnd)), promise: headersEnd ? endStreamPromise() : nil)
        endStreamSent = headersEnd
        if let body, bodyBytes > 0 {
            bodyBytesOut += bodyBytes
            writeData(.byteBuffer(body), end: end)
            endStreamSent = end
        }
        // The response is over before the flush: sending END_STREAM on a stream whose request
        // ended closes it inside the flush, and that close must not read as a reset.
        let finished = end ? machine.responseEnded() : .none
        if flush || end { streams.flush() }
        perform(finished)
    }

    func writeBody(_ id: UInt64, _ buffer: ByteBuffer, flush: Bool) {
        guard open, status != nil, !machine.done, machine.response != .ended else { return }
        guard !suppressBody, !endStreamSent, buffer.readableBytes > 0 else { return }
        bodyBytesOut += buffer.readableBytes
        writeData(.byteBuffer(buffer), end: false)
        if flush { streams.flush() }
    }

    func flushResponse(_ id: UInt64) { if open { streams.flush() } }

    /// A DATA frame, its bytes counted as unsent until NIOHTTP2 passes it on (the client's
    /// window may hold it): what `isWritable` reads.
    private func writeData(_ data: IOData, end: Bool, then: (@Sendable (Result<Void, any Error>) -> Void)? = nil) {
        let size = data.readableBytes
        if end && then == nil {
            streams.write(self.id, .data(.init(data: data, endStream: true)), promise: endStreamPromise())
            return
        }
        unsent += size
        let promise = eventLoop.makePromise(of: Void.self)
        streams.write(self.id, .data(.init(data: data, endStream: end)), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            unsent -= size
            then?(result)
            if !reportedWritable && isWritable {
                reportedWritable = true
                handler?.writabilityChanged(true)
            }
        }
        if reportedWritable && !isWritable {
            reportedWritable = false
            handler?.writabilityChanged(false)
        }
    }

    func writeFile(_ id: UInt64, descriptor fd: CInt, offset: Int, count: Int) {
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
        guard open, status != nil, !machine.done, !suppressBody, !endStreamSent, count > 0 else {
            try? handle.close()
            return
        }
        bodyBytesOut += count
        let region = FileRegion(fileHandle: handle, readerIndex: offset, endIndex: offset + count)
        writeData(.fileRegion(region), end: false) { _ in try? handle.close() }
        streams.flush()
    }

    func endResponse(_ id: UInt64) {
        guard open, status != nil, !machine.done, machine.response != .ended else { return }
        if !endStreamSent {
            streams.write(self.id, .data(.init(data: .byteBuffer(ByteBuffer()), endStream: true)), promise: endStreamPromise())
            endStreamSent = true
        }
        let finished = machine.responseEnded()
        streams.flush()
        perform(finished)
    }

    func setRoutePausedReads(_ id: UInt64, _ paused: Bool) {
        // While paused, what arrives is held and its window not reopened: the client stops once
        // the window is spent. Resumed, the held body goes to the route and the credit back.
        // A route may pause again while it takes a held part: what is still held stays held, in
        // order, for the next resume (dropping it lost the body and, with its credit never
        // returned, stalled the stream for good).
        self.paused = paused
        guard !paused, !draining else { return }
        draining = true
        defer { draining = false }
        while !self.paused, !heldBody.isEmpty { deliver(heldBody.removeFirst()) }
        if !self.paused && heldEnd {
            heldEnd = false
            handler?.requestEnded()
        }
        streams.sendCredit(for: self)
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

    // MARK: from the connection

    func receive(_ payload: HTTP2Frame.FramePayload) {
        switch payload {
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
                if paused {
                    if buffer.readableBytes > 0 { heldBody.append(buffer) }
                    if ended { heldEnd = true }
                } else {
                    deliver(buffer)
                    if ended { handler?.requestEnded() }
                }
            } else {
                perform(action)
            }
        default:
            break
        }
    }

    private func deliver(_ buffer: ByteBuffer) {
        creditOwed += buffer.readableBytes
        if buffer.readableBytes > 0 { handler?.requestBodyPart(buffer) }
    }

    /// Body the client may send again (flow control): none while paused or once it has all come.
    var mayTakeCredit: Bool { !paused && machine.request == .body && open }

    func parentWritabilityChanged() {
        let writable = isWritable
        guard writable != reportedWritable else { return }
        reportedWritable = writable
        handler?.writabilityChanged(writable)
    }

    /// NIOHTTP2 closed the stream: both ends done, a reset (either side's), or the connection went.
    func closed(connectionGone: Bool) {
        if connectionGone, let status = logOnDelivery {
            // Its END_STREAM never left (NIOHTTP2 fails it only later, when it is removed):
            // logged now, before the connection's own end line.
            logOnDelivery = nil
            logExchange(status: status, end: "write_failed")
        }
        guard open else { return }
        bodyTimer?.cancel()
        perform(machine.streamClosed(connectionGone: connectionGone))
        open = false
        connection.ended(self)
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
            if let reset, open {
                streams.write(self.id, .rstStream(reset))
                streams.flush()
            }
            connection.ended(self)
        case .finished(let stopUpload):
            bodyTimer?.cancel()
            handler = nil
            switch endStream {
            case .pending: logOnDelivery = status ?? 0
            case .failed: logExchange(status: status ?? 0, end: "write_failed")
            case .delivered, .notWritten: logExchange(status: status ?? 0, end: "complete")
            }
            if stopUpload, open {
                streams.write(self.id, .rstStream(.noError))
                streams.flush()
            }
            connection.ended(self)
        }
    }

    /// A promise for the frame carrying END_STREAM: its outcome is the exchange's.
    private func endStreamPromise() -> EventLoopPromise<Void> {
        endStream = .pending
        let promise = eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            if case .success = result { endStream = .delivered } else { endStream = .failed }
            guard let status = logOnDelivery else { return }
            logOnDelivery = nil
            logExchange(status: status, end: endStream == .delivered ? "complete" : "write_failed")
        }
        return promise
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
        guard !ended, open else { return }
        bodyTimer = eventLoop.assumeIsolated().scheduleTask(in: connection.listener.settings.bodyTimeout) { [self] in
            perform(machine.bodyTimedOut())
        }
    }
}
