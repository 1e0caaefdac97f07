import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import TacetHTTP

@Suite("Connection handler: response framing and interim responses")
struct ConnectionHandlerResponseTests {
    @Test("Unknown length to HTTP/1.1: chunked, connection kept")
    func chunkedTo11() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let w = later.writers[0]
        w.writeHead(ResponseHead(status: .ok, body: .stream))
        w.writeBody(ByteBuffer(string: "hello "))
        w.writeBody(ByteBuffer(string: "chunked world"))
        w.end()
        let out = try h.output()
        #expect(out.hasSuffix("6\r\nhello \r\nd\r\nchunked world\r\n0\r\n\r\n"))
        let r = try #require(parseResponses(out).first)
        #expect(r.header("Transfer-Encoding") == "chunked")
        #expect(r.header("Content-Length") == nil)
        #expect(r.body == "hello chunked world")
        #expect(h.isOpen)
        #expect(!w.isActive)
    }

    @Test("Unknown length to HTTP/1.0: close-delimited, Connection: close, no chunking")
    func closeDelimitedTo10() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let w = later.writers[0]
        w.writeHead(ResponseHead(status: .ok, body: .stream))
        w.writeBody(ByteBuffer(string: "raw "))
        w.writeBody(ByteBuffer(string: "bytes"))
        #expect(h.isOpen)
        w.end()
        let out = try h.output()
        let r = try #require(parseResponses(out).first)
        #expect(r.header("Transfer-Encoding") == nil)
        #expect(r.header("Content-Length") == nil)
        #expect(r.header("Connection") == "close")
        #expect(r.body == "raw bytes")
        #expect(!h.isOpen, "the body ends with the server's close")
    }

    @Test("HEAD with an unknown length: chunked header, no body, no terminator")
    func headStream() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
        later.writers[0].writeHead(ResponseHead(status: .ok, body: .stream))
        later.writers[0].writeBody(ByteBuffer(string: "ignored"))
        later.writers[0].end()
        let out = try h.output()
        #expect(out.hasSuffix("\r\n\r\n"))
        #expect(!out.contains("ignored"))
        #expect(!out.contains("0\r\n\r\n"))
    }

    @Test("204 and 304 carry no framing headers")
    func bodylessStatuses() throws {
        for status in [HTTPResponseStatus.noContent, .notModified] {
            let h = try Harness(responder: FixedResponder(status: status, body: ""))
            try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            let out = try h.output()
            #expect(!out.contains("Content-Length"), "\(status)")
            #expect(!out.contains("Transfer-Encoding"), "\(status)")
            #expect(out.hasSuffix("\r\n\r\n"))
        }
    }

    @Test("writeInterim: sent to HTTP/1.1 before the final head, refused after it")
    func interimTo11() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let w = later.writers[0]
        var hints = HTTPHeaders()
        hints.add(name: "Link", value: "</style.css>; rel=preload")
        #expect(w.writeInterim(HTTPResponseStatus(statusCode: 103), headers: hints))
        let interim = try h.output()
        // The reason phrase may be empty (RFC 9112 §4); NIO has no name for 103.
        #expect(interim.hasPrefix("HTTP/1.1 103 "))
        #expect(interim.hasSuffix("\r\nLink: </style.css>; rel=preload\r\n\r\n"))
        #expect(!interim.contains("Date:") && !interim.contains("Content-Length"), "no final-response fields")
        #expect(!w.writeInterim(.switchingProtocols), "101 is not an interim response a route may send")
        #expect(!w.writeInterim(.ok), "not 1xx")
        w.writeHead(ResponseHead(status: .ok, body: .stream))
        #expect(!w.writeInterim(.processing), "after the final head")
        w.end()
        #expect(!w.writeInterim(.processing), "after the response")
        #expect(parseResponses(try h.output()).map(\.status) == [200])
    }

    @Test("writeInterim is refused for HTTP/1.0 (RFC 9110 §15.2)")
    func interimRefusedFor10() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET / HTTP/1.0\r\n\r\n")
        #expect(!later.writers[0].writeInterim(HTTPResponseStatus(statusCode: 103)))
        #expect(!later.writers[0].writeInterim(.continue))
        #expect(try h.output() == "")
    }

    @Test("Expect: 100-continue: 100 Continue when the route takes the body, then the body flows")
    func expectContinue() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        #expect(try h.output() == "HTTP/1.1 100 Continue\r\n\r\n")
        try h.send("data")
        #expect(later.handlers[0].body == "data")
        #expect(later.handlers[0].ended)
        later.writers[0].respond(ResponseHead(status: .created, body: .empty), body: nil)
        let r = parseResponses(try h.output())
        #expect(r.map(\.status) == [201])
        #expect(r.first?.header("Connection") == nil)
        #expect(h.isOpen)
    }

    @Test("Expect: 100-continue answered at once without reading the body: close after the response")
    func expectContinueRefused() throws {
        let h = try Harness(responder: FixedResponder(status: .forbidden, body: "no\n"))
        try h.send("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let r = parseResponses(try h.output())
        #expect(r.map(\.status) == [403])
        #expect(r.first?.header("Connection") == "close")
        #expect(!h.isOpen)
    }
}
