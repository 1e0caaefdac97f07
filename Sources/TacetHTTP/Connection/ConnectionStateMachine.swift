/// The half-close state machine of one HTTP/1.1 connection: a plain value that takes events
/// and returns what to do. It owns every decision about FIN, RST, timeouts and keep-alive;
/// `HTTPConnectionHandler` only carries the actions out, so all of this is testable without sockets.
///
/// The rules (RFC 9112 §9.6; DESIGN.md's promises):
/// - A client FIN after whole requests is not an abort: each is answered, in order, then FIN.
/// - A FIN in the middle of a request gets 400 at once; a FIN on an idle connection gets FIN.
/// - An RST or a failed write cancels the request in flight and closes at once.
/// - Every close the server starts is staged: FIN, discard input until the client's FIN, close.
public struct ConnectionStateMachine: Sendable {
    public enum State: Sendable, Equatable {
        /// Waiting for the first byte of a request (keep-alive timeout).
        case idle
        /// Part of a request head has arrived (header timeout).
        case readingHead
        /// A request has been handed to a route.
        case active(Exchange)
        /// After a 101 response the connection is a byte tunnel (a WebSocket through the proxy),
        /// carried by `TacetTunnel`'s glue: the HTTP handler has left the pipeline.
        case handedOver
        /// Our FIN is sent; reading and discarding until the client's FIN (linger timeouts).
        case lingering
        case closed
    }

    public struct Exchange: Sendable, Equatable {
        public var requestComplete: Bool
        public var response: ResponseProgress
        /// Both sides allow another request after this one.
        public var keepAlive: Bool
        /// An HTTP/1.0 request: no chunked response, keep-alive only when asked for.
        public var http10 = false
        /// The client waits for `100 Continue` before its body...
        public var expectsContinue = false
        /// ...and it was sent.
        public var continueSent = false
        /// The response's status, once its head is written.
        public var status: Int?
        /// How the response's body is framed, once its head is written.
        var framing: ResponseEncoder.Framing = .none
    }

    /// How a response head is framed and what its Connection header says.
    struct ResponseFraming: Equatable {
        var framing: ResponseEncoder.Framing
        var connection: ResponseEncoder.ConnectionHeader
    }

    public enum ResponseProgress: Sendable, Equatable {
        case notStarted, started, complete
    }

    /// How to end the connection.
    public enum CloseMode: Sendable, Equatable {
        /// Flush, send FIN, read and discard until the client's FIN or a linger timeout, close.
        case staged
        /// The client already sent FIN: flush, then close (which sends our FIN).
        case afterFlush
        /// Close now: nobody is reading what we would flush.
        case immediately
    }

    public enum Action: Sendable, Equatable {
        case none
        /// Hand the request to its route.
        case dispatch
        /// The exchange is over and the connection stays: parse buffered bytes, read on.
        case nextRequest
        /// The client half-closed after a whole request: tell the route (FIN policies), carry on.
        case notifyHalfClose
        /// End the connection: cancel the route's work if asked, answer `error` if the response
        /// has not started, then close as `mode` says. `reason` is what the logs record.
        case end(cancelRequest: Bool, error: RequestError?, mode: CloseMode, reason: ConnectionEndReason)
    }

    /// Which timeout currently applies; the handler keeps one timer per connection.
    public enum Timer: Sendable, Equatable {
        case keepAlive, header, body, linger, none
    }

    public private(set) var state: State = .idle {
        didSet { if case .active(let e) = state { exchange = e } }
    }
    /// The current exchange, or the one just finished until the next begins: the one record
    /// of its response (the handler asks here, and logs from here once the machine moves on).
    public private(set) var exchange: Exchange?
    public private(set) var inputClosed = false
    public private(set) var quiescing = false
    public private(set) var requestsServed = 0
    /// Set when the connection starts to end; the reason the connection-end log line gives.
    public private(set) var endReason: ConnectionEndReason?
    private let maxRequests: Int

    public init(maxRequestsPerConnection: Int = 1000) {
        self.maxRequests = max(1, maxRequestsPerConnection)
    }

    public var timer: Timer {
        switch state {
        case .idle: return .keepAlive
        case .readingHead: return .header
        case .active(let e): return e.requestComplete ? .none : .body
        case .lingering: return .linger
        case .handedOver, .closed: return .none
        }
    }

    /// Whether the parser should be fed: between requests, or while the current body arrives.
    public var wantsRequestBytes: Bool {
        switch state {
        case .idle, .readingHead: return true
        case .active(let e): return !e.requestComplete
        case .handedOver, .lingering, .closed: return false
        }
    }

