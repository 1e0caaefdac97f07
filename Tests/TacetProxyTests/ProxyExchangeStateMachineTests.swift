import NIOCore
import NIOHTTP1
import TacetHTTP
import TacetProxy
import Testing

/// The proxy's decisions without sockets: FIN policies, retries, upstream failures, the request
/// body while connecting, pooling, Upgrade.
@Suite("Proxy exchange state machine")
struct ProxyExchangeStateMachineTests {
    typealias Machine = ProxyExchangeStateMachine

    static func head(_ code: Int, keepAlive: Bool = true) -> UpstreamResponseParser.Head {
        UpstreamResponseParser.Head(status: HTTPResponseStatus(statusCode: code), keepAlive: keepAlive, framing: .length(2),
                                    fields: ByteBuffer(), contentLength: 2, upgrade: nil)
    }

    func waiting(_ policy: ClientFINPolicy, interim: Bool = true, retryable: Bool = true, reused: Bool = false) -> Machine {
        var m = Machine(policy: policy, clientAcceptsInterim: interim, retryable: retryable)
        #expect(m.start() == .connect(excluding: [], fresh: false))
        m.connecting(to: 0)
        #expect(m.connected(reused: reused) == .sendRequest(body: [], end: true))
        #expect(m.requestEnded() == .none)
        return m
    }

    @Test("serve: a client FIN changes nothing; the response is relayed in full and the connection pooled")
    func serve() {
        var m = waiting(.serve)
        #expect(m.clientHalfClosed() == .none)
        #expect(m.responseHead(Self.head(200)) == .relayHead(Self.head(200)))
        #expect(m.responseBodyPart(ByteBuffer(string: "ok")) == .relayBody(ByteBuffer(string: "ok")))
        #expect(m.responseEnd() == .relayEnd(reuse: true))
    }

    @Test("An upstream that does not keep the connection alive: not pooled")
    func notKeptAlive() {
        var m = waiting(.serve)
        _ = m.responseHead(Self.head(200, keepAlive: false))
        #expect(m.responseEnd() == .relayEnd(reuse: false))
    }

    @Test("abort: a FIN before the response cancels upstream and abandons the client")
    func abort() {
        var m = waiting(.abort)
        #expect(m.clientHalfClosed() == .abandonClient)
        #expect(m.state == .finished)
        #expect(m.responseHead(Self.head(200)) == .none)
    }

    @Test("abort: a FIN after the response started changes nothing")
    func abortAfterStart() {
        var m = waiting(.abort)
        _ = m.responseHead(Self.head(200))
        #expect(m.clientHalfClosed() == .none)
    }

    @Test("probe: one 103 per request by default, never to HTTP/1.0")
    func probe() {
        var m = waiting(.probe(status: .earlyHints, max: 1))
        #expect(m.clientHalfClosed() == .sendProbe(.earlyHints))
        #expect(m.clientHalfClosed() == .none)
        #expect(m.probesSent == 1)
        var old = waiting(.probe(status: .earlyHints, max: 1), interim: false)
        #expect(old.clientHalfClosed() == .none)
    }

    @Test("probe: an RST after the probe cancels the upstream request")
    func probeThenReset() {
        var m = waiting(.probe(status: .earlyHints, max: 2))
        _ = m.clientHalfClosed()
        #expect(m.cancelled() == .closeUpstream)
        #expect(m.cancelled() == .none)
    }

    @Test("A reused connection that fails before the response: one retry on a fresh connection, then 502")
    func retryOnce() {
        var m = waiting(.serve, reused: true)
        #expect(m.upstreamFailed() == .connect(excluding: [], fresh: true))
        m.connecting(to: 0)
        #expect(m.connected(reused: false) == .sendRequest(body: [], end: true))
        #expect(m.upstreamFailed() == .respondError(.badGateway))
    }

    @Test("Not retried: a request with a body or a non-idempotent method")
    func noRetry() {
        var m = waiting(.serve, retryable: false, reused: true)
        #expect(m.upstreamFailed() == .respondError(.badGateway))
    }

    @Test("Connect failures move on to the servers not tried yet; none left: 502")
    func connectFailures() {
        var m = Machine(policy: .serve, clientAcceptsInterim: true, retryable: true)
        m.connecting(to: 0)
        #expect(m.connectFailed() == .connect(excluding: [0], fresh: false))
        m.connecting(to: 2)
        #expect(m.connectFailed() == .connect(excluding: [0, 2], fresh: false))
        #expect(m.noServer() == .respondError(.badGateway))
        #expect(m.connectFailed() == .none)
    }

