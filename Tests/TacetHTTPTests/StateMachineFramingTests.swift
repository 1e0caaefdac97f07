import Testing
@testable import TacetHTTP

/// How a response is framed and whether the connection stays: the machine's decision, from
/// what it knows of the request and what the route wrote.
@Suite("State machine: response framing and keep-alive")
struct StateMachineFramingTests {
    typealias M = ConnectionStateMachine

    func plan(status: Int = 200, body: ResponseHead.Body, close: Bool = false, keepAlive: Bool = true,
              http10: Bool = false, expects: Bool = false, continueSent: Bool = false,
              quiesce: Bool = false) -> (M.ResponseFraming, keeps: Bool) {
        var m = M()
        _ = m.requestHeadReceived(keepAlive: keepAlive, http10: http10, expectsContinue: expects)
        if continueSent { m.continueSent() }
        if quiesce { _ = m.quiesce() }
        let framing = m.responseHead(status: status, body: body, close: close)
        return (framing, m.responseKeepsAlive)
    }

    @Test("HTTP/1.1: a length as Content-Length, an unknown length chunked, the connection kept")
    func http11() {
        #expect(plan(body: .length(5)) == (.init(framing: .contentLength(5), connection: .none), true))
        #expect(plan(body: .stream) == (.init(framing: .chunked, connection: .none), true))
        #expect(plan(body: .empty) == (.init(framing: .contentLength(0), connection: .none), true))
    }

    @Test("HTTP/1.0: an unknown length ends with the connection; keep-alive only when asked, and said")
    func http10() {
        #expect(plan(body: .stream, http10: true) == (.init(framing: .closeDelimited, connection: .close), false))
        #expect(plan(body: .length(2), http10: true) == (.init(framing: .contentLength(2), connection: .keepAlive), true))
        #expect(plan(body: .length(2), keepAlive: false, http10: true) == (.init(framing: .contentLength(2), connection: .close), false))
    }

    @Test("No body for 1xx, 204, 304 whatever the route says")
    func bodyless() {
        for status in [204, 304] {
            #expect(plan(status: status, body: .length(9)).0.framing == .none)
        }
    }

    @Test("Connection: close when the route asks, the server quiesces, or a 100-continue client never got its 100")
    func closes() {
        #expect(plan(body: .length(1), close: true) == (.init(framing: .contentLength(1), connection: .close), false))
        #expect(plan(body: .length(1), quiesce: true).keeps == false)
        #expect(plan(body: .length(1), expects: true) == (.init(framing: .contentLength(1), connection: .close), false))
        #expect(plan(body: .length(1), expects: true, continueSent: true).keeps == true)
    }

    @Test("101: Connection: upgrade, no body framing")
    func upgrade() {
        #expect(plan(status: 101, body: .empty).0 == .init(framing: .none, connection: .upgrade))
    }

    /// The machine is the one record of the response: the handler asks it whether the head has
    /// gone, how the body is framed and whether it is complete, and logs the status from it
    /// after the exchange is over, until the next request begins.
    @Test("The response's record: status and framing once the head is written, complete at the end, kept until the next request")
    func responseRecord() {
        var m = M()
        _ = m.requestHeadReceived(keepAlive: true)
        #expect(m.responseStatus == nil && !m.responseComplete)
        _ = m.responseHead(status: 201, body: .stream, close: false)
        #expect(m.responseStatus == 201 && m.responseFraming == .chunked && !m.responseComplete)
        _ = m.requestEndReceived()
        #expect(m.responseEnded() == .nextRequest)
        #expect(m.state == .idle)
        #expect(m.responseStatus == 201 && m.responseComplete)
        _ = m.requestHeadReceived(keepAlive: true)
        #expect(m.responseStatus == nil && !m.responseComplete && m.responseFraming == .none)
    }
}
