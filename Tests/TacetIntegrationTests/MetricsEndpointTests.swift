import Logging
import NIOCore
import NIOPosix
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// The admin listener after known traffic: every counter is exact. Traffic: 3 GETs on one
/// keep-alive connection, a 404, a client that closes while a probe route waits for its
/// upstream (probe sent, answered by an RST), a client RST during a slow request, and one
/// proxied request whose upstream connection goes back to the pool.
@Suite("Metrics: /metrics on the admin listener counts known traffic exactly")
struct MetricsEndpointTests {
    static func server(slow: TestBackend, fast: TestBackend, group: MultiThreadedEventLoopGroup) throws -> TacetServer {
        let config = try ConfigLoader.parse(yaml: """
            listen: ["127.0.0.1:0"]
            access_log: off
            admin: { listen: "127.0.0.1:0" }
            upstreams:
              slow: { servers: ["127.0.0.1:\(slow.port)"] }
              fast: { servers: ["127.0.0.1:\(fast.port)"] }
            routes:
              - match: { path: /hello }
                respond: { status: 200, body: "hi\\n" }
              - match: { path: /api/ }
                proxy: { upstream: slow, on_client_fin: probe }
              - match: { path: /fast/ }
                proxy: { upstream: fast }
            """, file: "tacet.yaml", baseDirectory: "/")
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .warning
        return try TacetServer(configuration: config, group: group, logger: logger)
    }