    /// The current (or just finished) exchange's response: its status once its head is written,
    /// its framing, whether it is complete.
    public var responseStatus: Int? { exchange?.status }
    var responseFraming: ResponseEncoder.Framing { exchange?.framing ?? .none }
    public var responseComplete: Bool { exchange?.response == .complete }

    /// Whether the response being written will be followed by more requests on this connection.
    public var responseKeepsAlive: Bool {
        guard case .active(let e) = state else { return false }
        return e.keepAlive && !quiescing
    }

    // MARK: events from the client

    /// Some bytes of a request head arrived, not yet a whole head.
    public mutating func partialHeadReceived() {
        if case .idle = state { state = .readingHead }
    }

    public mutating func requestHeadReceived(keepAlive: Bool, http10: Bool = false, expectsContinue: Bool = false) -> Action {
        switch state {
        case .idle, .readingHead:
            let keep = keepAlive && !quiescing && requestsServed + 1 < maxRequests
            state = .active(Exchange(requestComplete: false, response: .notStarted, keepAlive: keep, http10: http10,
                                     expectsContinue: expectsContinue))
            return .dispatch
        case .active, .handedOver, .lingering, .closed:
            return .none
        }
    }

    public mutating func requestEndReceived() -> Action {
        guard case .active(var e) = state else { return .none }
        e.requestComplete = true
        state = .active(e)
        return e.response == .complete ? finishExchange(e) : .none
    }

    /// The request could not be parsed (or was too slow, or too large).
    public mutating func requestFailed(_ error: RequestError) -> Action {
        switch state {
        case .idle, .readingHead:
            return end(cancel: false, error: error, reason: error == .truncated ? .clientFIN : error == .timedOut ? .timeout : .serverClose)
        case .active(let e):
            let reason: ConnectionEndReason = error == .truncated ? .clientFIN : error == .timedOut ? .timeout : .serverClose
            if e.response == .notStarted {
                return end(cancel: true, error: error, reason: reason)
            }
            // The response is under way: it cannot become an error response. End it short,
            // so the client sees the truncation rather than a whole-looking body.
            let mode: CloseMode = inputClosed ? .afterFlush : (e.response == .complete ? .staged : .immediately)
            return end(cancel: e.response != .complete, error: nil, mode: mode, reason: reason)
        case .handedOver, .lingering, .closed:
            return .none
        }
    }

    /// The client's FIN. `midRequest`: unparsed or partly parsed request bytes remain.
    public mutating func inputClosedReceived(midRequest: Bool) -> Action {
        inputClosed = true
        switch state {
        case .idle, .readingHead:
            if midRequest { return requestFailed(.truncated) }
            return end(cancel: false, error: nil, reason: .clientFIN)
        case .active(let e):
            if !e.requestComplete { return requestFailed(.truncated) }
            return e.response == .complete ? .none : .notifyHalfClose
        case .handedOver:
            return .none
        case .lingering:
            // The staged close is done: the client has read what it wanted and closed its side.
            state = .closed
            return .end(cancelRequest: false, error: nil, mode: .immediately, reason: endReason ?? .clientFIN)
        case .closed:
            return .none
        }
    }

    /// The connection was reset, or a write failed: nobody is listening any more.
    public mutating func connectionFailed(_ reason: ConnectionEndReason) -> Action {
        switch state {
        case .closed:
            return .none
        case .active(let e):
            state = .closed
            endReason = endReason ?? reason
            return .end(cancelRequest: e.response != .complete || !e.requestComplete, error: nil, mode: .immediately, reason: reason)
        case .handedOver:
            return .none
        case .idle, .readingHead, .lingering:
            state = .closed
            endReason = endReason ?? reason
            return .end(cancelRequest: false, error: nil, mode: .immediately, reason: endReason ?? reason)
        }
    }

    /// The channel became inactive without an error we saw first. Only an RST closes our socket
    /// without us: a client that merely half-closed cannot. (An RST after a FIN is how a client
    /// that called close() answers an interim response.)
    public mutating func channelClosed() -> Action {
        connectionFailed(.clientRST)
    }

    // MARK: events from the route

    public mutating func responseStarted() {
        guard case .active(var e) = state, e.response == .notStarted else { return }
        e.response = .started
        state = .active(e)
    }

    /// `100 Continue` went to a client that asked to wait for it.
    public mutating func continueSent() {
        guard case .active(var e) = state else { return }
        e.continueSent = true
        state = .active(e)
    }

