import NIOCore
import NIOHTTP1
import TacetHTTP
import TacetHTTP2

/// One proxied request, on the client connection's event loop: feeds what happens on both sides
/// to `ProxyExchangeStateMachine` and carries out every action it returns (connect, send, relay,
/// pool or close, answer an error, cut the client off, hand over to a tunnel), with backpressure
/// both ways and the read and send timers. The upstream side is an HTTP/1.1 connection of its
/// own (`connection`), or a stream of a shared HTTP/2 one (`stream`, `ProxyExchange+HTTP2`).
final class ProxyExchange: RequestHandler, UpstreamConnectionDelegate, UpstreamReadTimeoutDelegate {
    let request: Request
    let writer: ResponseWriter
    let upstream: Upstream
    private let pool: UpstreamPool?
    let http2Pool: HTTP2UpstreamPool?
    var machine: ProxyExchangeStateMachine
    var connection: UpstreamConnection?
    var stream: HTTP2UpstreamStream?
    /// An HTTP/2 upstream's trailers, sent with the client's end.
    var trailers: HTTPHeaders?
    /// The HTTP/2 upstream reset the stream: a cut-off answer ends in RST_STREAM CANCEL, not INTERNAL_ERROR.
    var upstreamResetStream = false
    private var sendTimer: Scheduled<Void>?
    /// A gRPC call's `grpc-timeout`: past it, DEADLINE_EXCEEDED (trailers-only) or the stream cut.
    private var callDeadline: Scheduled<Void>?
    var eventLoop: any EventLoop { writer.eventLoop }

