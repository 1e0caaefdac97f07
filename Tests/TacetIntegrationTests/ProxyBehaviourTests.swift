import NIOCore
import NIOHTTP1
import TacetHTTP
import TacetProbe
import TacetProxy
import TacetTestSupport
import Testing

/// The reverse proxy as an nginx user expects it: pooling, headers, failures and timeouts.
@Suite("Proxy: pooling, headers, failures on real sockets")
struct ProxyBehaviourTests {
    static func proxy(port: Int, settings: Upstream.Settings = Upstream.Settings(),
                      selector: (any UpstreamSelector)? = nil) async throws -> (LiveServer, Upstream) {
        let box = UpstreamBox()
        let live = try await LiveServer.start { group in
            let upstream = Upstream(name: "app", selector: selector ?? SingleServer(host: "127.0.0.1", port: port),
                                    settings: settings, group: group)
            box.upstream = upstream
            return [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream))]
        }
        return (live, try #require(box.upstream))
    }

    @Test("Keep-alive upstream connections are reused: three requests, one backend connection")
    func pooling() async throws {
        let backend = try await TestBackend()
        let (live, upstream) = try await Self.proxy(port: backend.port)
        try await whileRunning(live, backend) {
            for path in ["/a", "/b", "/c"] {
                let client = try await live.connect()
                try await client.send(get(path))
                #expect(await client.readResponses(count: 1, timeout: 5).responses().completeFinalCount == 1)
                client.close()
            }
            #expect(backend.recorder.count("connection") == 1)
            // The client may hold the whole body before the upstream's end-of-response is processed.
            #expect(await eventually { upstream.idleConnectionCount == 1 })
        }
    }

    @Test("Hop-by-hop headers stop at the proxy; X-Forwarded-For and Via are added")
    func headers() async throws {
        let backend = try await TestBackend()
        let (live, _) = try await Self.proxy(port: backend.port)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/h", "Connection: keep-alive, X-Hop\r\nX-Hop: secret\r\nTE: trailers\r\n"))
            let response = try #require(await client.readResponses(count: 1, timeout: 5).responses().finalResponses.first)
            let seen = try #require(backend.recorder.all.first { $0.hasPrefix("request GET /h") })
            #expect(seen.contains("x-forwarded-for=127.0.0.1"))
            #expect(seen.contains("via=1.1 tacet"))
            #expect(!seen.contains("x-hop="))
            #expect(!seen.contains("te="))
            // The backend's own hop-by-hop field (Connection: X-Hop) does not reach the client.
            #expect(response.header("x-hop") == nil)
            #expect(response.header("via") == "1.1 tacet")
        }
    }

    @Test("Upstream refuses connections: 502 at once")
    func upstreamDown() async throws {
        let backend = try await TestBackend()
        let port = backend.port
        await backend.stop()
        let (live, _) = try await Self.proxy(port: port)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/"))
            let response = await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first
            #expect(response?.status == 502)
        }
    }

    @Test("Upstream closes mid-response: the client sees a short body, never a whole-looking one; 502 logged")
    func truncatedUpstream() async throws {
        let backend = try await TestBackend(answer: .init(truncateAfter: 100, bodySize: 1000))
        let (live, _) = try await Self.proxy(port: backend.port)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/t"))
            let result = await client.readToEnd(timeout: 10)
            let response = result.responses().finalResponses.first
            #expect(response?.status == 200)
            #expect(response?.isComplete == false)
            #expect(result.end != .timeout)
            #expect(await live.waitForAccessLog(containing: "\" 502 "))
            #expect(live.accessLogLines.last?.hasSuffix("upstream_closed") == true)
        }
    }

    @Test("Chunked upstream response mid-way cut: the client gets no final chunk")
    func truncatedChunked() async throws {
        let backend = try await TestBackend(answer: .init(chunked: true, truncateAfter: 5, bodySize: 1000))
        let (live, _) = try await Self.proxy(port: backend.port)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/t"))
            let result = await client.readToEnd(timeout: 10)
            #expect(result.responses().finalResponses.first?.isComplete == false)
            #expect(!result.string.hasSuffix("0\r\n\r\n"))
        }
    }

    @Test("Read timeout before the first byte: 504")
    func readTimeout() async throws {
        let backend = try await TestBackend(timing: .gated)
        var settings = Upstream.Settings()
        settings.readTimeout = .milliseconds(200)
        let (live, _) = try await Self.proxy(port: backend.port, settings: settings)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/slow"))
            let response = await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first
            #expect(response?.status == 504)
            #expect(await eventually { backend.recorder.contains("gone /slow") })
        }
    }

    @Test("Read timeout on a kept-alive upstream connection, after a quick request on it: 504")
    func readTimeoutOnReusedConnection() async throws {
        // The read timer belongs to the upstream connection and moves lazily: the first
        // request's deadline must not leak into the second, nor the second go unguarded.
        let backend = try await TestBackend(answer: TestBackend.Answer(silentPaths: ["/silent"]))
        var settings = Upstream.Settings()
        settings.readTimeout = .milliseconds(200)
        let (live, _) = try await Self.proxy(port: backend.port, settings: settings)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/quick"))
            #expect(await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.status == 200)
            try await client.send(get("/silent"))
            let response = await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first
            #expect(response?.status == 504)
            #expect(backend.recorder.count("connection") == 1)
            #expect(await eventually { backend.recorder.contains("gone /silent") })
        }
    }

    @Test("Expect: 100-continue works end to end")
    func expectContinue() async throws {
        let backend = try await TestBackend()
        let (live, _) = try await Self.proxy(port: backend.port)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send("PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            let interim = await client.read(until: { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }, timeout: 5)
            #expect(interim.string.hasPrefix("HTTP/1.1 100 Continue"))
            try await client.write("data")
            #expect(await client.readResponses(count: 1, timeout: 5).responses().finalResponses.first?.status == 200)
            #expect(backend.recorder.contains("body 4"))
        }
    }

    @Test("A large response streams through (8 MiB), Content-Length kept")
    func largeResponse() async throws {
        let backend = try await TestBackend(answer: .init(bodySize: 8 * 1024 * 1024))
        let (live, _) = try await Self.proxy(port: backend.port)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/big"))
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 20)
            let response = result.responses().finalResponses.first
            #expect(response?.body.count == 8 * 1024 * 1024)
            #expect(response?.header("content-length") == String(8 * 1024 * 1024))
            #expect(result.end == .fin)
        }
    }

    @Test("A large chunked upload streams through (4 MiB)")
    func largeUpload() async throws {
        let backend = try await TestBackend()
        var server = ServerSettings()
        server.parserLimits.maxBodySize = 64 * 1024 * 1024
        let box = UpstreamBox()
        let live = try await LiveServer.start(settings: server) { group in
            let upstream = Upstream(name: "app", selector: SingleServer(host: "127.0.0.1", port: backend.port),
                                    settings: Upstream.Settings(), group: group)
            box.upstream = upstream
            return [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream))]
        }
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send("POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            let chunk = [UInt8]("100000\r\n".utf8) + [UInt8](repeating: 0x75, count: 0x100000) + [UInt8]("\r\n".utf8)
            for _ in 0..<4 { try await client.write(chunk) }
            try await client.write("0\r\n\r\n")
            #expect(await client.readResponses(count: 1, timeout: 20).responses().finalResponses.first?.status == 200)
            #expect(backend.recorder.contains("body \(4 * 1024 * 1024)"))
        }
    }
}

final class UpstreamBox: @unchecked Sendable {
    var upstream: Upstream?
}
