import NIOCore
import Testing
@testable import TacetHTTP

/// A refused request's line, read from what arrived: named in the access log only when it looks
/// like a request line.
@Suite("Refused request line")
struct RefusedRequestLineTests {
    func parse(_ text: String) -> RefusedRequestLine? {
        Array(text.utf8).withUnsafeBytes { RefusedRequestLine.parse($0) }
    }

    @Test("A request line with or without its CR: method, target and version")
    func wellFormed() {
        #expect(parse("GET /a?b=c HTTP/1.1") == RefusedRequestLine(method: "GET", target: "/a?b=c", version: "HTTP/1.1"))
        #expect(parse("POST * HTTP/1.0\r") == RefusedRequestLine(method: "POST", target: "*", version: "HTTP/1.0"))
    }

    @Test("Anything else is not named: no version, two spaces, controls, a bad method, an empty line")
    func notALine() {
        for text in ["GET /a", "GET  /a HTTP/1.1", "GET /a\u{1}b HTTP/1.1", "G(T /a HTTP/1.1", "", "GET /a HTTP/x.1",
                     "GET /a HTTP/1.1 extra", " /a HTTP/1.1"] {
            #expect(parse(text) == nil, "\(text)")
        }
    }

    @Test("The parser keeps the line of a head it refuses for its size, not of one it never finished reading")
    func parserKeepsIt() throws {
        var parser = RequestParser(limits: .init(maxHeaderSize: 64))
        var buffer = ByteBuffer(string: "GET /big HTTP/1.1\r\nX-A: " + String(repeating: "a", count: 100) + "\r\n\r\n")
        #expect(throws: RequestError.headersTooLarge) { _ = try parser.next(&buffer) }
        #expect(parser.refusedLine == RefusedRequestLine(method: "GET", target: "/big", version: "HTTP/1.1"))
        var long = RequestParser(limits: .init(maxRequestLine: 16))
        var line = ByteBuffer(string: "GET /" + String(repeating: "a", count: 40) + " HTTP/1.1\r\n\r\n")
        #expect(throws: RequestError.requestLineTooLong) { _ = try long.next(&line) }
        #expect(long.refusedLine == nil)
    }
}
