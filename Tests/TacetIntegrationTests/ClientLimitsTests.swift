import NIOCore
import TacetHTTP
import TacetProbe
import TacetTestSupport
import Testing

/// Per-client limits on real sockets: a client's connection over `connections_per_client` is
/// closed at once with no answer while its others are served; requests over the rate get 429
/// with Retry-After on a connection that stays open.
@Suite("Per-client limits")
struct ClientLimitsTests {
    @Test("connections_per_client 2: the third connection is closed at once, the first two still served")
    func connections() async throws {
        var settings = ServerSettings()
        settings.clientLimiter = ClientLimiter(.init(connectionsPerClient: 2))
        let live = try await LiveServer.start(settings: settings, FixedResponder(status: .ok, body: "ok\n"))
        try await whileRunning(live) {
            let first = try await live.connect()
            let second = try await live.connect()
            try await first.send(get("/"))
            #expect(await first.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.status == 200)
            let third = try await live.connect()
            let refused = await third.readToEnd(timeout: 10)
            #expect(refused.end == .fin)
            #expect(refused.bytes.isEmpty)
            try await second.send(get("/"))
            #expect(await second.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.status == 200)
        }
    }

    @Test("requests_per_second_per_client 1, burst 1: the third request at once gets 429 with Retry-After, the connection stays")
    func requests() async throws {
        var settings = ServerSettings()
        settings.clientLimiter = ClientLimiter(.init(requestsPerSecond: 1, burst: 1))
        let live = try await LiveServer.start(settings: settings, FixedResponder(status: .ok, body: "ok\n"))
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/") + get("/") + get("/"))
            let result = await client.readResponses(count: 3, timeout: 10)
            let responses = result.responses().finalResponses
            #expect(responses.map(\.status) == [200, 200, 429])
            #expect(result.string.contains("Retry-After: 1\r\n"))
            #expect(result.end == .open)
            #expect(await live.waitForAccessLog(containing: "\"GET / HTTP/1.1\" 429"))
        }
    }
}
