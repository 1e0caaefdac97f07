import TacetHTTP
import TacetProbe
import TacetTestSupport
import Testing

/// Requests that could mean two things to two parsers get 400 and a close: never a guess.
@Suite("Malformed requests on real sockets")
struct MalformedRequestTests {
    static let cases: [(String, String)] = [
        ("Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("differing duplicate Content-Length", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: t\r\nX-A: one\r\n two\r\n\r\n"),
        ("bare CR in a header", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n"),
        ("bad chunk size", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        ("chunk data overrunning its size", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n"),
        ("whitespace before colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n"),
        ("missing Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n"),
        ("garbage request line", "HELLO\r\n\r\n"),
        ("bare LF ending the request line", "GET / HTTP/1.1\nHost: t\r\n\r\n"),
        ("bare LF ending a header line", "GET / HTTP/1.1\r\nHost: t\nX-A: b\r\n\r\n"),
        ("bare LF ending the head", "GET / HTTP/1.1\r\nHost: t\r\n\n"),
        ("bare LF after a chunk", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\n0\r\n\r\n"),
        ("chunked not last", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
    ]

    @Test("400 with Connection: close, then FIN", arguments: cases)
    func rejected(_ name: String, _ request: String) async throws {
        let live = try await LiveServer.start(BodyCountResponder())
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(request)
            let result = await client.readToEnd(timeout: 5)
            let response = result.responses().finalResponses.first
            #expect(response?.status == 400, "\(name): \(result.string.prefix(120))")
            #expect(response?.header("connection") == "close")
            #expect(result.end == .fin)
        }
    }

    @Test("Unknown transfer coding: 501")
    func unknownCoding() async throws {
        let live = try await LiveServer.start(BodyCountResponder())
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
            let result = await client.readToEnd(timeout: 5)
            #expect(result.responses().finalResponses.first?.status == 501)
            #expect(result.end == .fin)
        }
    }

    @Test("HTTP/2 request line: 505")
    func wrongVersion() async throws {
        let live = try await LiveServer.start(BodyCountResponder())
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send("GET / HTTP/2.0\r\nHost: t\r\n\r\n")
            let result = await client.readToEnd(timeout: 5)
            #expect(result.responses().finalResponses.first?.status == 505)
        }
    }
}
