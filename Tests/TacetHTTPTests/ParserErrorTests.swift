import NIOCore
import Testing
@testable import TacetHTTP

@Suite("Parser: malformed requests")
struct ParserErrorTests {
    @Test("Malformed request lines are 400", arguments: [
        "GET\r\n\r\n",
        "GET /\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        " GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
        "GET / http/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/11\r\nHost: a\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n",
    ])
    func badRequestLine(input: String) {
        #expect(parseError(input)?.status == .badRequest)
    }

    @Test("A bare CR in the request line is 400 (RFC 9112 §2.2)", arguments: [
        "GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\rX\r\nHost: a\r\n\r\n",
        "GET\r/ HTTP/1.1\r\nHost: a\r\n\r\n",
        "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    ])
    func bareCRInRequestLine(input: String) {
        #expect(parseError(input)?.status == .badRequest)
        #expect(parseErrorBytewise(input)?.status == .badRequest)
    }

    @Test("HTTP/2.0 and HTTP/0.9-style versions are 505")
    func versionNotSupported() {
        #expect(parseError("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == .versionNotSupported)
        #expect(parseError("GET / HTTP/3.0\r\nHost: a\r\n\r\n") == .versionNotSupported)
        #expect(RequestError.versionNotSupported.status.code == 505)
    }

    @Test("Obsolete line folding is 400 (RFC 9112 §5.2)")
    func obsFold() {
        #expect(parseError("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n") == .malformed("obsolete line folding"))
        #expect(parseError("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n") == .malformed("obsolete line folding"))
        // Whitespace between the request line and the first field (RFC 9112 §2.2).
        #expect(parseError("GET / HTTP/1.1\r\n Host: a\r\n\r\n")?.status == .badRequest)
    }

    @Test("A bare CR in a field value is 400 (RFC 9112 §2.2)")
    func bareCRInHeader() {
        #expect(parseError("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\rtwo\r\n\r\n") == .malformed("bare CR in header"))
        #expect(parseError("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\r\n\r\n")?.status == .badRequest)
        #expect(parseErrorBytewise("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\rtwo\r\n\r\n")?.status == .badRequest)
    }

    @Test("Whitespace between a field name and the colon is 400 (RFC 9112 §5.1)")
    func whitespaceBeforeColon() {
        #expect(parseError("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == .malformed("whitespace before colon"))
        #expect(parseError("GET / HTTP/1.1\r\nHost: a\r\nX-A\t: 1\r\n\r\n") == .malformed("whitespace before colon"))
    }

    @Test("Other broken field lines are 400", arguments: [
        "GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n: empty name\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nBad[Name]: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Nul: a\u{0}b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Del: a\u{7F}b\r\n\r\n",
    ])
    func badFieldLines(input: String) {
        #expect(parseError(input)?.status == .badRequest)
    }
}
