import NIOCore
import TacetHTTP
import TacetProbe
import TacetTestSupport
import Testing

/// Each limit and timeout, with the status a client sees and the FIN that follows.
@Suite("Limits and timeouts on real sockets")
struct LimitsTests {
    let fixed = FixedResponder(status: .ok, body: "ok\n")

    /// Sends `request` to a route that reads bodies; expects `status` with Connection: close, then FIN.
    func expectErrorThenFIN(_ request: String, status: Int, settings: ServerSettings = ServerSettings(),
                            shutdown: Bool = false) async throws {
        let live = try await LiveServer.start(settings: settings, BodyCountResponder())
        try await whileRunning(live) {
            // Sent with the connect: with a 150 ms header timeout, a gap between the two could
            // already count as an idle connection (closed without a response).
            let client = try await live.connect(sending: request)
            if shutdown { try client.shutdownWrite() }
            let result = await client.readToEnd(timeout: 10)
            let response = result.responses().finalResponses.first
            #expect(response?.status == status, "got: \(result.string.prefix(200))")
            #expect(response?.header("connection") == "close")
            #expect(response?.isComplete == true)
            #expect(result.end == .fin)
        }
    }

    @Test("Request line over the limit: 414")
    func requestLineTooLong() async throws {
        try await expectErrorThenFIN("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: t\r\n\r\n", status: 414)
    }

    @Test("Request line over the limit before its LF arrives: 414")
    func requestLineTooLongNoLF() async throws {
        try await expectErrorThenFIN("GET /" + String(repeating: "a", count: 9000), status: 414)
    }

    @Test("Header block over the limit: 431")
    func headersTooLarge() async throws {
        let big = (0..<40).map { "X-Filler-\($0): " + String(repeating: "v", count: 1000) + "\r\n" }.joined()
        try await expectErrorThenFIN("GET / HTTP/1.1\r\nHost: t\r\n" + big + "\r\n", status: 431)
    }

    @Test("Content-Length over max_body_size: 413")
    func bodyTooLarge() async throws {
        try await expectErrorThenFIN("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\n\r\n", status: 413, shutdown: true)
    }

    @Test("Chunked body growing over max_body_size: 413")
    func chunkedTooLarge() async throws {
        var settings = ServerSettings()
        settings.parserLimits.maxBodySize = 10
        try await expectErrorThenFIN("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n", status: 413,
                                     settings: settings, shutdown: true)
    }

    @Test("Header timeout: 408, then FIN")
    func headerTimeout() async throws {
        var settings = ServerSettings()
        settings.headerTimeout = .milliseconds(150)
        try await expectErrorThenFIN("GET / HTTP/1.1\r\nHost:", status: 408, settings: settings)
    }

    @Test("Body timeout: 408, then FIN")
    func bodyTimeout() async throws {
        var settings = ServerSettings()
        settings.bodyTimeout = .milliseconds(150)
        try await expectErrorThenFIN("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc", status: 408, settings: settings)
    }

    @Test("Keep-alive idle timeout: FIN without a byte")
    func keepaliveTimeout() async throws {
        var settings = ServerSettings()
        settings.keepaliveTimeout = .milliseconds(150)
        let live = try await LiveServer.start(settings: settings, fixed)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/"))
            #expect(await client.readResponses(count: 1, timeout: 5).responses().completeFinalCount == 1)
            let rest = await client.readToEnd(timeout: 5)
            #expect(rest.end == .fin)
            #expect(rest.bytes.isEmpty)
        }
    }

    @Test("Send timeout: a client that stops reading is disconnected")
    func sendTimeout() async throws {
        var settings = ServerSettings()
        settings.sendTimeout = .milliseconds(150)
        let live = try await LiveServer.start(settings: settings, StreamingResponder(chunks: 512, size: 64 * 1024))
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/huge"))
            // Never read: 32 MiB cannot fit in the socket buffers, so the server's writes stall.
            #expect(await live.waitForNoConnections(timeout: 10))
            let result = await client.readToEnd(timeout: 10)
            #expect(result.end != .timeout)
            #expect(result.responses().finalResponses.first?.isComplete == false)
        }
    }

    @Test("keepalive_requests: the last allowed response says Connection: close, then FIN")
    func keepaliveRequests() async throws {
        var settings = ServerSettings()
        settings.keepaliveRequests = 2
        let live = try await LiveServer.start(settings: settings, fixed)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/") + get("/") + get("/"))
            let result = await client.readToEnd(timeout: 5)
            let responses = result.responses().finalResponses
            #expect(responses.count == 2)
            #expect(responses.last?.header("connection") == "close")
            #expect(result.end == .fin)
        }
    }

    /// A server with `max_connections: 1`, one connection answered, a second sent a GET and waiting.
    func atTheLimit() async throws -> (live: LiveServer, first: OffPoolClient, second: OffPoolClient) {
        var settings = ServerSettings()
        settings.maxConnections = 1
        let live = try await LiveServer.start(settings: settings, fixed)
        let first = try await live.connect()
        try await first.send(get("/"))
        #expect(await first.readResponses(count: 1, timeout: 5).responses().completeFinalCount == 1)
        // The kernel completes the handshake, but Tacet does not accept: no answer yet.
        let second = try await live.connect()
        try await second.send(get("/"))
        #expect(live.server.connectionCount == 1)
        #expect(await second.read(until: { !$0.isEmpty }, timeout: 0.3).bytes.isEmpty)
        return (live, first, second)
    }

    @Test("max_connections: accepting stops at the limit and resumes below it")
    func maxConnections() async throws {
        let (live, first, second) = try await atTheLimit()
        try await whileRunning(live) {
            first.close()
            let answered = await second.readResponses(count: 1, timeout: 5)
            #expect(answered.responses().completeFinalCount == 1)
        }
    }

    @Test("max_connections changed on a bound listener (a reload's): raised resumes accepting, lowered waits, closes nothing")
    func maxConnectionsChangedLive() async throws {
        let (live, first, second) = try await atTheLimit()
        try await whileRunning(live) {
            live.server.setMaxConnections(2)
            #expect(await second.readResponses(count: 1, timeout: 5).responses().completeFinalCount == 1)

            // Lowered below the two open: both keep working, a third waits until both have gone.
            live.server.setMaxConnections(1)
            let third = try await live.connect()
            try await third.send(get("/"))
            try await first.send(get("/"))
            #expect(await first.readResponses(count: 1, timeout: 5).responses().completeFinalCount == 1)
            first.close()
            #expect(await third.read(until: { !$0.isEmpty }, timeout: 0.3).bytes.isEmpty)
            second.close()
            #expect(await third.readResponses(count: 1, timeout: 5).responses().completeFinalCount == 1)
        }
    }
}
