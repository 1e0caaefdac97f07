import NIOCore
import NIOHTTP1
import Testing
@testable import TacetHTTP

@Suite("Parser: well-formed requests")
struct ParserTests {
    @Test func simpleGET() throws {
        let events = try parseAll("GET /index.html?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: t\r\n\r\n")
        #expect(events == [head("GET", "/index.html?x=1"), .end])
    }

    @Test func requestFieldsAreExposed() throws {
        var feed = Feed()
        feed.buffer.writeString("GET /a/b?q=1&r HTTP/1.1\r\nHost: [::1]:80\r\nX-Thing:  spaced value \t\r\n\r\n")
        guard case .head(let r)? = try feed.parser.next(&feed.buffer) else {
            Issue.record("no head")
            return
        }
        #expect(r.path == "/a/b")
        #expect(r.query == "q=1&r")
        #expect(r.host == "[::1]")
        #expect(r.headers["x-thing"] == ["spaced value"])
        #expect(r.acceptsInterimResponses)
    }

    @Test("A bare LF anywhere in a head or a chunked body is 400: the strict reading, so no server behind us frames it otherwise")
    func bareLFLineEndingsAreRefused() throws {
        let bare = RequestError.malformed("bare LF line ending")
        #expect(parseError("GET / HTTP/1.1\nHost: example.com\r\n\r\n") == bare)
        #expect(parseError("GET / HTTP/1.1\r\nHost: example.com\n\r\n") == bare)
        #expect(parseError("GET / HTTP/1.1\r\nHost: example.com\r\n\n") == bare)
        #expect(parseError("GET / HTTP/1.1\nHost: example.com\n\n") == bare)
        #expect(parseErrorBytewise("GET / HTTP/1.1\r\nHost: example.com\nX: y\r\n\r\n") == bare)
        let chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(parseError(chunked + "2\nhi\r\n0\r\n\r\n") == bare)
        #expect(parseError(chunked + "2\r\nhi\n0\r\n\r\n") == bare)
        #expect(parseError(chunked + "2\r\nhi\r\n0\r\nT: x\n\r\n") == .malformed("trailer field: bare LF line ending"))
        #expect(parseError(chunked + "2\r\nhi\r\n0\r\n\n") == .malformed("trailer field: bare LF line ending"))
    }

    @Test("Leading empty lines before the request line are ignored (RFC 9112 §2.2)")
    func leadingCRLF() throws {
        #expect(try parseAll("\r\n\r\n\nGET / HTTP/1.1\r\nHost: example.com\r\n\r\n") == [head(), .end])
    }

    @Test func contentLengthBody() throws {
        let events = try parseAll(request("POST", "/up", "Content-Length: 11") + "hello world")
        #expect(events == [head("POST", "/up", framing: .length(11)), .body("hello world"), .end])
    }

    @Test func contentLengthZeroHasNoBody() throws {
        #expect(try parseAll(request("POST", "/", "Content-Length: 0")) == [head("POST"), .end])
    }

    @Test("Identical Content-Length values in a list are one length (RFC 9112 §6.3)")
    func identicalContentLengthList() throws {
        #expect(try parseAll(request("POST", "/", "Content-Length: 5, 5") + "hello")
            == [head("POST", framing: .length(5)), .body("hello"), .end])
        #expect(try parseAll(request("POST", "/", "Content-Length: 5", "content-length: 5") + "hello")
            == [head("POST", framing: .length(5)), .body("hello"), .end])
    }

    @Test func contentLengthBodyWaitsForItsBytes() throws {
        var feed = Feed()
        #expect(try feed.feed(request("POST", "/", "Content-Length: 10") + "abc")
            == [head("POST", framing: .length(10)), .body("abc")])
        #expect(try feed.feed("defg") == [.body("defg")])
        #expect(try feed.feed("hij") == [.body("hij"), .end])
    }

    @Test func chunkedBody() throws {
        let input = request("POST", "/", "Transfer-Encoding: chunked") + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        #expect(try parseAll(input) == [head("POST", framing: .chunked), .body("hello world"), .end])
    }

    @Test func chunkedBodyWithExtensionsTrailersAndHexSizes() throws {
        let input = request("POST", "/", "Transfer-Encoding: Chunked")
            + "A;name=value\r\n0123456789\r\n"
            + "b ; quoted=\"a b\" ; flag\r\nhello world\r\n"
            + "0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
        #expect(try parseAll(input) == [head("POST", framing: .chunked), .body("0123456789hello world"), .end])
    }

    @Test func transferEncodingIsCaseInsensitive() throws {
        #expect(try parseAll(request("POST", "/", "transfer-encoding: CHUNKED") + "0\r\n\r\n")
            == [head("POST", framing: .chunked), .end])
    }

    @Test("Expect: 100-continue is reported for an HTTP/1.1 request with a body only")
    func expectContinue() throws {
        #expect(try parseAll(request("PUT", "/", "Expect: 100-Continue", "Content-Length: 2") + "ok")
            == [head("PUT", framing: .length(2), expectsContinue: true), .body("ok"), .end])
        #expect(try parseAll(request("GET", "/", "Expect: 100-continue"))
            == [head("GET", expectsContinue: false), .end])
        #expect(try parseAll("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok")
            == [head("PUT", version: "1.0", keepAlive: false, framing: .length(2), host: nil), .body("ok"), .end])
    }

    @Test func unknownMethodsAreTokens() throws {
        #expect(try parseAll(request("PURGE", "/x")) == [head("PURGE", "/x"), .end])
    }
}

