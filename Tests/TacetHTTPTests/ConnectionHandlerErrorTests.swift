import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import TacetHTTP

@Suite("Connection handler: error responses")
struct ConnectionHandlerErrorTests {
    static func small() -> ServerSettings {
        var s = ServerSettings()
        s.parserLimits = RequestParser.Limits(maxRequestLine: 64, maxHeaderSize: 256, maxBodySize: 10)
        return s
    }

    @Test("Parse errors get their status with Connection: close, then the connection closes", arguments: [
        ("GET /" + String(repeating: "a", count: 100), 414),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "b", count: 300), 431),
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", 413),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    ])
    func errorResponses(input: String, status: Int) throws {
        let h = try Harness(settings: Self.small())
        try h.send(input)
        let r = parseResponses(try h.output())
        try #require(r.count == 1)
        #expect(r[0].status == status)
        #expect(r[0].header("Connection") == "close")
        #expect(r[0].header("Content-Length") == String(r[0].body.utf8.count))
        #expect(!h.isOpen)
    }

    @Test("An error after a good request: the good one is answered first")
    func errorAfterGoodRequest() throws {
        let h = try Harness()
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost : a\r\n\r\n")
        #expect(parseResponses(try h.output()).map(\.status) == [200, 400])
        #expect(!h.isOpen)
    }

    @Test("A chunked body over the limit, after the route has the request: 413 and the route is cancelled")
    func chunkedBodyTooLarge() throws {
        let later = LaterResponder()
        let h = try Harness(settings: Self.small(), responder: later)
        try h.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        #expect(later.handlers.first?.body == "hello")
        try h.send("6\r\nworld!\r\n")
        #expect(later.handlers.first?.cancelled == .serverClose)
        #expect(parseResponses(try h.output()).first?.status == 413)
        #expect(!h.isOpen)
    }

    @Test("An error answering a HEAD request has no content (RFC 9110 §9.3.2)")
    func headErrorHasNoBody() throws {
        let h = try Harness()
        try h.send("HEAD / HTTP/1.1\r\nUser-Agent: t\r\n\r\n")
        let out = try h.output()
        #expect(out.hasPrefix("HTTP/1.1 400 "))
        #expect(out.hasSuffix("\r\n\r\n"))
    }
}
