import TacetHTTP

/// One HTTP/2 stream's exchange, as plain state: what the stream handler must do on each event.
/// END_STREAM on the request is its end, never an abort (RFC 9113 §8.1); a stream that closes
/// before both sides ended was reset (by the client's RST_STREAM, or with its connection) and
/// its route is cancelled at once. Tested without channels.
struct StreamMachine {
    enum RequestState: Equatable { case awaitingHead, body, ended }
    enum ResponseState: Equatable { case none, started, ended }

    enum Action: Equatable {
        case none
        /// Give the request to the router; `ended`: it has no body.
        case dispatch(ended: Bool)
        /// Answer with this status and reason (no route, or the route's answer not begun).
        case respondError(status: Int, reason: String)
        case deliverBody(ended: Bool)
        /// The route is told the request is over (trailers, or END_STREAM on an empty DATA).
        case endBody
        /// Stop the route, log the exchange with `end`, and reset the stream with `code`
        /// (nil: it is closed already).
        case cancel(ConnectionEndReason, end: String, reset: H2ErrorCode?)
        /// The response ended: log it. `stopUpload`: the request body is still coming, so the
        /// stream is reset with NO_ERROR (§8.1) and the rest of the upload is not read.
        case finished(stopUpload: Bool)
    }

    let maxBodySize: Int
    private(set) var request: RequestState = .awaitingHead
    private(set) var response: ResponseState = .none
    private(set) var bodyBytes = 0
    private(set) var done = false
    /// The request's Content-Length: DATA must add up to it (RFC 9113 §8.1.1).
    private(set) var declaredLength: Int?

    init(maxBodySize: Int) { self.maxBodySize = maxBodySize }

    mutating func headReceived(endStream: Bool, declaredLength: Int? = nil) -> Action {
        guard request == .awaitingHead, !done else { return .none }
        self.declaredLength = declaredLength
        if endStream, let declaredLength, declaredLength != 0 { return malformed() }
        request = endStream ? .ended : .body
        return .dispatch(ended: endStream)
    }

    /// The head could not become a request.
    mutating func headRefused(status: Int, reason: String) -> Action {
        guard request == .awaitingHead, !done else { return .none }
        request = .ended
        return .respondError(status: status, reason: reason)
    }

    mutating func dataReceived(bytes: Int, endStream: Bool) -> Action {
        guard request == .body, !done else { return .none }
        bodyBytes += bytes
        if bodyBytes > maxBodySize {
            request = .ended
            if response == .none { return .respondError(status: 413, reason: "request body too large") }
            done = true
            return .cancel(.serverClose, end: "body_too_large", reset: .cancel)
        }
        if let declaredLength, bodyBytes > declaredLength || (endStream && bodyBytes != declaredLength) { return malformed() }
        if endStream { request = .ended }
        return .deliverBody(ended: endStream)
    }

    /// A request whose DATA does not add up to its Content-Length is malformed: the stream is
    /// reset with PROTOCOL_ERROR (§8.1.1), not answered.
    private mutating func malformed() -> Action {
        request = .ended
        done = true
        return .cancel(.serverClose, end: "protocol_error", reset: .protocolError)
    }

    /// The client's FIN (or `close_notify`) with this stream's request not whole: it can never
    /// be. Answered 400 as on HTTP/1.1 if nothing was answered yet, else cut off.
    mutating func inputEnded() -> Action {
        guard !done, request != .ended else { return .none }
        request = .ended
        if response == .none { return .respondError(status: 400, reason: RequestError.truncated.reason) }
        done = true
        return .cancel(.clientFIN, end: ConnectionEndReason.clientFIN.rawValue, reset: .cancel)
    }

    mutating func trailersReceived() -> Action {
        guard request == .body, !done else { return .none }
        request = .ended
        return .endBody
    }

    mutating func responseStarted() {
        if response == .none { response = .started }
    }

    mutating func responseEnded() -> Action {
        guard response != .ended, !done else { return .none }
        response = .ended
        done = true
        return .finished(stopUpload: request != .ended)
    }

    /// No DATA for the body timeout.
    mutating func bodyTimedOut() -> Action {
        guard request == .body, !done else { return .none }
        request = .ended
        if response == .none { return .respondError(status: 408, reason: "request body timeout") }
        done = true
        return .cancel(.timeout, end: "timeout", reset: .cancel)
    }

    /// The route gives up: cut the stream off so the client sees it was not answered whole.
    mutating func routeAbandoned(_ reason: ConnectionEndReason) -> Action {
        guard !done else { return .none }
        done = true
        return .cancel(reason, end: reason.rawValue, reset: response == .none ? .cancel : .internalError)
    }

    /// The stream closed: a reset from the client, or the connection went. Nothing to do if the
    /// exchange was over.
    mutating func streamClosed(connectionGone: Bool) -> Action {
        guard !done else { return .none }
        done = true
        return .cancel(connectionGone ? .clientRST : .clientRSTStream,
                       end: connectionGone ? "client_rst" : "client_rst_stream", reset: nil)
    }
}
