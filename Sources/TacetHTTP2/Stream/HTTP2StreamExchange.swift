import Logging
import NIOCore
import NIOHPACK
import NIOHTTP1
import TacetHTTP

/// One HTTP/2 stream's exchange: its request given to the same routes HTTP/1.1 requests go to,
/// through a `ResponseWriter` whose sink is this stream. `StreamMachine` decides; this carries
/// it out through its connection (`HTTP2ServerConnection`): the route's body (held while the
/// route pauses it, its window not reopened meanwhile), the response's frames, cancellation,
/// the access line once END_STREAM has left.
final class HTTP2StreamExchange: ResponseSink {
    /// The one exchange of a stream.
    private static let exchangeID: UInt64 = 1

    let id: UInt32
    private unowned let connection: HTTP2ServerConnection
    private var machine: StreamMachine
    /// DATA waiting for window (the connection drains it).
    var outbound = OutboundQueue()
    /// In the connection's list of streams waiting for window.
    var isBlocked = false
    /// Until the stream is reset or the connection goes.
    private var open = true
    /// Body the route paused (its upstream is full): delivered when it resumes.
    private var paused = false
    private var heldBody = CircularBuffer<ByteBuffer>()
    private var heldEnd = false
    /// Handing held body to the route: a resume from inside it only clears `paused`.
    private var draining = false
    private var reportedWritable = true
    private var request: Request?
    private var handler: (any RequestHandler)?
    private var status: Int?
    private var client: String?
    private var routeLabelValue = "-"
    private var grpcStatus: String?
    private var coding: CodingNote?
    private var suppressBody = false
    private var endQueued = false
    private var bodyBytesOut = 0
    private let start: NIODeadline
    /// When the body times out if no DATA comes (the connection's timer looks).
    private(set) var bodyDeadline: NIODeadline?
    /// What the access line says instead, when the route gave up (status, end).
    private var abandonLog: (Int?, String?)?
    /// The exchange finished before its END_STREAM left: logged once it has (or cannot).
    private var logOnDelivery: Int?
    /// The outcome of the write that carried END_STREAM, once known (it may complete inside the
    /// very flush that sends it, before the exchange has finished its own bookkeeping).
    private var delivered: Bool?
    /// A refusal's end reason for the access line, as HTTP/1.1 logs it (`timeout` for 408,
    /// `server_close` for the others) instead of `complete`.
    private var refusalEnd: String?
    private var logged = false
    /// A refused head's request line, for its access line.
    private var refusedLine: RefusedRequestLine?

    init(id: UInt32, connection: HTTP2ServerConnection, start: NIODeadline) {
        self.id = id
        self.connection = connection
        self.start = start
        self.eventLoop = connection.eventLoop
        self.machine = StreamMachine(maxBodySize: connection.settings.parserLimits.maxBodySize)
    }

    /// The route has answered (or given up): after the client's FIN the connection does not
    /// wait for more than that.
    var routeFinished: Bool { machine.done }

    // MARK: ResponseSink

    let eventLoop: any EventLoop
    var allocator: ByteBufferAllocator { connection.allocator }
    /// The connection takes bytes, and this stream has less than 64 KiB waiting for its window.
    var isWritable: Bool { open && connection.channelWritable && outbound.queuedBytes < 64 * 1024 }
    var remoteAddressString: String { connection.log.remoteAddress }
    var observer: any HTTPObserver { connection.listener.observer }
    var logger: Logger { connection.log.logger }

    func isCurrent(_ id: UInt64) -> Bool { open && !machine.done && machine.response != .ended }
    func clientAddress(_ id: UInt64) -> String { client ?? connection.log.remoteAddress }
    func acceptsInterim(_ id: UInt64) -> Bool { status == nil && !machine.done }
    func setRouteLabel(_ id: UInt64, _ label: String) { routeLabelValue = label }
    func routeLabel(_ id: UInt64) -> String { routeLabelValue }
    func setGRPCStatus(_ id: UInt64, _ status: String) { grpcStatus = status }
    func setContentCoding(_ id: UInt64, _ note: CodingNote) { coding = note }