    init(request: Request, writer: ResponseWriter, upstream: Upstream, policy: ClientFINPolicy) {
        self.request = request
        self.writer = writer
        self.upstream = upstream
        self.pool = upstream.pool(for: writer.eventLoop)
        self.http2Pool = upstream.http2Pool(for: writer.eventLoop)
        let idempotent: Bool
        switch request.method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: idempotent = true
        default: idempotent = false
        }
        self.machine = ProxyExchangeStateMachine(
            policy: policy, clientAcceptsInterim: request.acceptsInterimResponses,
            retryable: idempotent && request.framing == .none, hasBody: request.framing != .none,
            asksUpgrade: HeaderRewriting.upgradeProtocol(of: request) != nil)
    }

    func start() {
        if let timeout = GRPCStatus.isGRPC(request) ? GRPCStatus.timeout(of: request) : nil {
            callDeadline = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
                guard let self else { return }
                callDeadline = nil
                perform(machine.deadlinePassed())
            }
        }
        perform(machine.start())
    }

    // MARK: actions

    func perform(_ action: ProxyExchangeStateMachine.Action) {
        defer {
            if callDeadline != nil && machine.state == .finished {
                callDeadline?.cancel()
                callDeadline = nil
            }
        }
        switch action {
        case .none:
            break
        case .connect(let excluding, let fresh):
            releaseConnection(reuse: false)
            connect(excluding: excluding, fresh: fresh)
        case .sendRequest(let body, let end):
            if stream != nil { sendStreamRequest(body: body, end: end) } else { sendRequest(body: body, end: end) }
        case .sendBody(let buffer):
            if let stream {
                stream.sendData(buffer, endStream: false)
                if !stream.isWritable { writer.pauseRequestBody(true) }
                return
            }
            guard let connection else { return }
            writeBodyPart(buffer, to: connection, flush: true)
            if !connection.isWritable { writer.pauseRequestBody(true) }
        case .sendRequestEnd:
            stream?.sendData(ByteBuffer(), endStream: true)
            if let connection { writeRequestEnd(to: connection) }
        case .pauseRequestBody:
            writer.pauseRequestBody(true)
        case .respondError(let status):
            releaseConnection(reuse: false)
            if GRPCStatus.isGRPC(request) {
                GRPCStatus.respond(writer, failing: status)
            } else {
                ErrorResponse.write(writer, status: Int(status.code), reason: status.reasonPhrase.lowercased())
            }
        case .relayInterim(let head):
            writer.writeInterim(head.status, headers: head.headers)
        case .relayHead(let head):
            // Flushed when this read from the upstream is done: head and body leave together.
            var response = ResponseHead(status: head.status, body: Self.bodyKind(head, request: request), encodedFields: head.fields)
            response.date = head.date
            writer.writeHead(response, flush: false)
            if !writer.isWritable { pauseUpstreamReads(true) }
        case .relayUpgrade(let head):
            cancelReadTimer()
            var headers = head.headers
            if let upgrade = head.upgrade { headers.replaceOrAdd(name: "Upgrade", value: upgrade) }
            writer.writeHead(ResponseHead(status: .switchingProtocols, headers: headers, body: .empty))
        case .relayBody(let buffer):
            writer.writeBody(buffer, flush: false)
            if !writer.isWritable { pauseUpstreamReads(true) }
        case .relayEnd(let reuse):
            if stream != nil { finishStream() } else { releaseConnection(reuse: reuse) }
            if let trailers { writer.end(trailers: trailers) } else { writer.end() }
        case .startTunnel:
            // The 101's end: from here both connections carry the new protocol's bytes.
            guard let connection, let server = machine.server else { return }
            self.connection = nil
            cancelReadTimer()
            UpgradeTunnel.start(client: writer, upstream: connection, selector: upstream.selector,
                                server: server, settings: upstream.settings)
        case .truncateClient(let status, let why):
            releaseConnection(reuse: false)
            if upstreamResetStream {
                writer.cancelStream(logStatus: status, logEnd: "upstream_reset")
            } else {
                writer.abandon(.serverClose, logStatus: status, logEnd: why)
            }
        case .abandonClient:
            releaseConnection(reuse: false)
            writer.abandon(.clientFIN)
        case .sendProbe(let status):
            if writer.writeInterim(status) { writer.observer.probeSent(route: writer.routeLabel) }
        case .closeUpstream:
            releaseConnection(reuse: false)
        }
    }

    // MARK: the upstream connection

    private func connect(excluding: Set<Int>, fresh: Bool) {
        let picked = if let hashKey = upstream.settings.hashKey {
            upstream.selector.pick(excluding: excluding, key: hashKey(request, writer.clientAddress))
        } else {
            upstream.selector.pick(excluding: excluding)
        }
        guard let server = picked else {
            perform(machine.noServer())
            return
        }
        machine.connecting(to: server)
        if let http2Pool { return openStream(server: server, in: http2Pool) }
        if !fresh, let pooled = pool?.take(server: server) {
            attach(pooled, reused: true)
            return
        }
        let address = upstream.selector.addresses[server]
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        let report = UpstreamReport(upstream: upstream.name, server: "\(address.host):\(address.port)",
                                    logger: writer.logger, observer: writer.observer)
        UpstreamConnection.connect(host: address.host, port: address.port, server: server,
                                   on: eventLoop, timeout: upstream.settings.connectTimeout,
                                   prelude: upstream.settings.prelude, report: report)
            .whenComplete { result in
                let exchange = loopBound.value
                switch result {
                case .success(let connection):
                    exchange.attach(connection, reused: false)
                case .failure:
                    exchange.upstream.selector.recordFailure(server)
                    exchange.perform(exchange.machine.connectFailed())
                }
            }
    }

    private func attach(_ connection: UpstreamConnection, reused: Bool) {
        guard machine.state == .connecting else {
            // Cancelled while connecting: nobody needs this connection.
            connection.release(reuse: reused, to: pool)
            return
        }
        self.connection = connection
        connection.attach(self)
        upstream.selector.connectionOpened(connection.server)
        perform(machine.connected(reused: reused))
    }

    /// Lets go of the upstream connection: back to the pool if `reuse`, else closed. An HTTP/2
    /// stream is cancelled (RST_STREAM CANCEL): the upstream stops working on it at once.
    func releaseConnection(reuse: Bool) {
        cancelReadTimer()
        if let stream {
            self.stream = nil
            upstream.selector.connectionClosed(stream.server)
            stream.cancel()
        }
        guard let connection else { return }
        self.connection = nil
        upstream.selector.connectionClosed(connection.server)
        connection.release(reuse: reuse, to: pool)
    }

    private func sendRequest(body: [ByteBuffer], end: Bool) {
        guard let connection else { return }
        var head = connection.headBuffer(capacity: 256 + request.target.utf8.count + request.headers.count * 32)
        HeaderRewriting.writeUpstreamRequestHead(for: request, clientAddress: writer.remoteAddress, into: &head)
        connection.writeHead(head, isHEAD: request.method == .HEAD, flush: request.framing == .none)
        if request.framing != .none {
            for part in body { writeBodyPart(part, to: connection, flush: false) }
            if end { writeRequestEnd(to: connection) } else { connection.flush() }
            writer.pauseRequestBody(!connection.isWritable)
        }
        armReadTimer()
    }

    /// A body part for the upstream: as it is under Content-Length, in a chunk when chunked.
    private func writeBodyPart(_ buffer: ByteBuffer, to connection: UpstreamConnection, flush: Bool) {
        guard request.framing == .chunked else {
            connection.write(buffer, flush: flush)
            return
        }
        guard buffer.readableBytes > 0 else {
            if flush { connection.flush() }
            return
        }
        var size = connection.allocator.buffer(capacity: 18)
        size.writeString(String(buffer.readableBytes, radix: 16))
        size.writeStaticString("\r\n")
        connection.write(size, flush: false)
        connection.write(buffer, flush: false)
        connection.write(ByteBuffer(staticString: "\r\n"), flush: flush)
    }

    private func writeRequestEnd(to connection: UpstreamConnection) {
        if request.framing == .chunked {
            connection.write(ByteBuffer(staticString: "0\r\n\r\n"), flush: true)
        } else {
            connection.flush()
        }
    }

    // MARK: RequestHandler (the client side)

    func requestBodyPart(_ buffer: ByteBuffer) {
        perform(machine.requestBodyPart(buffer))
    }

    func requestEnded() {
        perform(machine.requestEnded())
    }

    func clientHalfClosed() {
        perform(machine.clientHalfClosed())
    }

    func cancel(_ reason: ConnectionEndReason) {
        if machine.probesSent > 0 && (reason == .clientRST || reason == .writeFailed) {
            writer.observer.probeAnsweredByReset(route: writer.routeLabel)
        }
        perform(machine.cancelled())
    }

    func writabilityChanged(_ isWritable: Bool) {
        pauseUpstreamReads(!isWritable)
    }

    /// The client is not taking the response (or is again): the upstream waits meanwhile.
    private func pauseUpstreamReads(_ paused: Bool) {
        connection?.setReadsPaused(paused)
        stream?.setReadsPaused(paused)
    }

    // MARK: UpstreamConnectionDelegate (the upstream side)

    func upstreamReceived(_ event: UpstreamResponseParser.Event) {
        switch event {
        case .head(let head):
            if let server = machine.server { upstream.selector.recordSuccess(server) }
            perform(machine.responseHead(head))
        case .body(let buffer):
            perform(machine.responseBodyPart(buffer))
        case .end:
            perform(machine.responseEnd())
        }
    }

    /// One read from the upstream is done: send what it gave the client in one write. The read
    /// timeout runs from here, as nginx's proxy_read_timeout runs between two reads.
    func upstreamReadComplete() {
        armReadTimer()
        writer.flush()
    }

    func upstreamFailed() {
        if let server = machine.server, machine.state == .awaitingResponse { upstream.selector.recordFailure(server) }
        perform(machine.upstreamFailed())
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        writer.pauseRequestBody(!writable)
        if writable {
            sendTimer?.cancel()
            sendTimer = nil
        } else if sendTimer == nil {
            // The upstream stopped taking the request: 504 like a read timeout (nginx's proxy_send_timeout).
            sendTimer = eventLoop.assumeIsolated().scheduleTask(in: upstream.settings.sendTimeout) { [self] in
                sendTimer = nil
                perform(machine.timedOut())
            }
        }
    }

    func upstreamReadTimedOut() {
        perform(machine.timedOut())
    }

    // MARK: helpers

    /// How the client's response is framed: the upstream's length if it gave one, else streamed.
    private static func bodyKind(_ head: UpstreamResponseParser.Head, request: Request) -> ResponseHead.Body {
        if let length = head.contentLength { return .length(length) }
        if !ResponseHead.hasBody(status: Int(head.status.code), method: request.method) { return .empty }
        return .stream
    }

    /// read_timeout from now. The timer is the connection's (see `UpstreamConnection.setReadDeadline`).
    func armReadTimer() {
        let deadline = NIODeadline.now() + upstream.settings.readTimeout
        connection?.setReadDeadline(deadline, for: self)
        stream?.setReadDeadline(deadline)
    }

    func cancelReadTimer() {
        sendTimer?.cancel()
        sendTimer = nil
        connection?.clearReadDeadline()
        stream?.clearReadDeadline()
    }
}
