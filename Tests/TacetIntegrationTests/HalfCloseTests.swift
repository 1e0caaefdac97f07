import NIOCore
import TacetHTTP
import TacetProbe
import TacetTestSupport
import Testing

/// The connection model on real loopback sockets: what a client that half-closes, closes or
/// resets actually gets back. Numbers refer to the core issue's connection model.
@Suite("Half-close on real sockets")
struct HalfCloseTests {
    let fixed = FixedResponder(status: .ok, body: "hello\n")

    @Test("1. GET then SHUT_WR: the whole response, then FIN")
    func getThenShutdown() async throws {
        let live = try await LiveServer.start(fixed)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/"))
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 30)
            let responses = result.responses(requestMethods: client.requestMethods)
            #expect(result.end == .fin)
            #expect(responses.finalResponses.map(\.status) == [200])
            #expect(responses.finalResponses.first?.bodyString == "hello\n")
            #expect(responses.completeFinalCount == 1)
        }
    }

    @Test("1. FIN before the route answers: the response still comes, then FIN")
    func finBeforeAnswer() async throws {
        let gated = GatedResponder()
        let live = try await LiveServer.start(gated)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/slow"))
            try client.shutdownWrite()
            #expect(await eventually { gated.recorder.contains("halfclose") })
            gated.release()
            let result = await client.readToEnd(timeout: 30)
            #expect(result.end == .fin)
            #expect(result.responses().finalResponses.map(\.status) == [200])
            #expect(result.responses().completeFinalCount == 1)
            #expect(!gated.recorder.all.contains { $0.hasPrefix("cancel") })
        }
    }

    @Test("1. three pipelined GETs then SHUT_WR: three responses in order, then FIN")
    func pipelinedThenShutdown() async throws {
        let gated = GatedResponder()
        let live = try await LiveServer.start(gated)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/1") + get("/2") + get("/3"))
            try client.shutdownWrite()
            #expect(await eventually { gated.recorder.contains("halfclose") })
            gated.release()
            let result = await client.readToEnd(timeout: 30)
            let responses = result.responses().finalResponses
            #expect(result.end == .fin)
            #expect(responses.map(\.bodyString) == ["answer to /1 after 0 body bytes\n",
                                                    "answer to /2 after 0 body bytes\n",
                                                    "answer to /3 after 0 body bytes\n"])
        }
    }

    @Test("1. POST with a body then SHUT_WR: the whole response, then FIN")
    func postThenShutdown() async throws {
        let live = try await LiveServer.start(BodyCountResponder())
        try await whileRunning(live) {
            let client = try await live.connect()
            let body = String(repeating: "x", count: 10 * 1024)
            try await client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 30)
            #expect(result.end == .fin)
            #expect(result.responses().finalResponses.first?.bodyString == "got 10240 bytes\n")
        }
    }

    @Test("1. chunked POST then SHUT_WR: the whole response, then FIN")
    func chunkedPostThenShutdown() async throws {
        let live = try await LiveServer.start(BodyCountResponder())
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send("POST /u HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nX-Trailer: y\r\n\r\n")
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 30)
            #expect(result.end == .fin)
            #expect(result.responses().finalResponses.first?.bodyString == "got 8 bytes\n")
        }
    }

    @Test("2. FIN in the middle of a head: 400 with Connection: close, then FIN, at once")
    func finMidHead() async throws {
        let live = try await LiveServer.start(fixed)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send("GET / HTTP/1.1\r\nHost: te")
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 30)
            let response = result.responses().finalResponses.first
            #expect(result.end == .fin)
            #expect(response?.status == 400)
            #expect(response?.header("connection") == "close")
        }
    }

    @Test("2. FIN with a body shorter than its Content-Length: 400, then FIN; the route is cancelled")
    func finMidBody() async throws {
        let gated = GatedResponder()
        let live = try await LiveServer.start(gated)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send("POST /u HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly-this")
            #expect(await eventually { gated.recorder.contains("start /u") })
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 30)
            #expect(result.end == .fin)
            #expect(result.responses().finalResponses.first?.status == 400)
            #expect(await eventually { gated.recorder.contains("cancel:client_fin") })
        }
    }

    @Test("3. FIN on an idle keep-alive connection: FIN at once, nothing else")
    func finWhenIdle() async throws {
        let live = try await LiveServer.start(fixed)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/"))
            let first = await client.readResponses(count: 1, timeout: 30)
            #expect(first.responses().completeFinalCount == 1)
            try client.shutdownWrite()
            let rest = await client.readToEnd(timeout: 30)
            #expect(rest.end == .fin)
            #expect(rest.bytes.isEmpty)
        }
    }

    @Test("3. FIN on a connection that never sent a byte: FIN")
    func finOnFreshConnection() async throws {
        let live = try await LiveServer.start(fixed)
        try await whileRunning(live) {
            let client = try await live.connect()
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 30)
            #expect(result.end == .fin)
            #expect(result.bytes.isEmpty)
        }
    }

    @Test("4. RST while the route works: the route is cancelled, the connection freed, 499 logged")
    func resetWhileWaiting() async throws {
        let gated = GatedResponder()
        let live = try await LiveServer.start(gated)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/slow"))
            #expect(await eventually { gated.recorder.contains("start /slow") })
            client.reset()
            #expect(await eventually { gated.recorder.contains("cancel:client_rst") })
            #expect(await live.waitForNoConnections())
            #expect(await live.waitForAccessLog(containing: "\"GET /slow HTTP/1.1\" 499"))
            #expect(live.accessLogLines.last?.hasSuffix("client_rst") == true)
        }
    }

    @Test("4. close() while the route works, then the answer: nothing hangs, the connection is freed")
    func closeWhileWaiting() async throws {
        let gated = GatedResponder()
        let live = try await LiveServer.start(gated)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/slow"))
            #expect(await eventually { gated.recorder.contains("start /slow") })
            client.close()
            #expect(await eventually { gated.recorder.contains("halfclose") })
            gated.release()
            #expect(await live.waitForNoConnections())
        }
    }

    @Test("4. RST in the middle of a large file: the write stops and the connection is freed")
    func resetDuringLargeResponse() async throws {
        let live = try await LiveServer.start(StreamingResponder(chunks: 64, size: 64 * 1024))
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/big"))
            _ = await client.read(until: { $0.count > 1000 }, timeout: 5)
            client.reset()
            #expect(await live.waitForNoConnections())
        }
    }

    @Test("HTTP/1.0 with unknown length: close-delimited body, then FIN")
    func http10Stream() async throws {
        let live = try await LiveServer.start(StreamingResponder())
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send("GET / HTTP/1.0\r\n\r\n")
            let result = await client.readToEnd(timeout: 30)
            #expect(result.end == .fin)
            let response = result.responses().finalResponses.first
            #expect(response?.body.count == 30)
            #expect(response?.isComplete == true)
            #expect(response?.header("transfer-encoding") == nil)
        }
    }

    @Test("HTTP/1.1 with unknown length: chunked, connection kept")
    func http11Chunked() async throws {
        let live = try await LiveServer.start(StreamingResponder())
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/") + get("/"))
            let result = await client.readResponses(count: 2, timeout: 5)
            let responses = result.responses().finalResponses
            #expect(responses.count == 2)
            #expect(responses.allSatisfy { $0.header("transfer-encoding") == "chunked" && $0.body.count == 30 })
        }
    }

    @Test("HEAD: the headers of a GET and no body")
    func head() async throws {
        let live = try await LiveServer.start(fixed)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n" + get("/"))
            let result = await client.readResponses(count: 2, timeout: 5)
            let responses = result.responses(requestMethods: client.requestMethods).finalResponses
            #expect(responses.count == 2)
            #expect(responses.first?.header("content-length") == "6")
            #expect(responses.first?.body.isEmpty == true)
            #expect(responses.last?.bodyString == "hello\n")
        }
    }
}