    @Test func countsAfterKnownTraffic() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let slow = try await TestBackend(timing: .gated)
        let fast = try await TestBackend()
        let server = try Self.server(slow: slow, fast: fast, group: group)
        try await whileRunning(server, slow, fast) {
            let port = try #require(try await server.start().first?.port)
            let adminPort = try #require(server.adminAddress?.port)
            var sent = 0  // every byte the clients write: bytes_received must equal it

            // 3 GETs on one connection, then FIN: 3 x 200, one client_fin. Its bytes count while it
            // is still open: they are reported as each request finishes, not when it closes.
            let keepAlive = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            let three = get("/hello") + get("/hello") + get("/hello")
            try await keepAlive.send(three)
            sent += three.utf8.count
            #expect(await keepAlive.readResponses(count: 3, timeout: 10).responses().completeFinalCount == 3)
            // (The count moves just after the last response is written: poll for it.)
            #expect(await eventually {
                (try? await MetricsScrape.fetch(port: adminPort))?.value("tacet_bytes_received_total") == Double(three.utf8.count)
            })
            #expect(try await MetricsScrape.fetch(port: adminPort).value("tacet_connections_active") == 1)
            try keepAlive.shutdownWrite()
            #expect(await keepAlive.readToEnd(timeout: 10).bytes.isEmpty)

            // No route: 404 under "none", another client_fin.
            let missing = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await missing.send(get("/nope"))
            sent += get("/nope").utf8.count
            try missing.shutdownWrite()
            #expect(await missing.readToEnd(timeout: 10).responses().finalResponses.map(\.status) == [404])

            // close() while the upstream works: the probe's 103 is answered by an RST; 499.
            let gone = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await gone.send(get("/api/probe"))
            sent += get("/api/probe").utf8.count
            #expect(await eventually { slow.recorder.all.contains { $0.hasPrefix("request GET /api/probe") } })
            gone.close()
            #expect(await eventually { slow.recorder.contains("gone /api/probe") })

            // An RST during a slow request: 499, client_rst, no probe.
            let reset = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await reset.send(get("/api/reset"))
            sent += get("/api/reset").utf8.count
            #expect(await eventually { slow.recorder.all.contains { $0.hasPrefix("request GET /api/reset") } })
            reset.reset()
            #expect(await eventually { slow.recorder.contains("gone /api/reset") })

            // One proxied answer; its upstream connection is then idle in the pool.
            let pooled = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await pooled.send(get("/fast/x"))
            sent += get("/fast/x").utf8.count
            try pooled.shutdownWrite()
            #expect(await pooled.readToEnd(timeout: 10).responses().finalResponses.map(\.status) == [200])

            #expect(await eventually { server.connectionCount == 0 })
            #expect(await eventually { server.upstreams.idleConnectionCount(upstream: "fast") == 1 })
            #expect(await eventually { server.upstreamGroups["slow"]?.snapshot.first?.activeConnections == 0 })

            let scrape = try await MetricsScrape.fetch(port: adminPort)
            #expect(scrape.status == 200)
            #expect(scrape.contentType == "text/plain; version=0.0.4; charset=utf-8")
            #expect(scrape.value(#"tacet_http_requests_total{route="/hello",status="200"}"#) == 3)
            #expect(scrape.value(#"tacet_http_requests_total{route="none",status="404"}"#) == 1)
            #expect(scrape.value(#"tacet_http_requests_total{route="/api/",status="499"}"#) == 2)
            #expect(scrape.value(#"tacet_http_requests_total{route="/fast/",status="200"}"#) == 1)
            #expect(scrape.value(#"tacet_http_request_duration_seconds_count{route="/hello"}"#) == 3)
            #expect(scrape.value(#"tacet_http_request_duration_seconds_bucket{route="/hello",le="+Inf"}"#) == 3)
            #expect(scrape.value(#"tacet_probes_sent_total{route="/api/"}"#) == 1)
            #expect(scrape.value(#"tacet_probes_reset_total{route="/api/"}"#) == 1)
            #expect(scrape.value(#"tacet_probes_sent_total{route="/hello"}"#) == 0)
            #expect(scrape.value(#"tacet_connections_closed_total{reason="client_fin"}"#) == 3)
            #expect(scrape.value(#"tacet_connections_closed_total{reason="client_rst"}"#) == 2)
            #expect(scrape.value(#"tacet_connections_closed_total{reason="timeout"}"#) == 0)
            #expect(scrape.value(#"tacet_connections_closed_total{reason="write_failed"}"#) == 0)
            #expect(scrape.value(#"tacet_connections_closed_total{reason="server_close"}"#) == 0)
            #expect(scrape.value("tacet_connections_active") == 0)
            #expect(scrape.value("tacet_bytes_received_total") == Double(sent))
            #expect((scrape.value("tacet_bytes_sent_total") ?? 0) > 0)
            #expect(scrape.value(#"tacet_upstream_up{upstream="slow",server="127.0.0.1:\#(slow.port)"}"#) == 1)
            #expect(scrape.value(#"tacet_upstream_active_connections{upstream="slow",server="127.0.0.1:\#(slow.port)"}"#) == 0)
            #expect(scrape.value(#"tacet_upstream_idle_pool_connections{upstream="fast"}"#) == 1)
            #expect(scrape.value(#"tacet_upstream_idle_pool_connections{upstream="slow"}"#) == 0)
            #expect(scrape.text.contains("# TYPE tacet_http_requests_total counter"))
            #expect(scrape.text.contains("# TYPE tacet_http_request_duration_seconds histogram"))

            // Scrapes are not counted as traffic.
            let again = try await MetricsScrape.fetch(port: adminPort)
            #expect(again.value("tacet_bytes_received_total") == Double(sent))
        }
        try await group.shutdownGracefully()
    }

    @Test func healthAndMethods() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await TestBackend()
        let server = try Self.server(slow: backend, fast: backend, group: group)
        try await whileRunning(server, backend) {
            try await server.start()
            let adminPort = try #require(server.adminAddress?.port)
            let health = try await MetricsScrape.fetch(port: adminPort, path: "/health")
            #expect(health.status == 200)
            #expect(health.text == "ok\n")

            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: adminPort)
            try await client.send("POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            let response = await client.readToEnd(timeout: 10).responses().finalResponses.first
            #expect(response?.status == 405)
            #expect(response?.header("allow") == "GET, HEAD")
            client.close()
        }
        try await group.shutdownGracefully()
    }

    @Test func reloadKeepsCountersAndReplacesUpstreamGauges() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        func config(_ upstream: String) throws -> TacetConfiguration {
            try ConfigLoader.parse(yaml: """
                listen: ["127.0.0.1:0"]
                access_log: off
                admin: { listen: "127.0.0.1:0" }
                upstreams:
                  \(upstream): { servers: ["127.0.0.1:1"] }
                routes:
                  - match: { path: /hello }
                    respond: { status: 200, body: "hi\\n" }
                """, file: "tacet.yaml", baseDirectory: "/")
        }
        let server = try TacetServer(configuration: try config("old"), group: group)
        try await whileRunning(server) {
            let port = try #require(try await server.start().first?.port)
            let adminPort = try #require(server.adminAddress?.port)
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await client.send(get("/hello"))
            try client.shutdownWrite()
            _ = await client.readToEnd(timeout: 10)

            try await server.reload(configuration: try config("new"))
            let scrape = try await MetricsScrape.fetch(port: adminPort)
            #expect(scrape.value(#"tacet_http_requests_total{route="/hello",status="200"}"#) == 1)
            #expect(scrape.value(#"tacet_upstream_up{upstream="new",server="127.0.0.1:1"}"#) == 1)
            #expect(!scrape.text.contains(#"upstream="old""#))
        }
        try await group.shutdownGracefully()
    }

    @Test func reloadMovesAdminAndLeavesAddingOrRemovingToARestart() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        func config(admin: String?) throws -> TacetConfiguration {
            try ConfigLoader.parse(yaml: """
                listen: ["127.0.0.1:0"]
                access_log: off
                \(admin.map { "admin: { listen: \"\($0)\" }" } ?? "")
                routes:
                  - match: { path: /hello }
                    respond: { status: 200, body: "hi\\n" }
                """, file: "tacet.yaml", baseDirectory: "/")
        }
        func health(_ host: String, _ port: Int) async throws -> String? {
            let client = try await OffPoolClient.connect(host: host, port: port, timeout: 5)
            try await client.send("GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            return await client.readToEnd(timeout: 10).responses().finalResponses.first?.bodyString
        }
        // The first admin address is on 127.0.0.3, which no other test binds by name.
        let server = try TacetServer(configuration: try config(admin: "127.0.0.3:0"), group: group)
        try await whileRunning(server) {
            _ = try await server.start()
            let oldPort = try #require(server.adminAddress?.port)

            let summary = try await server.reload(configuration: try config(admin: "127.0.0.2:0"))
            let moved = try #require(server.adminAddress)
            #expect(moved.ipAddress == "127.0.0.2")
            #expect(summary.bound.map(\.port) == [moved.port])
            #expect(summary.needsRestart.isEmpty)
            #expect(try await health("127.0.0.2", try #require(moved.port)) == "ok\n")
            // The old address is closed: refused, or (when another test's wildcard listener took the
            // freed port, seen in CI) answered by someone else, never by the admin listener.
            if (try? await OffPoolClient.connect(host: "127.0.0.3", port: oldPort, timeout: 5)) != nil {
                let answer = try? await health("127.0.0.3", oldPort)
                #expect(answer != "ok\n", "the old admin address still answers")
            }

            let removed = try await server.reload(configuration: try config(admin: nil))
            #expect(removed.needsRestart == ["admin: removed"])
            #expect(try await health("127.0.0.2", try #require(moved.port)) == "ok\n")
        }
        try await group.shutdownGracefully()
    }

    @Test func noAdminNoListener() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let config = try ConfigLoader.parse(yaml: "listen: [\"127.0.0.1:0\"]\naccess_log: off\n",
                                            file: "tacet.yaml", baseDirectory: "/")
        let server = try TacetServer(configuration: config, group: group)
        try await whileRunning(server) {
            try await server.start()
            #expect(server.adminAddress == nil)
        }
        try await group.shutdownGracefully()
    }

    @Test func streamEndsAndBytes() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await EchoServer.start(group: group)
        let config = try ConfigLoader.parse(yaml: """
            admin: { listen: "127.0.0.1:0" }
            streams:
              - { listen: "127.0.0.1:0", to: "127.0.0.1:\(echo.port)" }
            """, file: "tacet.yaml", baseDirectory: "/")
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .warning
        let server = try TacetServer(configuration: config, group: group, logger: logger)
        try await whileRunning(server) {
            try await server.start()
            let adminPort = try #require(server.adminAddress?.port)
            let streamPort = try #require(server.streamAddresses.first?.port)
            for _ in 0..<2 {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: streamPort)
                try await client.write("ping!")
                try client.shutdownWrite()
                #expect(String(decoding: await client.readToEnd(timeout: 10).bytes, as: UTF8.self) == "ping!")
                client.close()
            }
            let listen = #"listen="127.0.0.1:0""#
            // The stream's log line (and so its count) comes once both sides are closed.
            #expect(await eventually {
                (try? await MetricsScrape.fetch(port: adminPort))?.value("tacet_stream_connections_closed_total{\(listen),end=\"clean\"}") == 2
            })
            let scrape = try await MetricsScrape.fetch(port: adminPort)
            #expect(scrape.value("tacet_stream_bytes_received_total{\(listen)}") == 10)
            #expect(scrape.value("tacet_stream_bytes_sent_total{\(listen)}") == 10)
        }
        try await echo.channel.close()
        try await group.shutdownGracefully()
    }

    @Test("proxy_protocol refusals, on an HTTP listener and a stream: counted by reason; the stream also as ended refused")
    func proxyProtocolRefused() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await EchoServer.start(group: group)
        let config = try ConfigLoader.parse(yaml: """
            trusted_proxies: ["127.0.0.1"]
            listen:
              - { address: "127.0.0.1:0", proxy_protocol: true }
            access_log: off
            admin: { listen: "127.0.0.1:0" }
            streams:
              - { listen: "127.0.0.1:0", to: "127.0.0.1:\(echo.port)", proxy_protocol: true }
            """, file: "tacet.yaml", baseDirectory: "/")
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .warning
        let server = try TacetServer(configuration: config, group: group, logger: logger)
        try await whileRunning(server) {
            let httpPort = try #require(try await server.start().first?.port)
            let adminPort = try #require(server.adminAddress?.port)
            let streamPort = try #require(server.streamAddresses.first?.port)
            for port in [httpPort, streamPort] {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
                try? await client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(await client.readToEnd(timeout: 10).bytes.isEmpty)
            }
            // Through the stream with a header: echoed as usual.
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: streamPort)
            try await client.write("PROXY TCP4 203.0.113.7 127.0.0.1 40000 5432\r\nping!")
            try client.shutdownWrite()
            #expect(String(decoding: await client.readToEnd(timeout: 10).bytes, as: UTF8.self) == "ping!")
            #expect(await eventually {
                (try? await MetricsScrape.fetch(port: adminPort))?.value("tacet_stream_connections_closed_total{listen=\"127.0.0.1:0\",end=\"clean\"}") == 1
            })
            let scrape = try await MetricsScrape.fetch(port: adminPort)
            #expect(scrape.value("tacet_proxy_protocol_refused_total{reason=\"invalid\"}") == 2)
            #expect(scrape.value("tacet_proxy_protocol_refused_total{reason=\"untrusted\"}") == 0)
            #expect(scrape.value("tacet_stream_connections_closed_total{listen=\"127.0.0.1:0\",end=\"refused\"}") == 1)
        }
        try await echo.channel.close()
        try await group.shutdownGracefully()
    }

    @Test("An upstream that sends bytes past its response: counted by upstream and reason, with the bytes")
    func upstreamExtraBytes() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let extra = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL\n"
        let backend = try await ScriptedBackend("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n" + extra)
        let config = try ConfigLoader.parse(yaml: """
            listen: ["127.0.0.1:0"]
            access_log: off
            admin: { listen: "127.0.0.1:0" }
            upstreams:
              app: { servers: ["127.0.0.1:\(backend.port)"] }
            routes:
              - match: { path: / }
                proxy: { upstream: app }
            """, file: "tacet.yaml", baseDirectory: "/")
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .critical
        let server = try TacetServer(configuration: config, group: group, logger: logger)
        try await whileRunning(server, backend) {
            let port = try #require(try await server.start().first?.port)
            let adminPort = try #require(server.adminAddress?.port)
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await client.send(get("/a") + get("/b"))
            try client.shutdownWrite()
            #expect(await client.readToEnd(timeout: 10).responses().finalResponses.map(\.bodyString) == ["ok\n", "ok\n"])
            let scrape = try await MetricsScrape.fetch(port: adminPort)
            #expect(scrape.value(#"tacet_upstream_protocol_errors_total{upstream="app",reason="extra_bytes"}"#) == 2)
            #expect(scrape.value(#"tacet_upstream_extra_bytes_total{upstream="app"}"#) == Double(2 * extra.utf8.count))
        }
        try await group.shutdownGracefully()
    }
}