@Suite("Parser: keep-alive and Host")
struct ParserKeepAliveTests {
    @Test("HTTP/1.1 is persistent unless Connection lists close (RFC 9112 §9.3)",
          arguments: [
              ("", true),
              ("Connection: close", false),
              ("Connection: CLOSE", false),
              ("Connection: Upgrade, close", false),
              ("Connection: keep-alive", true),
              ("Connection: Keep-Alive, Upgrade", true),
              ("Connection: closed", true),
          ])
    func http11(header: String, keepAlive: Bool) throws {
        let input = header.isEmpty ? request() : request("GET", "/", header)
        #expect(try parseAll(input) == [head(keepAlive: keepAlive), .end])
    }

    @Test("HTTP/1.0 is persistent only with the keep-alive token (RFC 9112 §9.3)",
          arguments: [
              ("", false),
              ("Connection: keep-alive\r\n", true),
              ("Connection: Keep-Alive, Upgrade\r\n", true),
              ("Connection: upgrade,KEEP-ALIVE\r\n", true),
              ("Connection: keep-alive, close\r\n", false),
              ("Connection: keep-alive\r\nConnection: close\r\n", false),
              ("Connection: keepalive\r\n", false),
          ])
    func http10(headers: String, keepAlive: Bool) throws {
        let events = try parseAll("GET / HTTP/1.0\r\n\(headers)\r\n")
        #expect(events == [head(version: "1.0", keepAlive: keepAlive, host: nil), .end])
    }

    @Test func http10MayHaveHost() throws {
        #expect(try parseAll("GET / HTTP/1.0\r\nHost: Example.com\r\n\r\n")
            == [head(version: "1.0", keepAlive: false, host: "example.com"), .end])
    }

    @Test("HTTP/1.1 without Host is 400 (RFC 9112 §3.2)")
    func http11RequiresHost() {
        #expect(parseError("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n")?.status == .badRequest)
    }

    @Test("More than one Host is 400 (RFC 9112 §3.2)")
    func twoHosts() {
        #expect(parseError(request("GET", "/", "Host: other.com"))?.status == .badRequest)
    }

    @Test("A Host with an invalid value is 400 (RFC 9112 §3.2)")
    func invalidHostValue() {
        #expect(parseError("GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n")?.status == .badRequest)
        #expect(parseError("GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n")?.status == .badRequest)
    }

    @Test("An absolute-form target's authority replaces Host (RFC 9112 §3.2.2)")
    func absoluteFormTarget() throws {
        var feed = Feed()
        feed.buffer.writeString("GET http://Other.example:8080/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n")
        guard case .head(let r)? = try feed.parser.next(&feed.buffer) else {
            Issue.record("no head")
            return
        }
        #expect(r.query == "q")
        #expect(r.host == "other.example")
        #expect(r.path == "/p")
    }

    @Test func minorVersionsAbove1AreHTTP11() throws {
        #expect(try parseAll("GET / HTTP/1.7\r\nHost: example.com\r\n\r\n") == [head(), .end])
    }
}
