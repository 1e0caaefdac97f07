import NIOCore
import Testing
@testable import TacetHTTP

@Suite("Parser: size limits")
struct ParserLimitTests {
    static let small = RequestParser.Limits(maxRequestLine: 64, maxHeaderSize: 256, maxBodySize: 100)

    @Test("A request line over the limit is 414, with or without its LF")
    func requestLineTooLong() {
        let long = "GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(parseError(long, limits: Self.small) == .requestLineTooLong)
        #expect(RequestError.requestLineTooLong.status.code == 414)
        // No LF has arrived yet: the limit applies to what has.
        let noLF = "GET /" + String(repeating: "a", count: 100)
        #expect(parseError(noLF, limits: Self.small) == .requestLineTooLong)
        #expect(parseErrorBytewise(noLF, limits: Self.small) == .requestLineTooLong)
        // Default limit (8 KiB).
        #expect(parseError("GET /" + String(repeating: "a", count: 9000)) == .requestLineTooLong)
    }

    @Test("A request line at the limit is accepted")
    func requestLineAtLimit() throws {
        // 64 bytes counting the CR: "GET /" (5) + target + " HTTP/1.1\r" (10).
        let line = "GET /" + String(repeating: "a", count: 49) + " HTTP/1.1\r"
        #expect(line.utf8.count == 64)
        let input = line + "\nHost: a\r\n\r\n"
        #expect(parseError(input, limits: Self.small) == nil)
        #expect(parseErrorBytewise(input, limits: Self.small) == nil)
        let over = "GET /" + String(repeating: "a", count: 50) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(parseError(over, limits: Self.small) == .requestLineTooLong)
        #expect(parseErrorBytewise(over, limits: Self.small) == .requestLineTooLong)
    }

    @Test("A header block over the limit is 431, complete or still arriving")
    func headersTooLarge() {
        let big = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 300) + "\r\n\r\n"
        #expect(parseError(big, limits: Self.small) == .headersTooLarge)
        #expect(RequestError.headersTooLarge.status.code == 431)
        let unfinished = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 300)
        #expect(parseError(unfinished, limits: Self.small) == .headersTooLarge)
        #expect(parseErrorBytewise(unfinished, limits: Self.small) == .headersTooLarge)
        // Many small lines add up too.
        let many = "GET / HTTP/1.1\r\nHost: a\r\n" + String(repeating: "X-A: 1\r\n", count: 40)
        #expect(parseErrorBytewise(many, limits: Self.small) == .headersTooLarge)
    }

    @Test("Bytes after a head within the limit do not count against it")
    func pipelinedBytesAreNotHead() throws {
        let one = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(parseError(String(repeating: one, count: 20), limits: Self.small) == nil)
    }

    @Test("Content-Length over the body limit is 413")
    func contentLengthTooLarge() {
        #expect(parseError(request("POST", "/", "Content-Length: 101"), limits: Self.small) == .bodyTooLarge)
        #expect(parseError(request("POST", "/", "Content-Length: 100"), limits: Self.small) == nil)
        #expect(parseError(request("POST", "/", "Content-Length: 99999999999999999")) == .bodyTooLarge)
        #expect(RequestError.bodyTooLarge.status.code == 413)
    }

    @Test("A chunked body over the body limit is 413")
    func chunkedTooLarge() {
        let chunk = "32\r\n" + String(repeating: "c", count: 50) + "\r\n"
        let ok = request("POST", "/", "Transfer-Encoding: chunked") + chunk + chunk + "0\r\n\r\n"
        #expect(parseError(ok, limits: Self.small) == nil)
        let tooMuch = request("POST", "/", "Transfer-Encoding: chunked") + chunk + chunk + "1\r\nx\r\n0\r\n\r\n"
        #expect(parseError(tooMuch, limits: Self.small) == .bodyTooLarge)
        #expect(parseErrorBytewise(tooMuch, limits: Self.small) == .bodyTooLarge)
        // One huge chunk size is refused before its data arrives.
        #expect(parseError(request("POST", "/", "Transfer-Encoding: chunked") + "fffffff\r\n", limits: Self.small)
            == .bodyTooLarge)
    }

    @Test("An endless chunk size line or trailer section is refused")
    func endlessChunkLines() {
        let te = request("POST", "/", "Transfer-Encoding: chunked")
        #expect(parseError(te + "1;" + String(repeating: "e", count: 2000))?.status == .badRequest)
        #expect(parseError(te + "0000000000000000001\r\nx\r\n0\r\n\r\n")?.status == .badRequest)
        let trailers = te + "0\r\n" + String(repeating: "X-T: 1\r\n", count: 50)
        #expect(parseError(trailers, limits: Self.small) == .headersTooLarge)
    }
}