    @Test("Body while connecting is held, reading pauses past 64 KiB, and all of it goes with the head")
    func bodyWhileConnecting() {
        var m = Machine(policy: .serve, clientAcceptsInterim: true, retryable: false, hasBody: true)
        m.connecting(to: 0)
        let part = ByteBuffer(repeating: 0x61, count: 40 * 1024)
        #expect(m.requestBodyPart(part) == .none)
        #expect(m.requestBodyPart(part) == .pauseRequestBody)
        #expect(m.connected(reused: false) == .sendRequest(body: [part, part], end: false))
        #expect(!m.requestSent)
        #expect(m.requestBodyPart(ByteBuffer(string: "x")) == .sendBody(ByteBuffer(string: "x")))
        #expect(m.requestEnded() == .sendRequestEnd)
        #expect(m.requestSent)
    }

    @Test("A whole request with a body before the connection: head, body and end in one go")
    func wholeBodyBeforeConnecting() {
        var m = Machine(policy: .serve, clientAcceptsInterim: true, retryable: false, hasBody: true)
        m.connecting(to: 0)
        _ = m.requestBodyPart(ByteBuffer(string: "abc"))
        #expect(m.requestEnded() == .none)
        #expect(m.connected(reused: false) == .sendRequest(body: [ByteBuffer(string: "abc")], end: true))
        #expect(m.requestEnded() == .none, "sent once")
    }

    @Test("Upstream closing mid-response truncates the client's response, logged 502")
    func truncation() {
        var m = waiting(.serve)
        _ = m.responseHead(Self.head(200))
        #expect(m.upstreamFailed() == .truncateClient(logStatus: 502, why: "upstream_closed"))
    }

    @Test("Read or send timeout: 504 before the head, truncation after")
    func timeout() {
        var a = waiting(.serve)
        #expect(a.timedOut() == .respondError(.gatewayTimeout))
        var b = waiting(.serve)
        _ = b.responseHead(Self.head(200))
        #expect(b.timedOut() == .truncateClient(logStatus: 504, why: "upstream_timeout"))
    }

    @Test("1xx from the upstream are relayed; the final head follows")
    func interim() {
        var m = waiting(.serve)
        #expect(m.responseHead(Self.head(100)) == .relayInterim(Self.head(100)))
        #expect(m.responseHead(Self.head(200)) == .relayHead(Self.head(200)))
    }

    @Test("A response that ends before the request was sent is not pooled")
    func notPooledMidRequest() {
        var m = Machine(policy: .serve, clientAcceptsInterim: true, retryable: false, hasBody: true)
        m.connecting(to: 0)
        _ = m.connected(reused: false)
        _ = m.responseHead(Self.head(413))
        #expect(m.responseEnd() == .relayEnd(reuse: false))
    }

    @Test("A 101 to an Upgrade request: relayed, and the tunnel starts at its end")
    func upgrade() {
        var m = Machine(policy: .serve, clientAcceptsInterim: true, retryable: true, asksUpgrade: true)
        m.connecting(to: 0)
        _ = m.connected(reused: false)
        #expect(m.responseHead(Self.head(101)) == .relayUpgrade(Self.head(101)))
        #expect(m.responseEnd() == .startTunnel)
        #expect(m.state == .finished)
    }

    @Test("A 101 nobody asked for: 502, never a tunnel")
    func unaskedUpgrade() {
        var m = waiting(.serve)
        #expect(m.responseHead(Self.head(101)) == .respondError(.badGateway))
        #expect(m.responseEnd() == .none)
    }
}

/// HTTP/2 upstream decisions (issue #22): an unprocessed stream retried once if idempotent,
/// a call's own deadline while still connecting.
@Suite("Proxy machine: HTTP/2 upstreams")
struct ProxyHTTP2DecisionTests {
    @Test("REFUSED_STREAM or past GOAWAY: an idempotent request goes again once, on a fresh stream; then 502")
    func refusedRetriedOnce() {
        var machine = ProxyExchangeStateMachine(policy: .serve, clientAcceptsInterim: false, retryable: true)
        _ = machine.start()
        machine.connecting(to: 0)
        _ = machine.connected(reused: false)
        #expect(machine.upstreamRefused() == .connect(excluding: [], fresh: true))
        machine.connecting(to: 0)
        _ = machine.connected(reused: false)
        #expect(machine.upstreamRefused() == .respondError(.badGateway))
    }

    @Test("A POST with a body is not sent twice: 502")
    func refusedNotRetriedWithBody() {
        var machine = ProxyExchangeStateMachine(policy: .serve, clientAcceptsInterim: false, retryable: false, hasBody: true)
        _ = machine.start()
        machine.connecting(to: 0)
        _ = machine.connected(reused: false)
        #expect(machine.upstreamRefused() == .respondError(.badGateway))
    }

    @Test("The call's deadline while connecting: 504 (grpc-status 4 for gRPC), and nothing after")
    func deadlineWhileConnecting() {
        var machine = ProxyExchangeStateMachine(policy: .serve, clientAcceptsInterim: false, retryable: true)
        _ = machine.start()
        #expect(machine.deadlinePassed() == .respondError(.gatewayTimeout))
        #expect(machine.connected(reused: false) == .closeUpstream)
    }
}
