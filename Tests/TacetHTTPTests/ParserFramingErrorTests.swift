import NIOCore
import Testing
@testable import TacetHTTP

/// Framing ambiguities are how requests get smuggled (RFC 9112 §6.3, §11.2): each must be refused.
@Suite("Parser: body framing errors")
struct ParserFramingErrorTests {
    @Test("Content-Length with Transfer-Encoding is 400")
    func contentLengthAndTransferEncoding() {
        #expect(parseError(request("POST", "/", "Content-Length: 5", "Transfer-Encoding: chunked"))
            == .malformed("both Content-Length and Transfer-Encoding"))
        #expect(parseError(request("POST", "/", "Transfer-Encoding: chunked", "Content-Length: 5"))?.status == .badRequest)
    }

    @Test("Differing Content-Lengths are 400, in one field or two")
    func differingContentLengths() {
        #expect(parseError(request("POST", "/", "Content-Length: 5, 6")) == .malformed("conflicting Content-Length"))
        #expect(parseError(request("POST", "/", "Content-Length: 5", "Content-Length: 6"))
            == .malformed("conflicting Content-Length"))
    }

    @Test("Invalid Content-Length values are 400", arguments: [
        "Content-Length: -1", "Content-Length: +5", "Content-Length: 5a", "Content-Length: 0x5",
        "Content-Length: ", "Content-Length: 5,", "Content-Length: 1 2", "Content-Length: 5,,5",
    ])
    func invalidContentLength(header: String) {
        #expect(parseError(request("POST", "/", header))?.status == .badRequest)
    }

    @Test("A transfer coding other than chunked, before chunked, is 501 (RFC 9112 §6.1)")
    func unsupportedCoding() {
        #expect(parseError(request("POST", "/", "Transfer-Encoding: gzip, chunked")) == .unsupportedTransferCoding)
        #expect(parseError(request("POST", "/", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked"))
            == .unsupportedTransferCoding)
        #expect(RequestError.unsupportedTransferCoding.status.code == 501)
    }

    @Test("chunked not last is 400 (RFC 9112 §6.3)", arguments: [
        "Transfer-Encoding: chunked, gzip", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked, chunked",
        "Transfer-Encoding: ", "Transfer-Encoding: chunked", // HTTP/1.0 below
    ])
    func chunkedNotFinal(header: String) {
        if header == "Transfer-Encoding: chunked" {
            // HTTP/1.0 with Transfer-Encoding: framing is faulty (RFC 9112 §6.1).
            #expect(parseError("POST / HTTP/1.0\r\n\(header)\r\n\r\n0\r\n\r\n")?.status == .badRequest)
        } else {
            #expect(parseError(request("POST", "/", header))?.status == .badRequest)
        }
    }

    @Test("Invalid chunk sizes are 400", arguments: ["zz\r\n", "\r\n", ";ext\r\n", " 5\r\n", "5\0\r\n"])
    func invalidChunkSize(line: String) {
        #expect(parseError(request("POST", "/", "Transfer-Encoding: chunked") + line + "hello\r\n0\r\n\r\n")?.status
            == .badRequest)
    }

    @Test("A chunk size with trailing junk is 400 (chunk-size = 1*HEXDIG, RFC 9112 §7.1)",
          arguments: ["5x\r\nhello\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n", "5 junk\r\nhello\r\n0\r\n\r\n"])
    func chunkSizeTrailingJunk(body: String) {
        #expect(parseError(request("POST", "/", "Transfer-Encoding: chunked") + body)?.status == .badRequest)
    }

    @Test("Chunk data must be followed by CRLF")
    func missingCRLFAfterChunk() {
        let te = request("POST", "/", "Transfer-Encoding: chunked")
        #expect(parseError(te + "5\r\nhelloX\r\n0\r\n\r\n") == .malformed("chunk longer than its size"))
        #expect(parseError(te + "5\r\nhello\rX0\r\n\r\n") == .malformed("bad chunk terminator"))
        #expect(parseErrorBytewise(te + "5\r\nhelloX\r\n0\r\n\r\n")?.status == .badRequest)
    }

    @Test("A bare CR in a trailer is 400")
    func bareCRInTrailer() {
        #expect(parseError(request("POST", "/", "Transfer-Encoding: chunked") + "0\r\nX-T: a\rb\r\n\r\n")
            == .malformed("trailer field: bare CR in header"))
    }

    @Test("A malformed trailer field line is 400 (RFC 9112 §5.1, §7.1.2)")
    func malformedTrailer() {
        let te = request("POST", "/", "Transfer-Encoding: chunked")
        #expect(parseError(te + "0\r\nX-T : 1\r\n\r\n")?.status == .badRequest)
        #expect(parseError(te + "0\r\nno colon\r\n\r\n")?.status == .badRequest)
    }
}