    func writeInterim(_ id: UInt64, status: HTTPResponseStatus, headers: HTTPHeaders) -> Bool {
        guard open, self.status == nil, !machine.done, (100..<200).contains(status.code), status.code != 101 else { return false }
        connection.writeInterim(self, status, headers: headers)
        connection.flush()
        return true
    }

    func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        guard open, status == nil, !machine.done else { return }
        let code = Int(head.status.code)
        status = code
        machine.responseStarted()
        if ResponseHead.forbidsBody(status: code) { suppressBody = true }
        let bodyBytes = suppressBody ? 0 : (body?.readableBytes ?? 0)
        let headersEnd = suppressBody || (end && bodyBytes == 0)
        // Decided before the frames go: END_STREAM may retire the stream as it is written.
        let finished = end ? machine.responseEnded() : .none
        expectDelivery(finished)
        endQueued = end
        connection.writeHeaders(self, head, endStream: headersEnd)
        if let body, bodyBytes > 0 {
            bodyBytesOut += bodyBytes
            connection.writeData(self, body, endStream: end)
        } else if end && !headersEnd {
            connection.endStream(self)
        }
        perform(finished)
        if flush || end { connection.flush() }
    }

    func writeBody(_ id: UInt64, _ buffer: ByteBuffer, flush: Bool) {
        guard open, status != nil, !machine.done, machine.response != .ended else { return }
        guard !suppressBody, !endQueued, buffer.readableBytes > 0 else { return }
        bodyBytesOut += buffer.readableBytes
        connection.writeData(self, buffer, endStream: false)
        if flush { connection.flush() }
    }

    func flushResponse(_ id: UInt64) { if open { connection.flush() } }

    func writeFile(_ id: UInt64, descriptor fd: CInt, offset: Int, count: Int) {
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
        guard open, status != nil, !machine.done, !suppressBody, !endQueued, count > 0 else {
            try? handle.close()
            return
        }
        bodyBytesOut += count
        connection.writeFile(self, handle, offset: offset, count: count)
    }

    func endResponse(_ id: UInt64) {
        guard open, status != nil, !machine.done, machine.response != .ended else { return }
        let finished = machine.responseEnded()
        expectDelivery(finished)
        if !endQueued {
            endQueued = true
            connection.endStream(self)
        }
        perform(finished)
        connection.flush()
    }

    func endResponse(_ id: UInt64, trailers: HTTPHeaders) {
        guard open, status != nil, !machine.done, machine.response != .ended else { return }
        // A response whose HEADERS already ended the stream (HEAD, 204) has no room for them.
        guard !endQueued, !suppressBody else { return endResponse(id) }
        let finished = machine.responseEnded()
        expectDelivery(finished)
        endQueued = true
        connection.endStream(self, trailers: trailers)
        perform(finished)
        connection.flush()
    }

    func setRoutePausedReads(_ id: UInt64, _ paused: Bool) {
        // While paused, what arrives is held and its window not reopened: the client stops once
        // the window is spent. Resumed, the held body goes to the route in order; a route may
        // pause again while it takes a part, and what is still held then waits for the next resume.
        self.paused = paused
        guard !paused, !draining else { return }
        draining = true
        defer { draining = false }
        while !self.paused, !heldBody.isEmpty { deliver(heldBody.removeFirst()) }
        if !self.paused && heldEnd {
            heldEnd = false
            handler?.requestEnded()
        }
    }

    func abandon(_ id: UInt64, reason: ConnectionEndReason, logStatus: Int?, logEnd: String?) {
        abandonLog = (logStatus, logEnd)
        handler = nil
        perform(machine.routeAbandoned(reason))
    }

    func cancelStream(_ id: UInt64, logStatus: Int?, logEnd: String?) {
        abandonLog = (logStatus, logEnd)
        handler = nil
        perform(machine.routeAbandoned(.serverClose), reset: .cancel)
    }

    // MARK: from the connection

    func headReceived(_ block: HPACKHeaders, endStream: Bool) {
        let settings = connection.settings
        switch RequestHead.request(from: block, endStream: endStream, limits: settings.parserLimits) {
        case .failure(.malformed(let why)):
            // RFC 9113 §8.1.1: a malformed request is a stream error, not an answer.
            connection.log.logger.debug("HTTP/2 malformed request", metadata: ["peer": "\(connection.log.remoteAddress)",
                                                                              "reason": "\(why)"])
            connection.log.refused(status: 400, now: eventLoop.now, end: "protocol_error")
            perform(machine.routeAbandoned(.serverClose), reset: .protocolError)
        case .failure(let refusal):
            refusedLine = RequestHead.refusedLine(block, status: refusal.status)
            perform(machine.headRefused(status: refusal.status, reason: refusal.reason))
        case .success(let parsed):
            let admitted = Admission(parsed, peer: connection.log.remoteAddress, isSecure: connection.listener.isSecure,
                                     settings: settings, observer: observer)
            let request = admitted.request
            self.request = request
            client = admitted.client
            suppressBody = request.method == .HEAD
            connection.requests += 1
            let declared: Int? = if case .length(let n) = request.framing { n } else { nil }
            if let retry = admitted.retryAfter {
                _ = machine.headReceived(endStream: endStream, declaredLength: declared)
                ClientLimiter.tooManyRequests(ResponseWriter(sink: self, id: Self.exchangeID), retryAfter: retry)
                return
            }
            perform(machine.headReceived(endStream: endStream, declaredLength: declared))
        }
    }

    func dataReceived(_ buffer: ByteBuffer, endStream: Bool, now: NIODeadline) {
        let action = machine.dataReceived(bytes: buffer.readableBytes, endStream: endStream)
        guard case .deliverBody(let ended) = action else {
            // Not for a route (refused, over the limit, or the exchange is over): the window
            // reopens all the same.
            connection.bodyTaken(self, bytes: buffer.readableBytes)
            perform(action)
            return
        }
        setBodyDeadline(ended ? nil : now + connection.settings.bodyTimeout)
        if paused {
            if buffer.readableBytes > 0 {
                // A copy: the read buffer's storage is not kept for as long as the route pauses.
                var copy = allocator.buffer(capacity: buffer.readableBytes)
                copy.writeImmutableBuffer(buffer)
                heldBody.append(copy)
            }
            if ended { heldEnd = true }
        } else {
            deliver(buffer)
            if ended { handler?.requestEnded() }
        }
    }

    func trailersReceived() { perform(machine.trailersReceived()) }

    private func deliver(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else { return }
        handler?.requestBodyPart(buffer)
        connection.bodyTaken(self, bytes: buffer.readableBytes)
    }

    /// The client's RST_STREAM.
    func resetByClient() {
        guard open else { return }
        open = false
        outbound.drop()
        perform(machine.streamClosed(connectionGone: false))
        connection.retire(self)
    }

    /// We reset the stream for a stream error the client made.
    func streamFailed() {
        guard open else { return }
        abandonLog = (abandonLog?.0 ?? status ?? 400, "protocol_error")
        open = false
        outbound.drop()
        perform(machine.routeAbandoned(.serverClose))
        connection.retire(self)
    }

    /// The client's FIN reached the connection while this stream was open: a whole request's
    /// route hears of it (its `on_client_fin` decides); one cut off mid-body is answered 400.
    func clientHalfClosed() {
        if machine.request == .ended {
            handler?.clientHalfClosed()
        } else {
            perform(machine.inputEnded())
        }
    }

    /// A connection error (ours to send): the stream goes with the connection.
    func connectionFailed() { connectionGone() }

    /// The connection closed.
    func connectionGone() {
        if let status = logOnDelivery {
            logOnDelivery = nil
            logExchange(status: status, end: "write_failed")
        }
        guard open else { return }
        open = false
        outbound.drop()
        perform(machine.streamClosed(connectionGone: true))
    }

    func writabilityMayHaveChanged() {
        let writable = isWritable
        guard writable != reportedWritable else { return }
        reportedWritable = writable
        handler?.writabilityChanged(writable)
    }

    /// The write carrying END_STREAM completed (or failed).
    func endDelivered(_ success: Bool) {
        delivered = success
        logIfDelivered()
    }

    /// The response is over: its access line waits for END_STREAM to leave. Set before its
    /// frames are written, since that write may complete (and even close the connection)
    /// inside the flush that sends it.
    private func expectDelivery(_ action: StreamMachine.Action) {
        guard case .finished = action, !logged, logOnDelivery == nil else { return }
        logOnDelivery = status ?? 0
    }

    private func logIfDelivered() {
        guard let status = logOnDelivery, let delivered else { return }
        logOnDelivery = nil
        logExchange(status: status, end: delivered ? refusalEnd ?? "complete" : "write_failed")
    }

    func bodyTimedOut() {
        bodyDeadline = nil
        perform(machine.bodyTimedOut())
    }

    /// A file being sent could not be read whole.
    func fileFailed() {
        perform(machine.routeAbandoned(.serverClose))
        handler = nil
    }

    // MARK: the exchange

    private func setBodyDeadline(_ deadline: NIODeadline?) {
        bodyDeadline = deadline
        if let deadline { connection.bodyDeadlineSet(deadline) }
    }

    private func perform(_ action: StreamMachine.Action, reset override: H2ErrorCode? = nil) {
        switch action {
        case .none, .deliverBody:
            break
        case .dispatch(let ended):
            guard let request else { return }
            let writer = ResponseWriter(sink: self, id: Self.exchangeID)
            let route = connection.listener.responder.respond(to: request, writer: writer)
            if !machine.done && machine.response != .ended { handler = route }
            if ended {
                handler?.requestEnded()
            } else if !machine.done {
                setBodyDeadline(eventLoop.now + connection.settings.bodyTimeout)
            }
        case .respondError(let code, let reason):
            setBodyDeadline(nil)
            handler?.cancel(.serverClose)
            handler = nil
            let end = (code == 408 ? ConnectionEndReason.timeout : .serverClose).rawValue
            refusalEnd = end
            if request == nil { connection.log.refused(status: code, now: eventLoop.now, end: end, line: refusedLine) }
            ErrorResponse.write(ResponseWriter(sink: self, id: Self.exchangeID), status: code, reason: reason,
                                pages: connection.settings.errorPages)
        case .endBody:
            setBodyDeadline(nil)
            handler?.requestEnded()
        case .cancel(let reason, let end, let reset):
            setBodyDeadline(nil)
            let route = handler
            handler = nil
            route?.cancel(reason)
            logExchange(status: abandonLog?.0 ?? status ?? 499, end: abandonLog?.1 ?? end)
            if let code = override ?? reset, open {
                open = false
                connection.reset(self, code)
            } else {
                connection.retire(self)
            }
        case .finished:
            setBodyDeadline(nil)
            handler = nil
            expectDelivery(action)
            logIfDelivered()
            connection.exchangeEnded()
        }
    }

    private func logExchange(status: Int, end: String) {
        guard !logged else { return }
        logged = true
        connection.log.bytesOut += bodyBytesOut
        guard let request else { return }
        connection.log.exchangeFinished(request, client: client, route: routeLabelValue, status: status,
                                        bodyBytes: bodyBytesOut, start: start, now: eventLoop.now, end: end, grpcStatus: grpcStatus, coding: coding)
    }
}
