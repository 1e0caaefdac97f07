import NIOCore
import TacetHTTP
import TacetProbe
import TacetProxy
import TacetTestSupport
import Testing

/// `Upgrade` (WebSocket) through the proxy: a byte tunnel that forwards each FIN in its own
/// direction and turns an RST on one side into an RST on the other.
@Suite("Proxy: Upgrade tunnels on real sockets")
struct ProxyUpgradeTests {
    static func proxy(port: Int) async throws -> LiveServer {
        try await LiveServer.start { group in
            let upstream = Upstream(name: "ws", selector: SingleServer(host: "127.0.0.1", port: port),
                                    settings: Upstream.Settings(), group: group)
            return [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream))]
        }
    }

    static let upgrade = "GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"

    @Test("101, bytes both ways; the client's FIN reaches the upstream, whose reply and FIN come back")
    func tunnelWithHalfClose() async throws {
        let backend = try await UpgradeBackend()
        let live = try await Self.proxy(port: backend.port)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.write(Self.upgrade)
            let head = await client.read(until: { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }, timeout: 5)
            #expect(head.string.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
            #expect(head.string.lowercased().contains("upgrade: echo"))
            #expect(head.string.lowercased().contains("connection: upgrade"))
            try await client.write("hello")
            let echo = await client.read(until: { String(decoding: $0, as: UTF8.self).hasSuffix("hello") }, timeout: 5)
            #expect(echo.string.hasSuffix("hello"))
            try client.shutdownWrite()
            let rest = await client.readToEnd(timeout: 5)
            #expect(rest.string.hasSuffix("bye"))
            #expect(rest.end == .fin)
            #expect(backend.recorder.contains("fin"))
            #expect(backend.recorder.all.first { $0.hasPrefix("request") }?.lowercased().contains("upgrade: echo") == true)
            #expect(await live.waitForNoConnections())
        }
    }

    @Test("An RST from the upstream becomes an RST to the client, never a FIN")
    func upstreamResetBecomesReset() async throws {
        let backend = try await UpgradeBackend(resetAfterEcho: true)
        let live = try await Self.proxy(port: backend.port)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.write(Self.upgrade)
            _ = await client.read(until: { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }, timeout: 5)
            try await client.write("x")
            let result = await client.readToEnd(timeout: 5)
            #expect(result.end == .rst)
        }
    }

    @Test("An RST from the client becomes an RST to the upstream")
    func clientResetBecomesReset() async throws {
        let backend = try await UpgradeBackend()
        let live = try await Self.proxy(port: backend.port)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.write(Self.upgrade)
            _ = await client.read(until: { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }, timeout: 5)
            client.reset()
            #expect(await eventually { backend.recorder.contains("error") })
            #expect(!backend.recorder.contains("fin"))
        }
    }
}

/// What the HTTP handler hands over at the switch, and the stream machine's rules in a tunnel.
@Suite("Proxy: Upgrade handover and the tunnel's timers")
struct ProxyUpgradeHandoverTests {
    static func proxy(port: Int, settings: Upstream.Settings = Upstream.Settings()) async throws -> LiveServer {
        try await LiveServer.start { group in
            let upstream = Upstream(name: "ws", selector: SingleServer(host: "127.0.0.1", port: port),
                                    settings: settings, group: group)
            return [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream))]
        }
    }

    @Test("The upgrade request and the first frame in one write: the frame goes up after the switch and comes back")
    func frameWithTheRequest() async throws {
        let backend = try await UpgradeBackend()
        let live = try await Self.proxy(port: backend.port)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.write(ProxyUpgradeTests.upgrade + "early")
            let reply = await client.read(until: { String(decoding: $0, as: UTF8.self).hasSuffix("\r\n\r\nearly") }, timeout: 5)
            #expect(reply.string.hasPrefix("HTTP/1.1 101"))
            #expect(reply.string.hasSuffix("\r\n\r\nearly"))
            try client.shutdownWrite()
            let rest = await client.readToEnd(timeout: 5)
            #expect(rest.string == "bye")
            #expect(rest.end == .fin)
        }
    }

    @Test("The 101 and the upstream's first bytes in one write: both reach the client; one access-log line, 101, bytes each way")
    func bytesWithThe101() async throws {
        let backend = try await UpgradeBackend(greeting: "hi!")
        let live = try await Self.proxy(port: backend.port)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.write(ProxyUpgradeTests.upgrade)
            let reply = await client.read(until: { String(decoding: $0, as: UTF8.self).hasSuffix("hi!") }, timeout: 5)
            #expect(reply.string.hasSuffix("\r\n\r\nhi!"))
            try await client.write("abcd")
            _ = await client.read(until: { String(decoding: $0, as: UTF8.self).hasSuffix("abcd") }, timeout: 5)
            try client.shutdownWrite()
            #expect(await client.readToEnd(timeout: 5).end == .fin)
            #expect(await live.waitForNoConnections())
            #expect(await live.waitForAccessLog(containing: "client_fin"))
            let lines = live.accessLogLines
            #expect(lines.count == 1)
            #expect(lines.first?.contains("\"GET /ws HTTP/1.1\" 101 10 ") == true, "\(lines)")  // "hi!", "abcd" and "bye" down
        }
    }

    @Test("The client's FIN passed on, the upstream never finishes its side: both reset after half_close_timeout")
    func halfCloseTimeout() async throws {
        let backend = try await UpgradeBackend(silentAfterFIN: true)
        var settings = Upstream.Settings()
        settings.halfCloseTimeout = .milliseconds(200)
        let live = try await Self.proxy(port: backend.port, settings: settings)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.write(ProxyUpgradeTests.upgrade)
            _ = await client.read(until: { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }, timeout: 5)
            try client.shutdownWrite()
            let rest = await client.readToEnd(timeout: 10)
            #expect(rest.end == .rst, "a FIN would present the cut tunnel as finished")
            // (The upstream, its input already closed by our FIN, sees the RST as its channel closing.)
            #expect(await eventually { backend.recorder.contains("closed") || backend.recorder.contains("error") })
        }
    }
}

@Suite("Proxy: tunnel idle timeout")
struct ProxyTunnelTimeoutTests {
    @Test("A tunnel whose upstream stays silent for read_timeout ends with a FIN to the client")
    func idleTunnelEnds() async throws {
        let backend = try await UpgradeBackend()
        let live = try await LiveServer.start { group in
            var settings = Upstream.Settings()
            settings.readTimeout = .milliseconds(200)
            let upstream = Upstream(name: "ws", selector: SingleServer(host: "127.0.0.1", port: backend.port),
                                    settings: settings, group: group)
            return [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream))]
        }
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.write(ProxyUpgradeTests.upgrade)
            let head = await client.read(until: { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }, timeout: 5)
            #expect(head.string.hasPrefix("HTTP/1.1 101"))
            let rest = await client.readToEnd(timeout: 10)
            #expect(rest.end == .fin)
            #expect(await live.waitForNoConnections())
        }
    }
}
