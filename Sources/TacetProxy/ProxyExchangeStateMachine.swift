import NIOHTTP1

/// The decisions of one proxied request: which connection, retries, what the client sees when
/// the upstream fails, and what a client FIN means under the route's policy. A plain value: the
/// `ProxyExchange` handler carries out its actions, and the tests need no sockets.
public struct ProxyExchangeStateMachine: Sendable {
    public enum State: Sendable, Equatable {
        /// Waiting for an upstream connection (new or from the pool).
        case connecting
        /// Request head sent; waiting for the response head (the body may still be streaming up).
        case awaitingResponse
        /// The response head has gone to the client; relaying the body.
        case relayingResponse
        /// Done: response complete, or the exchange was cancelled or failed.
        case finished
    }

    public enum Action: Sendable, Equatable {
        case none
        /// Send the request head (and whatever body is buffered) on the new connection.
        case sendRequest
        /// Connect to another server, or to the same one on a fresh connection (a retry).
        case connect(excludingLastServer: Bool)
        /// Answer the client with this error status; close the upstream connection.
        case respondError(HTTPResponseStatus)
        case relayInterim
        case relayHead
        case relayBody
        /// Finish the client's response; pool the upstream connection if `reuse`, else close it.
        case relayEnd(reuse: Bool)
        /// The response is under way and cannot complete: cut the client off so it sees the
        /// truncation, close the upstream, log `logStatus`.
        case truncateClient(logStatus: Int, why: String)
        /// Client FIN under `abort`: close the upstream and end the client connection, 499.
        case abandonClient
        /// Client FIN under `probe`: send this interim response to see whether anyone is there.
        case sendProbe(HTTPResponseStatus)
        /// The client is gone: close the upstream connection (never pool it).
        case closeUpstream
    }

    public private(set) var state: State = .connecting
    public private(set) var probesSent = 0
    /// The client's whole request has been received.
    public private(set) var requestReceived = false
    private var connectionReused = false
    private var retried = false
    private let policy: ClientFINPolicy
    private let clientAcceptsInterim: Bool
    /// Safe to send twice: an idempotent method and no body.
    private let retryable: Bool

    public init(policy: ClientFINPolicy, clientAcceptsInterim: Bool, retryable: Bool) {
        self.policy = policy
        self.clientAcceptsInterim = clientAcceptsInterim
        self.retryable = retryable
    }

    // MARK: upstream connection

    public mutating func connected(reused: Bool) -> Action {
        guard state == .connecting else { return .closeUpstream }
        connectionReused = reused
        state = .awaitingResponse
        return .sendRequest
    }

    /// Connecting failed (refused, timed out). `moreServers`: another server is available to try.
    public mutating func connectFailed(moreServers: Bool) -> Action {
        guard state == .connecting else { return .none }
        if moreServers { return .connect(excludingLastServer: true) }
        state = .finished
        return .respondError(.badGateway)
    }

    /// The upstream closed or reset the connection, or sent something unparseable.
    public mutating func upstreamFailed() -> Action {
        switch state {
        case .connecting, .finished:
            return .none
        case .awaitingResponse:
            // A pooled connection the server closed just as we reused it: try once more on a
            // fresh connection, if sending the request again cannot do harm.
            if connectionReused && retryable && !retried {
                retried = true
                state = .connecting
                return .connect(excludingLastServer: false)
            }
            state = .finished
            return .respondError(.badGateway)
        case .relayingResponse:
            state = .finished
            return .truncateClient(logStatus: 502, why: "upstream_closed")
        }
    }

    /// No response byte within the read timeout.
    public mutating func readTimedOut() -> Action {
        switch state {
        case .awaitingResponse:
            state = .finished
            return .respondError(.gatewayTimeout)
        case .relayingResponse:
            state = .finished
            return .truncateClient(logStatus: 504, why: "upstream_timeout")
        case .connecting, .finished:
            return .none
        }
    }

    // MARK: upstream response

    public mutating func responseHead(status: HTTPResponseStatus) -> Action {
        guard state == .awaitingResponse else { return .none }
        if status.code >= 100 && status.code < 200 && status.code != 101 { return .relayInterim }
        state = .relayingResponse
        return .relayHead
    }

    public mutating func responseBodyPart() -> Action {
        state == .relayingResponse ? .relayBody : .none
    }

    /// The upstream's response is complete. `keepAlive`: the upstream allows reuse.
    /// `requestSent`: every byte of the request went up, so the connection is at a clean boundary.
    public mutating func responseEnd(keepAlive: Bool, requestSent: Bool) -> Action {
        guard state == .relayingResponse else { return .none }
        state = .finished
        return .relayEnd(reuse: keepAlive && requestSent)
    }

    // MARK: client

    public mutating func requestEnded() {
        requestReceived = true
    }

    /// The client sent FIN after its whole request.
    public mutating func clientHalfClosed() -> Action {
        guard state == .connecting || state == .awaitingResponse else { return .none }
        switch policy {
        case .serve:
            return .none
        case .abort:
            state = .finished
            return .abandonClient
        case .probe(let status, let max):
            guard clientAcceptsInterim, probesSent < max else { return .none }
            probesSent += 1
            return .sendProbe(status)
        }
    }

    /// The client is gone (RST, failed write, timeout) or the connection is shutting down.
    public mutating func cancelled() -> Action {
        guard state != .finished else { return .none }
        state = .finished
        return .closeUpstream
    }
}
