import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import TacetHTTP

#if canImport(Glibc)
import Glibc
#endif

/// RFC 9112 §9.6: a half-close "does not delimit a request message, nor does it imply that the
/// client is no longer interested in a response".
@Suite("Connection handler: client FIN")
struct ConnectionHandlerFINTests {
    @Test("FIN after a GET: the response, then the channel closes")
    func finAfterGET() throws {
        let h = try Harness()
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        h.fin()
        let r = parseResponses(try h.output())
        #expect(r.map(\.status) == [200])
        #expect(r.first?.body == "hello\n")
        #expect(!h.isOpen)
        #expect(h.handler.machine.endReason == .clientFIN)
    }

    @Test("A responder that answers after the FIN still gets its response out")
    func answerAfterFIN() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        h.fin()
        #expect(h.isOpen, "a FIN after a whole request is no abort")
        #expect(later.handlers.first?.halfClosed == true)
        #expect(later.handlers.first?.cancelled == nil)
        #expect(later.writers.first?.isActive == true)
        #expect(try h.output() == "")

        later.writers[0].respond(ResponseHead(status: .ok, body: .length(4)), body: ByteBuffer(string: "late"))
        let r = parseResponses(try h.output())
        #expect(r.map(\.body) == ["late"])
        #expect(!h.isOpen)
        #expect(h.handler.machine.endReason == .clientFIN)
    }

    @Test("Pipelined requests then FIN, answered later: every response in order, then close")
    func pipelinedThenFINAnsweredLater() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send((1...3).map { "GET /\($0) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined())
        h.fin()
        for n in 0..<3 {
            h.run()
            #expect(later.requests.count == n + 1, "one request at a time")
            #expect(h.isOpen)
            let body = ByteBuffer(string: later.requests[n].target)
            later.writers[n].respond(ResponseHead(status: .ok, body: .length(body.readableBytes)), body: body)
        }
        #expect(parseResponses(try h.output()).map(\.body) == ["/1", "/2", "/3"])
        #expect(!h.isOpen)
    }

    @Test("A response ended outside the connection's read (an upstream's) starts the next pipelined request in a task of its own, never on the caller's stack")
    func nextRequestNotOnCallersStack() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(later.requests.count == 1)
        later.writers[0].respond(ResponseHead(status: .ok, body: .length(1)), body: ByteBuffer(string: "1"))
        #expect(later.requests.count == 1, "dispatched from inside the caller")
        h.run()
        #expect(later.requests.map(\.target) == ["/1", "/2"])
    }

    @Test("A FIN after a response ended outside the read, before the next pipelined request was parsed: that request is answered, not taken for one cut short")
    func finBeforeDeferredNextRequest() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
        later.writers[0].respond(ResponseHead(status: .ok, body: .length(1)), body: ByteBuffer(string: "1"))
        h.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        h.run()
        #expect(later.requests.map(\.target) == ["/1", "/2"])
        #expect(h.isOpen)
        later.writers[1].respond(ResponseHead(status: .ok, body: .length(1)), body: ByteBuffer(string: "2"))
        #expect(parseResponses(try h.output()).map(\.status) == [200, 200])
        #expect(!h.isOpen)
        #expect(h.handler.machine.endReason == .clientFIN)
    }

    @Test("FIN in the middle of a head: 400 with Connection: close, then close")
    func finMidHead() throws {
        let h = try Harness()
        try h.send("GET / HTTP/1.1\r\nHo")
        h.fin()
        let r = parseResponses(try h.output())
        #expect(r.map(\.status) == [400])
        #expect(r.first?.header("Connection") == "close")
        #expect(!h.isOpen)
    }

    @Test("FIN in the middle of a body: the route is cancelled, 400, close")
    func finMidBody() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        h.fin()
        #expect(later.handlers.first?.cancelled == .clientFIN)
        #expect(later.writers.first?.isActive == false)
        #expect(parseResponses(try h.output()).map(\.status) == [400])
        #expect(!h.isOpen)
    }

    @Test("FIN on an idle connection: closed, nothing written")
    func finOnIdle() throws {
        let h = try Harness()
        h.fin()
        #expect(try h.output() == "")
        #expect(!h.isOpen)
    }

    @Test("FIN after keep-alive requests were all answered: closed")
    func finAfterAnswered() throws {
        let h = try Harness()
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(parseResponses(try h.output()).count == 1)
        #expect(h.isOpen)
        h.fin()
        #expect(!h.isOpen)
    }

    @Test("A response that started streaming before the FIN is finished after it")
    func streamingAcrossFIN() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let w = later.writers[0]
        w.writeHead(ResponseHead(status: .ok, body: .stream))
        w.writeBody(ByteBuffer(string: "part1 "))
        h.fin()
        #expect(h.isOpen)
        w.writeBody(ByteBuffer(string: "part2"))
        w.end()
        #expect(parseResponses(try h.output()).first?.body == "part1 part2")
        #expect(!h.isOpen)
    }

    @Test("An empty line after a body, then FIN: the response, then close, no 400")
    func extraCRLFThenFIN() throws {
        let h = try Harness()
        try h.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok\r\n")
        h.fin()
        #expect(parseResponses(try h.output()).map(\.status) == [200])
        #expect(!h.isOpen)
    }

    @Test("RST while the route works: it is cancelled with client_rst, the channel closes at once")
    func rstCancels() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        h.channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "read"))
        #expect(later.handlers.first?.cancelled == .clientRST)
        #expect(!h.isOpen)
        #expect(h.handler.machine.endReason == .clientRST)
        later.writers[0].respond(ResponseHead(status: .ok, body: .empty), body: nil)
        #expect(try h.output() == "", "writes after the cancel are ignored")
    }

    @Test("The channel going away without an error also cancels the route")
    func inactiveCancels() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        h.fin()
        h.channel.pipeline.fireChannelInactive()
        // After a FIN, only an RST can take the channel away: a half-closed client cannot.
        #expect(later.handlers.first?.cancelled == .clientRST)
        #expect(later.writers.first?.isActive == false)
    }
}