    /// The route's final head (or 101) is being written: its framing, its Connection header, and
    /// whether the connection stays open after it. `close`: the route asks to close after it.
    mutating func responseHead(status: Int, body: ResponseHead.Body, close: Bool) -> ResponseFraming {
        responseStarted()
        guard case .active(var e) = state else { return ResponseFraming(framing: .none, connection: .close) }
        var keepAlive = e.keepAlive && !quiescing && !close
        // A client told to wait for 100 Continue that never got it may or may not send its body:
        // the connection cannot be trusted for another request.
        if e.expectsContinue && !e.continueSent { keepAlive = false }
        let framing: ResponseEncoder.Framing
        switch body {
        case _ where ResponseHead.forbidsBody(status: status): framing = .none
        case .empty: framing = .contentLength(0)
        case .length(let n): framing = .contentLength(n)
        case .stream where e.http10:
            // No chunked coding in HTTP/1.0: the body ends with the connection.
            framing = .closeDelimited
            keepAlive = false
        case .stream: framing = .chunked
        }
        e.keepAlive = keepAlive
        e.status = status
        e.framing = framing
        state = .active(e)
        let connection: ResponseEncoder.ConnectionHeader = status == 101 ? .upgrade
            : !keepAlive ? .close : (e.http10 ? .keepAlive : .none)
        return ResponseFraming(framing: framing, connection: connection)
    }

    /// The route finished its response. `close`: the route wants the connection closed after it.
    public mutating func responseEnded(close: Bool = false) -> Action {
        guard case .active(var e) = state else { return .none }
        e.response = .complete
        if close { e.keepAlive = false }
        state = .active(e)
        if e.requestComplete { return finishExchange(e) }
        // The rest of the body is still coming. Keep reading and discarding it on a keep-alive
        // connection; otherwise close now, staged, which discards it too.
        if !e.keepAlive || quiescing { return end(cancel: true, error: nil, reason: .serverClose) }
        return .none
    }

    /// After its 101 the route handed the connection to a byte tunnel.
    public mutating func handedOver() {
        guard case .active = state else { return }
        state = .handedOver
    }

    /// The tunnel the connection became has ended (its glue closed or reset the socket).
    public mutating func tunnelFinished(_ reason: ConnectionEndReason) {
        guard case .handedOver = state else { return }
        state = .closed
        endReason = endReason ?? reason
    }

    /// The route gave up on the request: a FIN policy decided the client is gone (`.clientFIN`),
    /// or its upstream failed mid-response (`.serverClose`). No response, or a truncated one:
    /// close without pretending the response is whole.
    public mutating func routeAbandoned(_ reason: ConnectionEndReason) -> Action {
        guard case .active = state else { return .none }
        let mode: CloseMode = inputClosed ? .afterFlush : .staged
        return end(cancel: false, error: nil, mode: mode, reason: reason)
    }

    // MARK: events from the server

    /// The timeout named by `timer` fired.
    public mutating func timeoutFired() -> Action {
        switch state {
        case .idle:
            return end(cancel: false, error: nil, reason: .timeout)
        case .readingHead:
            return end(cancel: false, error: .timedOut, reason: .timeout)
        case .active(let e):
            guard !e.requestComplete else { return .none }
            return requestFailed(.timedOut)
        case .lingering:
            state = .closed
            return .end(cancelRequest: false, error: nil, mode: .immediately, reason: endReason ?? .timeout)
        case .handedOver, .closed:
            return .none
        }
    }

    /// The client has not taken our bytes for the send timeout.
    public mutating func sendTimeoutFired() -> Action {
        switch state {
        case .closed: return .none
        case .active(let e):
            state = .closed
            endReason = endReason ?? .timeout
            return .end(cancelRequest: e.response != .complete, error: nil, mode: .immediately, reason: .timeout)
        case .handedOver:
            return .none
        default:
            state = .closed
            endReason = endReason ?? .timeout
            return .end(cancelRequest: false, error: nil, mode: .immediately, reason: .timeout)
        }
    }

    /// Graceful shutdown: finish what is in flight, take no new requests.
    public mutating func quiesce() -> Action {
        quiescing = true
        if case .idle = state { return end(cancel: false, error: nil, reason: .serverClose) }
        return .none
    }

    // MARK: helpers

    private mutating func finishExchange(_ e: Exchange) -> Action {
        requestsServed += 1
        if !e.keepAlive || quiescing {
            return end(cancel: false, error: nil, reason: .serverClose)
        }
        state = .idle
        // With the client's FIN already in, the handler parses what is buffered; when that runs
        // out it reports the FIN again through `inputClosedReceived`.
        return .nextRequest
    }

    private mutating func end(cancel: Bool, error: RequestError?, mode: CloseMode? = nil,
                              reason: ConnectionEndReason) -> Action {
        endReason = endReason ?? reason
        let mode = mode ?? (inputClosed ? .afterFlush : .staged)
        state = mode == .staged ? .lingering : .closed
        return .end(cancelRequest: cancel, error: error, mode: mode, reason: reason)
    }
}
