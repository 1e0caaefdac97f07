import NIOCore
import NIOHTTP1

/// Every decision of one proxied request, as a plain value: which server to try next and
/// whether to retry, what happens to request body bytes while connecting, when the request is
/// wholly sent, what the client sees of each response part and when the upstream fails, whether
/// the connection may be pooled, what a client FIN means under the route's policy, and when an
/// Upgrade becomes a tunnel. `ProxyExchange` carries out each action it returns; the tests drive
/// it without sockets.
public struct ProxyExchangeStateMachine: Sendable {
    public enum State: Sendable, Equatable {
        /// Waiting for an upstream connection (new or from the pool).
        case connecting
        /// Request head sent; waiting for the response head (the body may still be streaming up).
        case awaitingResponse
        /// The response head has gone to the client; relaying the body.
        case relayingResponse
        /// A 101 has gone to the client: at its end both connections become a tunnel.
        case upgrading
        /// Done: response complete, handed to a tunnel, cancelled or failed.
        case finished
    }

    public enum Action: Sendable, Equatable {
        case none
        /// Pick a server not in `excluding` and connect to it; `fresh`: a new connection, not a
        /// pooled one (a retry after a pooled connection failed). No server left: `noServer()`.
        case connect(excluding: Set<Int>, fresh: Bool)
        /// Send the request head, then `body` (what arrived while connecting); `end`: the
        /// request's end goes too, so the request is wholly sent.
        case sendRequest(body: [ByteBuffer], end: Bool)
        case sendBody(ByteBuffer)
        /// The request's end (the last chunk, or just a flush).
        case sendRequestEnd
        /// Too much body arrived while connecting: stop reading the client until connected.
        case pauseRequestBody
        /// Answer the client with this error status; close the upstream connection.
        case respondError(HTTPResponseStatus)
        case relayInterim(UpstreamResponseParser.Head)
        case relayHead(UpstreamResponseParser.Head)
        /// The upstream's 101 to an Upgrade request: pass it on; the tunnel starts at its end.
        case relayUpgrade(UpstreamResponseParser.Head)
        case relayBody(ByteBuffer)
        /// Finish the client's response; pool the upstream connection if `reuse`, else close it.
        case relayEnd(reuse: Bool)
        /// The 101 is through: hand both connections to a tunnel.
        case startTunnel
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
    /// Every byte of the request has gone to the upstream: the connection is at a clean boundary.
    public private(set) var requestSent = false
    /// Servers tried before `server` for this request: empty unless a connect failed, so the
    /// common request builds no set.
    private var triedBefore: Set<Int> = []
    public private(set) var server: Int?
    /// Every server tried for this request, the current one included.
    public var tried: Set<Int> {
        guard let server else { return triedBefore }
        return triedBefore.union(CollectionOfOne(server))
    }
    private var connectionReused = false
    private var retried = false
    private var upstreamKeepAlive = false
    /// Body that arrived before the upstream connection was ready, and its size.
    private var buffered: [ByteBuffer] = []
    private var bufferedBytes = 0
    private let policy: ClientFINPolicy
    private let clientAcceptsInterim: Bool
    /// Safe to send twice: an idempotent method and no body.
    private let retryable: Bool
    private let hasBody: Bool
    private let asksUpgrade: Bool

    /// Past this much body buffered while connecting, reading the client pauses.
    public static let maxBufferedBody = 64 * 1024

    public init(policy: ClientFINPolicy, clientAcceptsInterim: Bool, retryable: Bool,
                hasBody: Bool = false, asksUpgrade: Bool = false) {
        self.policy = policy
        self.clientAcceptsInterim = clientAcceptsInterim
        self.retryable = retryable
        self.hasBody = hasBody
        self.asksUpgrade = asksUpgrade
    }

    // MARK: upstream connection

    public func start() -> Action { .connect(excluding: [], fresh: false) }

    /// A server was picked for the next connection attempt.
    public mutating func connecting(to server: Int) {
        if let previous = self.server, previous != server { triedBefore.insert(previous) }
        self.server = server
    }

    /// No server is left to try.
    public mutating func noServer() -> Action {
        guard state == .connecting else { return .none }
        state = .finished
        return .respondError(.badGateway)
    }

    public mutating func connected(reused: Bool) -> Action {
        guard state == .connecting else { return .closeUpstream }
        connectionReused = reused
        state = .awaitingResponse
        let end = !hasBody || requestReceived
        if end { requestSent = true }
        let body = buffered
        buffered = []
        bufferedBytes = 0
        return .sendRequest(body: body, end: end)
    }

