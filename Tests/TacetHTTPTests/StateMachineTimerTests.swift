import Testing
@testable import TacetHTTP

@Suite("State machine: timeouts, quiesce, limits")
struct StateMachineTimerTests {
    @Test("Idle timeout: staged close, reason timeout, no response")
    func idleTimeout() {
        var m = Machine()
        #expect(m.timer == .keepAlive)
        #expect(m.timeoutFired() == .close(.staged, .timeout))
        #expect(m.state == .lingering)
        #expect(m.endReason == .timeout)
    }

    @Test("Head timeout: 408, staged")
    func headTimeout() {
        var m = Machine()
        m.partialHeadReceived()
        #expect(m.timer == .header)
        #expect(m.timeoutFired() == .close(.staged, .timeout, error: .timedOut))
        #expect(RequestError.timedOut.status.code == 408)
    }

    @Test("Body timeout before the response: 408 and cancel, staged")
    func bodyTimeout() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: true)
        #expect(m.timer == .body)
        #expect(m.timeoutFired() == .close(.staged, .timeout, cancel: true, error: .timedOut))
    }

    @Test("No timeout applies while the route works on a whole request")
    func noTimeoutWhileAnswering() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: true)
        _ = m.requestEndReceived()
        #expect(m.timer == .none)
        #expect(m.timeoutFired() == .none)
        #expect(m.state == .active(complete: true, response: .notStarted))
    }

    @Test("Linger timeout: close now")
    func lingerTimeout() {
        var m = Machine()
        _ = m.timeoutFired()
        #expect(m.timer == .linger)
        #expect(m.timeoutFired() == .close(.immediately, .timeout))
        #expect(m.state == .closed)
        #expect(m.timer == .none)
        #expect(m.timeoutFired() == .none)
    }

    @Test("Send timeout: close immediately in any state, cancelling an unfinished response")
    func sendTimeout() {
        var active = Machine()
        _ = active.requestHeadReceived(keepAlive: true)
        _ = active.requestEndReceived()
        active.responseStarted()
        #expect(active.sendTimeoutFired() == .close(.immediately, .timeout, cancel: true))
        #expect(active.state == .closed)
        #expect(active.sendTimeoutFired() == .none)

        var lingering = Machine()
        _ = lingering.quiesce()
        #expect(lingering.sendTimeoutFired() == .close(.immediately, .timeout))
        #expect(lingering.endReason == .serverClose, "the first reason is kept")
    }

    @Test("Quiesce on an idle connection: staged close now")
    func quiesceIdle() {
        var m = Machine()
        #expect(m.quiesce() == .close(.staged, .serverClose))
        #expect(m.state == .lingering)
    }

    @Test("Quiesce while active: finish the exchange, then close")
    func quiesceActive() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: true)
        #expect(m.responseKeepsAlive)
        #expect(m.quiesce() == .none)
        #expect(!m.responseKeepsAlive, "the response says Connection: close")
        #expect(m.requestEndReceived() == .none)
        #expect(m.responseEnded(close: false) == .close(.staged, .serverClose))
    }

    @Test("Quiesce while a head arrives: that request is answered, then close")
    func quiesceReadingHead() {
        var m = Machine()
        m.partialHeadReceived()
        #expect(m.quiesce() == .none)
        #expect(m.requestHeadReceived(keepAlive: true) == .dispatch)
        #expect(!m.responseKeepsAlive)
        _ = m.requestEndReceived()
        #expect(m.responseEnded(close: false) == .close(.staged, .serverClose))
    }

    @Test("keepalive_requests: the last allowed request closes the connection", arguments: [1, 2, 3])
    func keepaliveRequestsLimit(limit: Int) {
        var m = Machine(maxRequestsPerConnection: limit)
        for n in 1...limit {
            #expect(m.requestHeadReceived(keepAlive: true) == .dispatch)
            #expect(m.responseKeepsAlive == (n < limit), "request \(n)")
            _ = m.requestEndReceived()
            let action = m.responseEnded(close: false)
            #expect(action == (n < limit ? .nextRequest : .close(.staged, .serverClose)), "request \(n)")
        }
        #expect(m.requestsServed == limit)
    }

    @Test("timer and wantsRequestBytes in each state")
    func timerAndWantsInEachState() {
        var m = Machine()
        #expect(m.state == .idle && m.timer == .keepAlive && m.wantsRequestBytes)
        m.partialHeadReceived()
        #expect(m.state == .readingHead && m.timer == .header && m.wantsRequestBytes)
        _ = m.requestHeadReceived(keepAlive: true)
        #expect(m.timer == .body && m.wantsRequestBytes, "reading the body")
        _ = m.requestEndReceived()
        #expect(m.timer == .none && !m.wantsRequestBytes, "pipelined bytes wait while answering")
        m.responseStarted()
        #expect(m.state == .active(complete: true, response: .started))
        #expect(m.timer == .none && !m.wantsRequestBytes)
        _ = m.responseEnded(close: true)
        #expect(m.state == .lingering && m.timer == .linger && !m.wantsRequestBytes)
        _ = m.inputClosedReceived(midRequest: false)
        #expect(m.state == .closed && m.timer == .none && !m.wantsRequestBytes)
    }

    @Test("Events after the end change nothing")
    func eventsAfterClosed() {
        var m = Machine()
        _ = m.connectionFailed(.clientRST)
        #expect(m.requestHeadReceived(keepAlive: true) == .none)
        #expect(m.requestEndReceived() == .none)
        #expect(m.responseEnded(close: false) == .none)
        #expect(m.inputClosedReceived(midRequest: true) == .none)
        #expect(m.quiesce() == .none)
        #expect(m.state == .closed)
    }
}
