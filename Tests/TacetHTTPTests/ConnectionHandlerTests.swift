import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import TacetHTTP

@Suite("Connection handler: requests and responses")
struct ConnectionHandlerTests {
    @Test("GET: 200 with Date, Server, Content-Length and the body; the connection stays")
    func simpleGET() throws {
        let h = try Harness()
        try h.send("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        let out = try h.output()
        let responses = parseResponses(out)
        try #require(responses.count == 1)
        let r = responses[0]
        #expect(r.statusLine == "HTTP/1.1 200 OK")
        #expect(r.header("Server") == "tacet")
        #expect(r.header("Date")?.hasSuffix(" GMT") == true)
        #expect(r.header("Date")?.utf8.count == 29)
        #expect(r.header("Content-Length") == "6")
        #expect(r.header("Connection") == nil, "HTTP/1.1 is persistent by default")
        #expect(r.body == "hello\n")
        #expect(h.isOpen)
    }

    @Test("HEAD: the GET's Content-Length, no body")
    func head() throws {
        let h = try Harness()
        try h.send("HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        let out = try h.output()
        #expect(out.hasSuffix("\r\n\r\n"))
        #expect(!out.contains("hello"))
        let r = parseResponses(out, bodyless: [0])
        #expect(r.first?.header("Content-Length") == "6")
        #expect(h.isOpen)
    }

    @Test("Pipelined GETs in one read are answered in order")
    func pipelined() throws {
        let h = try Harness(responder: EchoTargetResponder())
        try h.send((1...4).map { "GET /\($0) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined())
        let responses = parseResponses(try h.output())
        #expect(responses.map(\.body) == ["/1", "/2", "/3", "/4"])
        #expect(responses.allSatisfy { $0.status == 200 })
        #expect(h.isOpen)
        #expect(h.handler.machine.requestsServed == 4)
    }

    @Test("Pipelined requests with bodies, split across reads, are answered in order")
    func pipelinedWithBodiesSplit() throws {
        let h = try Harness(responder: EchoTargetResponder())
        let all = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz"
            + "POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
            + "GET /c HTTP/1.1\r\nHost: a\r\n\r\n"
        for byte in all.utf8 { try h.channel.writeInbound(ByteBuffer(bytes: [byte])) }
        #expect(parseResponses(try h.output()).map(\.body) == ["/a", "/b", "/c"])
    }

    @Test("HTTP/1.0 keep-alive gets Connection: keep-alive; plain HTTP/1.0 gets close")
    func http10KeepAlive() throws {
        let h = try Harness()
        try h.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(parseResponses(try h.output()).first?.header("Connection") == "keep-alive")
        #expect(h.isOpen)
        try h.send("GET / HTTP/1.0\r\n\r\n")
        #expect(parseResponses(try h.output()).first?.header("Connection") == "close")
        #expect(!h.isOpen)
    }

    @Test("Connection: close is answered with Connection: close, then the server closes")
    func connectionClose() throws {
        let h = try Harness()
        try h.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let r = parseResponses(try h.output())
        #expect(r.count == 1)
        #expect(r.first?.header("Connection") == "close")
        #expect(h.handler.machine.endReason == .serverClose)
        #expect(!h.isOpen)
    }

    @Test("keepalive_requests: the last allowed response says Connection: close")
    func keepaliveRequests() throws {
        var settings = ServerSettings()
        settings.keepaliveRequests = 2
        let h = try Harness(settings: settings)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let r = parseResponses(try h.output())
        #expect(r.count == 2, "the third request is never answered")
        #expect(r.map { $0.header("Connection") } == [nil, "close"])
        #expect(!h.isOpen)
    }

    @Test("A route's framing and Connection headers are replaced by the connection's")
    func routeFramingHeadersDropped() throws {
        let fixed = FixedResponder(status: .ok, body: "abc",
                                   headers: [("Content-Length", "99"), ("Connection", "close"), ("X-Route", "1")])
        let h = try Harness(responder: fixed)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let r = try #require(parseResponses(try h.output()).first)
        #expect(r.count("Content-Length") == 1)
        #expect(r.header("Content-Length") == "3")
        #expect(r.header("Connection") == nil)
        #expect(r.header("X-Route") == "1")
    }

    @Test("Quiesce on an idle connection closes it")
    func quiesceIdle() throws {
        let h = try Harness()
        h.channel.pipeline.fireUserInboundEventTriggered(QuiesceEvent())
        #expect(!h.isOpen)
        #expect(try h.output() == "")
    }

    @Test("A response sent before the body arrived: the body is read and dropped, the next request served")
    func earlyResponseKeepAlive() throws {
        let h = try Harness(responder: EchoTargetResponder())
        try h.send("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab")
        #expect(parseResponses(try h.output()).map(\.body) == ["/a"])
        try h.send("cdeGET /b HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(parseResponses(try h.output()).map(\.body) == ["/b"])
        #expect(h.isOpen)
    }

    @Test("Quiesce while a request is answered: that response says Connection: close, then close")
    func quiesceActive() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        h.channel.pipeline.fireUserInboundEventTriggered(QuiesceEvent())
        #expect(h.isOpen)
        later.writers[0].respond(ResponseHead(status: .ok, body: .empty), body: nil)
        #expect(parseResponses(try h.output()).first?.header("Connection") == "close")
        #expect(!h.isOpen)
    }
}
