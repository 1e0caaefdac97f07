import NIOCore
import NIOHTTP1
import TacetHTTP

/// One proxied request, on the client connection's event loop: gets an upstream connection
/// (pooled or new), streams the request up and the response down with backpressure both ways,
/// and carries out what `ProxyExchangeStateMachine` decides.
final class ProxyExchange: RequestHandler, UpstreamConnectionDelegate, UpstreamReadTimeoutDelegate {
    let request: Request
    let writer: ResponseWriter
    let upstream: Upstream
    private let pool: UpstreamPool?
    var machine: ProxyExchangeStateMachine

    var connection: UpstreamConnection?
    private var server: Int?
    /// Servers picked before `server` for this request (retries only: the common request builds no set).
    private var tried: Set<Int> = []
    /// Body received before the upstream connection was ready.
    private var buffered: [ByteBuffer] = []
    private var bufferedBytes = 0
    private var requestEndReceived = false
    private var requestSent = false
    private var upstreamKeepAlive = true
    /// A 101 went to the client: its `.end` hands both connections to an `UpgradeTunnel`.
    private var upgradePending = false
    private var sendTimer: Scheduled<Void>?
    private var eventLoop: any EventLoop { writer.eventLoop }

    private static let maxBufferedBody = 64 * 1024

    init(request: Request, writer: ResponseWriter, upstream: Upstream, policy: ClientFINPolicy) {
        self.request = request
        self.writer = writer
        self.upstream = upstream
        self.pool = upstream.pool(for: writer.eventLoop)
        let idempotent: Bool
        switch request.method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: idempotent = true
        default: idempotent = false
        }
        self.machine = ProxyExchangeStateMachine(
            policy: policy, clientAcceptsInterim: request.acceptsInterimResponses,
            retryable: idempotent && request.framing == .none)
    }

    func start() {
        obtainConnection(excluding: [])
    }

    // MARK: connection

    private func obtainConnection(excluding: Set<Int>) {
        guard let server = upstream.selector.pick(excluding: excluding) else {
            perform(machine.connectFailed(moreServers: false))
            return
        }
        if let previous = self.server { tried.insert(previous) }
        self.server = server
        if let pooled = pool?.take(server: server) {
            attach(pooled, reused: true)
            return
        }
        let address = upstream.selector.addresses[server]
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        let report = UpstreamReport(upstream: upstream.name, server: "\(address.host):\(address.port)",
                                    logger: writer.logger, observer: writer.observer)
        UpstreamConnection.connect(host: address.host, port: address.port, server: server,
                                   on: eventLoop, timeout: upstream.settings.connectTimeout, report: report)
            .whenComplete { result in
                let exchange = loopBound.value
                switch result {
                case .success(let connection):
                    exchange.attach(connection, reused: false)
                case .failure:
                    exchange.connectFailed(server: server)
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

    private func connectFailed(server: Int) {
        upstream.selector.recordFailure(server)
        let more = upstream.selector.pick(excluding: triedSoFar) != nil
        perform(machine.connectFailed(moreServers: more))
    }

    /// Every server tried for this request, the current one included.
    private var triedSoFar: Set<Int> {
        var all = tried
        if let server { all.insert(server) }
        return all
    }

    /// Lets go of the upstream connection: back to the pool if `reuse`, else closed.
    private func releaseConnection(reuse: Bool) {
        cancelReadTimer()
        guard let connection else { return }
        self.connection = nil
        upstream.selector.connectionClosed(connection.server)
        connection.release(reuse: reuse, to: pool)
    }

    // MARK: actions

    func perform(_ action: ProxyExchangeStateMachine.Action) {
        switch action {
        case .none:
            break
        case .sendRequest:
            sendRequest()
        case .connect(let excludingLast):
            releaseConnection(reuse: false)
            obtainConnection(excluding: excludingLast ? triedSoFar : [])
        case .respondError(let status):
            releaseConnection(reuse: false)
            let body = ByteBuffer(string: status.reasonPhrase.lowercased() + "\n")
            writer.respond(ResponseHead(status: status, headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]),
                                        body: .length(body.readableBytes)), body: body)
        case .relayInterim, .relayHead, .relayBody, .relayEnd:
            break  // carried out where the response part is at hand
        case .truncateClient(let status, let why):
            releaseConnection(reuse: false)
            writer.abandon(.serverClose, logStatus: status, logEnd: why)
        case .abandonClient:
            releaseConnection(reuse: false)
            writer.abandon(.clientFIN)
        case .sendProbe(let status):
            if writer.writeInterim(status) { writer.observer.probeSent(route: writer.routeLabel) }
        case .closeUpstream:
            releaseConnection(reuse: false)
        }
    }

    private func sendRequest() {
        guard let connection else { return }
        var head = connection.headBuffer(capacity: 256 + request.target.utf8.count + request.headers.count * 32)
        HeaderRewriting.writeUpstreamRequestHead(for: request, clientAddress: writer.remoteAddress, into: &head)
        let isHEAD = request.method == .HEAD
        if request.framing == .none {
            // No body: the head is the whole request, whether or not the client's end has been seen.
            connection.writeHead(head, isHEAD: isHEAD, flush: true)
            requestSent = true
            armReadTimer()
            return
        }
        connection.writeHead(head, isHEAD: isHEAD, flush: buffered.isEmpty && !requestEndReceived)
        for part in buffered {
            writeBodyPart(part, to: connection, flush: false)
        }
        buffered.removeAll()
        bufferedBytes = 0
        if requestEndReceived {
            writeRequestEnd(to: connection)
            requestSent = true
        } else {
            connection.flush()
        }
        writer.pauseRequestBody(!connection.isWritable)
        armReadTimer()
    }

    // MARK: RequestHandler (the client side)

    func requestBodyPart(_ buffer: ByteBuffer) {
        if let connection, machine.state != .connecting {
            writeBodyPart(buffer, to: connection, flush: true)
            if !connection.isWritable { writer.pauseRequestBody(true) }
        } else if machine.state == .connecting {
            buffered.append(buffer)
            bufferedBytes += buffer.readableBytes
            if bufferedBytes > Self.maxBufferedBody { writer.pauseRequestBody(true) }
        }
    }

    func requestEnded() {
        requestEndReceived = true
        machine.requestEnded()
        if let connection, machine.state != .connecting, !requestSent {
            writeRequestEnd(to: connection)
            requestSent = true
        }
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
        connection?.setReadsPaused(!isWritable)
    }

    // MARK: UpstreamConnectionDelegate (the upstream side)

    func upstreamReceived(_ event: UpstreamResponseParser.Event) {
        switch event {
        case .head(let head):
            let action = machine.responseHead(status: head.status)
            if let server { upstream.selector.recordSuccess(server) }
            switch action {
            case .relayInterim:
                writer.writeInterim(head.status, headers: head.headers)
            case .relayHead where head.status == .switchingProtocols:
                startUpgrade(head)
            case .relayHead:
                upstreamKeepAlive = head.keepAlive
                // Flushed when this read from the upstream is done: head and body leave together.
                writer.writeHead(ResponseHead(status: head.status, body: Self.bodyKind(head, request: request),
                                              encodedFields: head.fields), flush: false)
                if !writer.isWritable { connection?.setReadsPaused(true) }
            default:
                perform(action)
            }
        case .body(let buffer):
            guard machine.responseBodyPart() == .relayBody else { return }
            writer.writeBody(buffer, flush: false)
            if !writer.isWritable { connection?.setReadsPaused(true) }
        case .end:
            if upgradePending {
                // The 101's end: from here both connections carry the new protocol's bytes.
                upgradePending = false
                guard let connection, let server else { return }
                self.connection = nil
                cancelReadTimer()
                UpgradeTunnel.start(client: writer, upstream: connection, selector: upstream.selector,
                                    server: server, settings: upstream.settings)
                return
            }
            let action = machine.responseEnd(keepAlive: upstreamKeepAlive, requestSent: requestSent)
            guard case .relayEnd(let reuse) = action else {
                perform(action)
                return
            }
            releaseConnection(reuse: reuse)
            writer.end()
        }
    }

    /// One read from the upstream is done: send what it gave the client in one write. The read
    /// timeout runs from here, as nginx's proxy_read_timeout runs between two reads.
    func upstreamReadComplete() {
        armReadTimer()
        writer.flush()
    }

    func upstreamFailed() {
        if let server, machine.state == .awaitingResponse { upstream.selector.recordFailure(server) }
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
                perform(machine.readTimedOut())
            }
        }
    }

    // MARK: helpers

    /// How the client's response is framed: the upstream's length if it gave one, else streamed.
    private static func bodyKind(_ head: UpstreamResponseParser.Head, request: Request) -> ResponseHead.Body {
        if let length = head.contentLength { return .length(length) }
        if head.status == .noContent || head.status == .notModified || request.method == .HEAD { return .empty }
        return .stream
    }

    /// read_timeout from now. The timer is the connection's (see `UpstreamConnection.setReadDeadline`).
    func armReadTimer() {
        connection?.setReadDeadline(NIODeadline.now() + upstream.settings.readTimeout, for: self)
    }

    func cancelReadTimer() {
        sendTimer?.cancel()
        sendTimer = nil
        connection?.clearReadDeadline()
    }

    func upstreamReadTimedOut() {
        perform(machine.readTimedOut())
    }

    /// The upstream's 101: pass it on, and switch when its end has been parsed.
    private func startUpgrade(_ head: UpstreamResponseParser.Head) {
        guard connection != nil, HeaderRewriting.upgradeProtocol(of: request) != nil else {
            // A 101 nobody asked for: refuse to become a tunnel.
            perform(machine.upstreamFailed())
            return
        }
        cancelReadTimer()
        var headers = head.headers
        if let upgrade = head.upgrade { headers.replaceOrAdd(name: "Upgrade", value: upgrade) }
        writer.writeHead(ResponseHead(status: .switchingProtocols, headers: headers, body: .empty))
        upgradePending = true
    }
}
