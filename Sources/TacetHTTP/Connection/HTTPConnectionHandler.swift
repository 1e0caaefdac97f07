import Logging
import NIOCore
import NIOHTTP1
import TacetTunnel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fired into a connection's pipeline to start a graceful shutdown: finish what is in flight,
/// take no new request, close idle connections (staged).
public struct QuiesceEvent: Sendable {
    public init() {}
}

/// One HTTP/1.1 connection: parses requests, hands them to routes, writes responses, and
/// carries out what `ConnectionStateMachine` decides about FIN, RST, timeouts and keep-alive.
///
/// Needs `ChannelOptions.allowRemoteHalfClosure` on the channel: the client's FIN must arrive as
/// `ChannelEvent.inputClosed`, not as the end of the connection.
public final class HTTPConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundIn = IOData
    public typealias OutboundOut = IOData

    /// The request being answered. A class: it is read and updated on every event of the
    /// exchange, and copying a struct holding the request would retain all of its fields each time.
    final class Exchange {
        let id: UInt64
        let request: Request
        let start: NIODeadline
        var handler: (any RequestHandler)?
        var bodyBytes = 0
        /// The matched route's label, for metrics ("-" until a router names it).
        var routeLabel = "-"
        /// A gRPC answer's status, for the access line.
        var grpcStatus: String?
        /// The body's coding, when a compressing route applied one.
        var coding: CodingNote?
        /// The client X-Forwarded-For names, when a trusted proxy sent the request.
        var client: String?
        let suppressBody: Bool

        init(id: UInt64, request: Request, start: NIODeadline) {
            self.id = id
            self.request = request
            self.start = start
            self.suppressBody = request.method == .HEAD
        }
    }

    let settings: ServerSettings
    private let responder: any Responder
    /// The access log, metrics and the connection's end line.
    var log: ConnectionLog
    var observer: any HTTPObserver { log.observer }
    var logger: Logger { log.logger }

    var machine: ConnectionStateMachine
    var parser: RequestParser
    var pending = ByteBuffer()
    /// Response bytes written without a flush, not yet given to NIO (see `hold`).
    var held: ByteBuffer?
    /// The last response buffer handed to NIO: the next head reuses its storage.
    var spare = SpareBuffer()
    var exchange: Exchange?
    private var nextExchangeID: UInt64 = 1
    var context: ChannelHandlerContext?
    private var processing = false
    var readHeld = false
    var routePausedReads = false
    var started = false
    /// The client this connection is counted against (`connections_per_client`), until it ends.
    var countedClient: String?
    /// What the access log says for an exchange its route abandoned: status and end.
    var abandonLog: (Int?, String)?

    var timerKind: ConnectionStateMachine.Timer = .none
    /// `requestsServed` when the timer was last set: a new exchange means a new deadline even if
    /// the kind is the same (one read can hold a whole request and its answer).
    var timerRequest = -1
    var timer = LazyTimer()
    var lingerUntil: NIODeadline?
    var sendTimer: Scheduled<Void>?

    /// One clock reading for a whole batch of input: a request's start, its end (when answered
    /// at once) and the timer's new deadline share it, as nginx's cached time per loop iteration.
    private var batchTime: NIODeadline?
    /// The loop's clock (EmbeddedEventLoop's in tests), read once per batch of input.
    var now: NIODeadline { batchTime ?? eventLoop.now }
    var remoteAddressString: String { log.remoteAddress }

    public convenience init(settings: ServerSettings, responder: any Responder, accessLog: AccessLog?, logger: Logger,
                            eventLoop: any EventLoop) {
        self.init(state: ListenerState(settings: settings, responder: responder, accessLog: accessLog),
                  logger: logger, eventLoop: eventLoop)
    }

    public init(state: ListenerState, logger: Logger, eventLoop: any EventLoop) {
        let settings = state.settings
        let responder = state.responder
        self.eventLoop = eventLoop
        self.log = ConnectionLog(accessLog: state.accessLog, observer: state.observer, logger: logger,
                                 connectedAt: eventLoop.now)
        self.settings = settings
        self.responder = responder
        self.machine = ConnectionStateMachine(maxRequestsPerConnection: settings.keepaliveRequests)
        self.parser = RequestParser(limits: settings.parserLimits)
        self.log.logsRequestID = settings.requestID
        self.isSecure = state.isSecure
    }

    /// The listener is TLS: requests are `https`.
    private let isSecure: Bool

    // MARK: for ResponseWriter

    let eventLoop: any EventLoop
    /// The channel's, kept here: `context.channel` costs a retain and a release on every use.
    private(set) var allocator = ByteBufferAllocator()
    /// This thread's Date line, looked up once (not per response).
    private(set) var dateCache = DateCache.current
    /// The channel's writability as last reported (NIO reports every change).
    private(set) var isWritable = false

    func isCurrent(_ id: UInt64) -> Bool {
        guard let exchange else { return false }
        return exchange.id == id && !machine.responseComplete
    }

    // MARK: channel events

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        dateCache = DateCache.current
        allocator = context.channel.allocator
        isWritable = context.channel.isWritable
        // Added after the channel went active (behind ALPN, after the TLS handshake): no
        // channelActive will come, so the connection starts here.
        if context.channel.isActive { connectionStarted(context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        held = nil
        spare.drop()
        isWritable = false
        cancelTimers()
        self.context = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        connectionStarted(context)
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let incoming = unwrapInboundIn(data)
        log.bytesIn += incoming.readableBytes
        switch machine.state {
        case .lingering:
            // Staged close: discard, and give the client another linger period to finish.
            updateTimer(refresh: true)
            return
        case .closed, .handedOver:
            return
        default:
            break
        }
        if pending.readableBytes == 0 {
            pending = incoming
        } else {
            var incoming = incoming
            pending.writeBuffer(&incoming)
        }
        processInput()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            // Requests already buffered come before the FIN: a response that ended outside this
            // connection's read left the next one for a task (`startNextRequest`) that may not
            // have run yet. Parse them now, or the FIN would look like one cut short.
            if machine.wantsRequestBytes && pending.readableBytes > 0 { processInput() }
            perform(machine.inputClosedReceived(midRequest: parser.isMidRequest(pending: pending)))
            updateTimer()
        case let event as ClientAddressEvent:
            // A load balancer's PROXY header: the client is whom it says, not the balancer.
            log.remoteAddress = event.ip
            countClient(event.ip)
        case is QuiesceEvent:
            perform(machine.quiesce())
            updateTimer()
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        perform(machine.connectionFailed(Self.reason(for: error, writing: false)))
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if let ip = countedClient {
            countedClient = nil
            settings.clientLimiter?.releaseConnection(ip)
        }
        isWritable = false
        perform(machine.channelClosed())
        cancelTimers()
        logConnectionEnd()
        context.fireChannelInactive()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        isWritable = writable
        if writable {
            sendTimer?.cancel()
            sendTimer = nil
        } else if sendTimer == nil {
            sendTimer = context.eventLoop.assumeIsolated().scheduleTask(in: settings.sendTimeout) { [self] in
                sendTimer = nil
                perform(machine.sendTimeoutFired())
            }
        }
        exchange?.handler?.writabilityChanged(writable)
        context.fireChannelWritabilityChanged()
    }

    public func read(context: ChannelHandlerContext) {
        if shouldHoldReads {
            readHeld = true
        } else {
            context.read()
        }
    }

    // MARK: input

    private var shouldHoldReads: Bool {
        if case .lingering = machine.state { return false }
        return routePausedReads || pending.readableBytes > settings.maxBufferedPipelineBytes
    }

    /// A route that cannot take more body (its upstream is not writable) pauses reading.
    func setRoutePausedReads(_ id: UInt64, _ paused: Bool) {
        guard exchange?.id == id else { return }
        routePausedReads = paused
        if !paused { resumeReadingIfHeld() }
    }

    func resumeReadingIfHeld() {
        guard readHeld, !shouldHoldReads, let context else { return }
        readHeld = false
        context.read()
    }

    /// Starts a batch (one clock reading for all it does) unless one is running; returns whether
    /// it did, for `endBatch`.
    func beginBatch() -> Bool {
        guard batchTime == nil else { return false }
        batchTime = eventLoop.now
        return true
    }

    func endBatch(_ outermost: Bool) {
        if outermost { batchTime = nil }
    }

    /// Feeds buffered bytes to the parser while the state machine wants them.
    private func processInput() {
        guard !processing else { return }
        processing = true
        let outermost = beginBatch()
        defer {
            processing = false
            endBatch(outermost)
        }
        while machine.wantsRequestBytes {
            let event: RequestParser.Event?
            do {
                event = try parser.next(&pending)
            } catch {
                perform(machine.requestFailed(error))
                break
            }
            guard let event else { break }
            switch event {
            case .head(let request):
                startExchange(request)
            case .body(let part):
                if timerKind == .body { updateTimer(refresh: true) }
                if let exchange, !machine.responseComplete { exchange.handler?.requestBodyPart(part) }
            case .end:
                if let exchange, !machine.responseComplete { exchange.handler?.requestEnded() }
                perform(machine.requestEndReceived())
            }
        }
        if pending.readableBytes == 0 { pending = ByteBuffer() }
        if machine.inputClosed && machine.wantsRequestBytes {
            // The buffered requests are used up and the client's FIN is in: that FIN comes now.
            perform(machine.inputClosedReceived(midRequest: parser.isMidRequest(pending: pending)))
        } else if case .idle = machine.state, pending.readableBytes > 0 {
            machine.partialHeadReceived()
        }
        updateTimer()
        resumeReadingIfHeld()
    }

    /// After an exchange: parse on. Inside this connection's own read, `processInput`'s loop
    /// carries on by itself. Otherwise the response ended from another channel's event (an
    /// upstream's read) or a timer: the next pipelined request then starts in a task of its own,
    /// never on that channel's stack, so nothing it does (taking a pooled upstream connection,
    /// say) can run in the middle of a read that is still being handled (ARCHITECTURE.md).
    private func startNextRequest() {
        if processing { return }
        if pending.readableBytes > 0 || machine.inputClosed {
            eventLoop.assumeIsolated().execute { [self] in processInput() }
        } else {
            updateTimer()
            resumeReadingIfHeld()
        }
    }

    private func startExchange(_ parsed: Request) {
        guard machine.requestHeadReceived(keepAlive: parsed.keepAlive, http10: parsed.version.minor == 0,
                                          expectsContinue: parsed.expectsContinue) == .dispatch else { return }
        let id = nextExchangeID
        nextExchangeID += 1
        let admitted = Admission(parsed, peer: log.remoteAddress, isSecure: isSecure, settings: settings, observer: observer)
        let request = admitted.request
        exchange = Exchange(id: id, request: request, start: now)
        exchange?.client = admitted.client
        let writer = ResponseWriter(connection: self, exchangeID: id)
        if let retry = admitted.retryAfter {
            ClientLimiter.tooManyRequests(writer, retryAfter: retry)
            return
        }
        let handler = responder.respond(to: request, writer: writer)
        guard let current = exchange, current.id == id else { return }
        if let handler, !machine.responseComplete {
            current.handler = handler
            // The route wants the body: now is when a waiting client should send it.
            if request.expectsContinue && machine.responseStatus == nil, let context {
                var buffer = allocator.buffer(capacity: 32)
                buffer.writeStaticString("HTTP/1.1 100 Continue\r\n\r\n")
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
                machine.continueSent()
            }
        }
    }

    // MARK: actions

    func perform(_ action: ConnectionStateMachine.Action) {
        switch action {
        case .none, .dispatch:
            break
        case .nextRequest:
            finishExchange(end: "complete")
            startNextRequest()
        case .notifyHalfClose:
            exchange?.handler?.clientHalfClosed()
        case .end(let cancelRequest, let error, let mode, let reason):
            endConnection(cancelRequest: cancelRequest, error: error, mode: mode, reason: reason)
        }
    }

    static func reason(for error: any Error, writing: Bool) -> ConnectionEndReason {
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNRESET: return writing ? .writeFailed : .clientRST
            case EPIPE: return .writeFailed
            case ETIMEDOUT: return .timeout
            default: break
            }
        }
        return writing ? .writeFailed : .clientRST
    }
}
