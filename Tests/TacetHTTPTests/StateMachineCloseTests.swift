import Testing
@testable import TacetHTTP

@Suite("State machine: server-side closes are staged")
struct StateMachineCloseTests {
    @Test("Response ended before the body finished, keep-alive: keep discarding the body, then next request")
    func earlyResponseKeepAlive() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: true)
        m.responseStarted()
        #expect(m.responseEnded(close: false) == .none)
        #expect(m.state == .active(complete: false, response: .complete))
        #expect(m.wantsRequestBytes, "the rest of the body is read and dropped")
        #expect(m.timer == .body)
        #expect(m.requestEndReceived() == .nextRequest)
        #expect(m.state == .idle)
    }

    @Test("Response ended before the body finished, route wants close: staged close, cancel the body")
    func earlyResponseClose() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: true)
        m.responseStarted()
        #expect(m.responseEnded(close: true) == .close(.staged, .serverClose, cancel: true))
        #expect(m.state == .lingering)
    }

    @Test("Response ended before the body finished on a Connection: close request: staged")
    func earlyResponseClientClose() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: false)
        #expect(m.responseEnded(close: false) == .close(.staged, .serverClose, cancel: true))
        #expect(m.state == .lingering)
    }

    @Test("Connection: close: staged close, lingering, then the client's FIN closes")
    func connectionClose() {
        var m = Machine()
        #expect(m.requestHeadReceived(keepAlive: false) == .dispatch)
        #expect(!m.responseKeepsAlive, "the response says Connection: close")
        #expect(m.requestEndReceived() == .none)
        m.responseStarted()
        #expect(m.responseEnded(close: false) == .close(.staged, .serverClose))
        #expect(m.state == .lingering)
        #expect(m.timer == .linger)
        #expect(!m.wantsRequestBytes, "lingering input is discarded, never parsed")
        #expect(m.inputClosedReceived(midRequest: false) == .close(.immediately, .serverClose))
        #expect(m.state == .closed)
        #expect(m.endReason == .serverClose)
    }

    @Test("A route asking to close after a whole request: staged")
    func routeClose() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: true)
        _ = m.requestEndReceived()
        #expect(m.responseEnded(close: true) == .close(.staged, .serverClose))
    }

    @Test("Closing when the client already sent FIN is after flush, not staged")
    func closeAfterClientFIN() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: false)
        _ = m.requestEndReceived()
        #expect(m.inputClosedReceived(midRequest: false) == .notifyHalfClose)
        #expect(m.responseEnded(close: false) == .close(.afterFlush, .serverClose))
        #expect(m.state == .closed)
    }

    @Test("A parse error on a fresh connection: error response, staged close")
    func parseError() {
        var m = Machine()
        m.partialHeadReceived()
        #expect(m.requestFailed(.headersTooLarge) == .close(.staged, .serverClose, error: .headersTooLarge))
        #expect(m.state == .lingering)
    }

    @Test("A body error before the response: cancel and answer the error, staged")
    func bodyErrorBeforeResponse() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: true)
        #expect(m.requestFailed(.bodyTooLarge) == .close(.staged, .serverClose, cancel: true, error: .bodyTooLarge))
    }

    @Test("A body error while the response streams: cut it short at once, no error response")
    func bodyErrorWhileStreaming() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: true)
        m.responseStarted()
        #expect(m.requestFailed(.malformed("x")) == .close(.immediately, .serverClose, cancel: true))
    }

    @Test("A body error after the response ended: staged, nothing to cancel")
    func bodyErrorAfterResponse() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: true)
        _ = m.responseEnded(close: false)
        #expect(m.requestFailed(.malformed("x")) == .close(.staged, .serverClose))
    }

    @Test("RST while lingering: closed, the reason stays the server's close")
    func rstWhileLingering() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: false)
        _ = m.requestEndReceived()
        _ = m.responseEnded(close: false)
        #expect(m.connectionFailed(.clientRST) == .close(.immediately, .serverClose))
        #expect(m.endReason == .serverClose)
    }
}
