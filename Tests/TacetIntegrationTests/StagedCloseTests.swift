import NIOCore
import TacetHTTP
import TacetProbe
import TacetTestSupport
import Testing

/// 5. Every close the server starts is staged (RFC 9112 §9.6): flush, FIN, discard until the
/// client's FIN, close. A client still sending must get the whole response, never an RST.
@Suite("Staged close on real sockets")
struct StagedCloseTests {
    @Test("A 2 MiB body over the limit: the complete 413, then FIN, never an RST")
    func bodyOverLimitIsNotReset() async throws {
        let live = try await LiveServer.start(FixedResponder(status: .ok, body: "ok\n"))
        try await whileRunning(live) {
            let client = try await live.connect()
            let size = 2 * 1024 * 1024
            try await client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: \(size)\r\n\r\n")
            // Keeps sending the whole body after the server has answered and sent its FIN.
            try await client.write([UInt8](repeating: 0x61, count: size))
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 10)
            #expect(result.end == .fin)
            let response = result.responses().finalResponses.first
            #expect(response?.status == 413)
            #expect(response?.isComplete == true)
            #expect(response?.header("connection") == "close")
        }
    }

    @Test("A 2 MiB body to a route that answers without reading it: the complete answer, no RST")
    func unreadBodyIsNotReset() async throws {
        var settings = ServerSettings()
        settings.parserLimits.maxBodySize = 4 * 1024 * 1024
        let live = try await LiveServer.start(settings: settings, FixedResponder(status: .ok, body: "ok\n"))
        try await whileRunning(live) {
            let client = try await live.connect()
            let size = 2 * 1024 * 1024
            try await client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: \(size)\r\nConnection: close\r\n\r\n")
            try await client.write([UInt8](repeating: 0x61, count: size))
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 10)
            #expect(result.end == .fin)
            #expect(result.responses().finalResponses.map(\.status) == [200])
            #expect(result.responses().completeFinalCount == 1)
        }
    }

    @Test("A body the route did not read is discarded and the connection kept")
    func unreadBodyKeepAlive() async throws {
        let live = try await LiveServer.start(FixedResponder(status: .ok, body: "ok\n"))
        try await whileRunning(live) {
            let client = try await live.connect()
            let body = String(repeating: "b", count: 100_000)
            try await client.send("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + body + get("/b"))
            let result = await client.readResponses(count: 2, timeout: 5)
            #expect(result.responses().finalResponses.map(\.status) == [200, 200])
        }
    }

    @Test("Connection: close: the response, then FIN, while the client can still send")
    func connectionClose() async throws {
        let live = try await LiveServer.start(FixedResponder(status: .ok, body: "ok\n"))
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/", "Connection: close\r\n"))
            let result = await client.readToEnd(timeout: 5)
            #expect(result.end == .fin)
            #expect(result.responses().finalResponses.first?.header("connection") == "close")
            // Our side is still open: the server reads and discards, it does not reset.
            try await client.write("late bytes the server discards")
            try client.shutdownWrite()
            #expect(await live.waitForNoConnections())
        }
    }

    @Test("Linger: a client that never sends its FIN is closed after the linger timeout")
    func lingerTimeout() async throws {
        var settings = ServerSettings()
        settings.lingerTimeout = .milliseconds(100)
        let live = try await LiveServer.start(settings: settings, FixedResponder(status: .ok, body: "ok\n"))
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/", "Connection: close\r\n"))
            let result = await client.readToEnd(timeout: 5)
            #expect(result.end == .fin)
            #expect(await live.waitForNoConnections())
        }
    }

    @Test("Expect: 100-continue to a route that wants the body: 100, then the answer")
    func expectContinue() async throws {
        let live = try await LiveServer.start(BodyCountResponder())
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send("POST /u HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            let interim = await client.read(until: { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }, timeout: 5)
            #expect(interim.string.hasPrefix("HTTP/1.1 100 Continue"))
            try await client.write("hello")
            let result = await client.readResponses(count: 1, timeout: 5)
            #expect(result.responses().finalResponses.first?.bodyString == "got 5 bytes\n")
        }
    }
}
