import NIOHTTP1
import TacetHTTP
import TacetProxy
import Testing

/// The proxy's decisions without sockets: FIN policies, retries, upstream failures.
@Suite("Proxy exchange state machine")
struct ProxyExchangeStateMachineTests {
    typealias Machine = ProxyExchangeStateMachine

    func waiting(_ policy: ClientFINPolicy, interim: Bool = true, retryable: Bool = true, reused: Bool = false) -> Machine {
        var m = Machine(policy: policy, clientAcceptsInterim: interim, retryable: retryable)
        #expect(m.connected(reused: reused) == .sendRequest)
        m.requestEnded()
        return m
    }

    @Test("serve: a client FIN changes nothing; the response is relayed in full")
    func serve() {
        var m = waiting(.serve)
        #expect(m.clientHalfClosed() == .none)
        #expect(m.responseHead(status: .ok) == .relayHead)
        #expect(m.responseBodyPart() == .relayBody)
        #expect(m.responseEnd(keepAlive: true, requestSent: true) == .relayEnd(reuse: true))
    }

    @Test("abort: a FIN before the response cancels upstream and abandons the client")
    func abort() {
        var m = waiting(.abort)
        #expect(m.clientHalfClosed() == .abandonClient)
        #expect(m.state == .finished)
        #expect(m.responseHead(status: .ok) == .none)
    }

    @Test("abort: a FIN after the response started changes nothing")
    func abortAfterStart() {
        var m = waiting(.abort)
        _ = m.responseHead(status: .ok)
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

    @Test("A reused connection that fails before the response: one retry, then 502")
    func retryOnce() {
        var m = waiting(.serve, reused: true)
        #expect(m.upstreamFailed() == .connect(excludingLastServer: false))
        #expect(m.connected(reused: false) == .sendRequest)
        #expect(m.upstreamFailed() == .respondError(.badGateway))
    }

    @Test("Not retried: a request with a body or a non-idempotent method")
    func noRetry() {
        var m = waiting(.serve, retryable: false, reused: true)
        #expect(m.upstreamFailed() == .respondError(.badGateway))
    }

    @Test("Connect failures move on to the next server, then 502")
    func connectFailures() {
        var m = Machine(policy: .serve, clientAcceptsInterim: true, retryable: true)
        #expect(m.connectFailed(moreServers: true) == .connect(excludingLastServer: true))
        #expect(m.connectFailed(moreServers: false) == .respondError(.badGateway))
    }

    @Test("Upstream closing mid-response truncates the client's response, logged 502")
    func truncation() {
        var m = waiting(.serve)
        _ = m.responseHead(status: .ok)
        #expect(m.upstreamFailed() == .truncateClient(logStatus: 502, why: "upstream_closed"))
    }

    @Test("Read timeout: 504 before the head, truncation after")
    func readTimeout() {
        var a = waiting(.serve)
        #expect(a.readTimedOut() == .respondError(.gatewayTimeout))
        var b = waiting(.serve)
        _ = b.responseHead(status: .ok)
        #expect(b.readTimedOut() == .truncateClient(logStatus: 504, why: "upstream_timeout"))
    }

    @Test("1xx from the upstream are relayed; the final head follows")
    func interim() {
        var m = waiting(.serve)
        #expect(m.responseHead(status: .continue) == .relayInterim)
        #expect(m.responseHead(status: .ok) == .relayHead)
    }

    @Test("A response that ends before the request was sent is not pooled")
    func notPooledMidRequest() {
        var m = waiting(.serve)
        _ = m.responseHead(status: .payloadTooLarge)
        #expect(m.responseEnd(keepAlive: true, requestSent: false) == .relayEnd(reuse: false))
    }
}