    /// Connecting failed (refused, timed out): the next server, if there is one.
    public mutating func connectFailed() -> Action {
        guard state == .connecting else { return .none }
        return .connect(excluding: tried, fresh: false)
    }

    /// The upstream closed or reset the connection, or sent something unparseable.
    public mutating func upstreamFailed() -> Action {
        switch state {
        case .connecting, .finished:
            return .none
        case .awaitingResponse:
            // A pooled connection the server closed just as we reused it: try once more on a
            // fresh connection, if sending the request again cannot do harm.
            return retryOnceOrFail(when: connectionReused)
        case .relayingResponse, .upgrading:
            state = .finished
            return .truncateClient(logStatus: 502, why: "upstream_closed")
        }
    }

    /// An HTTP/2 upstream did not act on the request (REFUSED_STREAM, or a stream above its
    /// GOAWAY's last, RFC 9113 §8.7): sent again once, on another stream, if it is idempotent.
    public mutating func upstreamRefused() -> Action {
        guard state == .awaitingResponse else { return upstreamFailed() }
        return retryOnceOrFail(when: true)
    }

    /// Before any response: the request once more on a fresh connection (or stream) if `allowed`
    /// and it is safe to send twice, else 502.
    private mutating func retryOnceOrFail(when allowed: Bool) -> Action {
        if allowed && retryable && !retried {
            retried = true
            state = .connecting
            requestSent = false
            return .connect(excluding: [], fresh: true)
        }
        state = .finished
        return .respondError(.badGateway)
    }

    /// No response byte within the read timeout, or the upstream not taking the request within
    /// the send timeout.
    public mutating func timedOut() -> Action {
        switch state {
        case .awaitingResponse:
            state = .finished
            return .respondError(.gatewayTimeout)
        case .relayingResponse, .upgrading:
            state = .finished
            return .truncateClient(logStatus: 504, why: "upstream_timeout")
        case .connecting, .finished:
            return .none
        }
    }

    /// The call's own deadline (gRPC's `grpc-timeout`) passed: as a timeout, and while still
    /// connecting too.
    public mutating func deadlinePassed() -> Action {
        guard state == .connecting else { return timedOut() }
        state = .finished
        buffered = []
        return .respondError(.gatewayTimeout)
    }

    // MARK: the request body, from the client

    public mutating func requestBodyPart(_ buffer: ByteBuffer) -> Action {
        switch state {
        case .connecting:
            buffered.append(buffer)
            bufferedBytes += buffer.readableBytes
            return bufferedBytes > Self.maxBufferedBody ? .pauseRequestBody : .none
        case .awaitingResponse, .relayingResponse:
            return requestSent ? .none : .sendBody(buffer)
        case .upgrading, .finished:
            return .none
        }
    }

    public mutating func requestEnded() -> Action {
        requestReceived = true
        switch state {
        case .awaitingResponse, .relayingResponse:
            guard !requestSent else { return .none }
            requestSent = true
            return .sendRequestEnd
        case .connecting, .upgrading, .finished:
            return .none
        }
    }

    // MARK: upstream response

    public mutating func responseHead(_ head: UpstreamResponseParser.Head) -> Action {
        guard state == .awaitingResponse else { return .none }
        let code = head.status.code
        if code == 101 {
            guard asksUpgrade else {
                // A 101 nobody asked for: refuse to become a tunnel.
                state = .finished
                return .respondError(.badGateway)
            }
            state = .upgrading
            return .relayUpgrade(head)
        }
        if code >= 100 && code < 200 { return .relayInterim(head) }
        state = .relayingResponse
        upstreamKeepAlive = head.keepAlive
        return .relayHead(head)
    }

    public mutating func responseBodyPart(_ buffer: ByteBuffer) -> Action {
        state == .relayingResponse ? .relayBody(buffer) : .none
    }

    /// The upstream's response is complete.
    public mutating func responseEnd() -> Action {
        switch state {
        case .relayingResponse:
            state = .finished
            return .relayEnd(reuse: upstreamKeepAlive && requestSent)
        case .upgrading:
            state = .finished
            return .startTunnel
        case .connecting, .awaitingResponse, .finished:
            return .none
        }
    }

    // MARK: client

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
        buffered = []
        return .closeUpstream
    }
}
