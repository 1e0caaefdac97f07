import Testing
@testable import TacetHTTP

typealias Machine = ConnectionStateMachine

extension ConnectionStateMachine.Action {
    static func close(_ mode: ConnectionStateMachine.CloseMode, _ reason: ConnectionEndReason,
                      cancel: Bool = false, error: RequestError? = nil) -> Self {
        .end(cancelRequest: cancel, error: error, mode: mode, reason: reason)
    }
}

extension ConnectionStateMachine.State {
    static func active(complete: Bool, response: ConnectionStateMachine.ResponseProgress, keepAlive: Bool = true) -> Self {
        .active(.init(requestComplete: complete, response: response, keepAlive: keepAlive))
    }
}

/// The half-close promises (RFC 9112 §9.6), as sequences of events a connection would see.
@Suite("State machine: client FIN and RST")
struct StateMachineFINTests {
    @Test("FIN after one whole request: the response is still served, then close after flush")
    func finAfterWholeRequest() {
        var m = Machine()
        #expect(m.requestHeadReceived(keepAlive: true) == .dispatch)
        #expect(m.requestEndReceived() == .none)
        #expect(m.inputClosedReceived(midRequest: false) == .notifyHalfClose, "the route hears of it, nothing ends")
        #expect(m.state == .active(complete: true, response: .notStarted))
        #expect(m.inputClosed)
        m.responseStarted()
        #expect(m.responseEnded(close: false) == .nextRequest, "buffered requests are served first")
        #expect(m.state == .idle)
        #expect(m.requestsServed == 1)
        // No more buffered requests: the handler reports the FIN again.
        #expect(m.inputClosedReceived(midRequest: false) == .close(.afterFlush, .clientFIN))
        #expect(m.state == .closed)
        #expect(m.endReason == .clientFIN)
    }

    @Test("Three pipelined requests then FIN: all three answered in order, then FIN")
    func threePipelinedThenFIN() {
        var m = Machine()
        // All three arrived with the FIN; the parser hands them over one at a time.
        #expect(m.requestHeadReceived(keepAlive: true) == .dispatch)
        #expect(m.requestEndReceived() == .none)
        #expect(m.inputClosedReceived(midRequest: false) == .notifyHalfClose)
        for n in 1...2 {
            m.responseStarted()
            #expect(m.responseEnded(close: false) == .nextRequest, "after response \(n)")
            #expect(m.wantsRequestBytes)
            #expect(m.requestHeadReceived(keepAlive: true) == .dispatch, "request \(n + 1) is dispatched")
            #expect(m.requestEndReceived() == .none)
        }
        m.responseStarted()
        #expect(m.responseEnded(close: false) == .nextRequest)
        #expect(m.requestsServed == 3)
        #expect(m.inputClosedReceived(midRequest: false) == .close(.afterFlush, .clientFIN))
    }

    @Test("FIN in the middle of a head: 400, no cancel, close after flush")
    func finMidHead() {
        var m = Machine()
        m.partialHeadReceived()
        #expect(m.state == .readingHead)
        #expect(m.inputClosedReceived(midRequest: true) == .close(.afterFlush, .clientFIN, error: .truncated))
        #expect(m.state == .closed)
        #expect(RequestError.truncated.status == .badRequest)
    }

    @Test("FIN with unparsed bytes on an idle connection is a truncated request too")
    func finWithPartialPipelinedRequest() {
        var m = Machine()
        #expect(m.requestHeadReceived(keepAlive: true) == .dispatch)
        #expect(m.requestEndReceived() == .none)
        #expect(m.responseEnded(close: false) == .nextRequest)
        #expect(m.inputClosedReceived(midRequest: true) == .close(.afterFlush, .clientFIN, error: .truncated))
    }

    @Test("FIN in the middle of a body with no response yet: 400 and cancel the route")
    func finMidBody() {
        var m = Machine()
        #expect(m.requestHeadReceived(keepAlive: true) == .dispatch)
        #expect(m.inputClosedReceived(midRequest: true) == .close(.afterFlush, .clientFIN, cancel: true, error: .truncated))
        #expect(m.state == .closed)
    }

    @Test("FIN in the middle of a body while the response streams: cancel, no error response")
    func finMidBodyResponseStarted() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: true)
        m.responseStarted()
        #expect(m.inputClosedReceived(midRequest: true) == .close(.afterFlush, .clientFIN, cancel: true))
    }

    @Test("FIN on an idle connection: FIN back, after flush")
    func finOnIdle() {
        var m = Machine()
        #expect(m.inputClosedReceived(midRequest: false) == .close(.afterFlush, .clientFIN))
        #expect(m.state == .closed)
        #expect(m.endReason == .clientFIN)
    }

    @Test("RST while a request is active: cancel it and close immediately")
    func rstWhileActive() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: true)
        _ = m.requestEndReceived()
        #expect(m.connectionFailed(.clientRST) == .close(.immediately, .clientRST, cancel: true))
        #expect(m.state == .closed)
        #expect(m.endReason == .clientRST)
        #expect(m.connectionFailed(.clientRST) == .none, "a second failure does nothing")
    }

    @Test("A failed write while streaming: cancel and close immediately")
    func writeFailedWhileStreaming() {
        var m = Machine()
        _ = m.requestHeadReceived(keepAlive: true)
        _ = m.requestEndReceived()
        m.responseStarted()
        #expect(m.connectionFailed(.writeFailed) == .close(.immediately, .writeFailed, cancel: true))
    }

    @Test("RST on an idle connection: close immediately, nothing to cancel")
    func rstOnIdle() {
        var m = Machine()
        #expect(m.connectionFailed(.clientRST) == .close(.immediately, .clientRST))
    }

    @Test("Channel gone without an error: client_rst, even after a FIN (only an RST closes our socket for us)")
    func channelClosed() {
        var a = Machine()
        _ = a.requestHeadReceived(keepAlive: true)
        _ = a.requestEndReceived()
        #expect(a.channelClosed() == .close(.immediately, .clientRST, cancel: true))

        var b = Machine()
        _ = b.requestHeadReceived(keepAlive: true)
        _ = b.requestEndReceived()
        _ = b.inputClosedReceived(midRequest: false)
        #expect(b.channelClosed() == .close(.immediately, .clientRST, cancel: true))
    }
}
