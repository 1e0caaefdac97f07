import Testing
@testable import TacetConfig

/// `upstreams:`: servers as strings or mappings, every key's default, and what is refused.
@Suite struct UpstreamConfigTests {
    @Test func everyKey() throws {
        let yaml = """
            upstreams:
              app:
                servers: ["127.0.0.1:9000", { address: "127.0.0.1:9001", weight: 2 }]
                balance: least_conn
                keepalive: 64
                connect_timeout: 3s
                read_timeout: 30s
                send_timeout: 20s
                half_close_timeout: 45s
                max_fails: 0
                fail_timeout: 15s
                health: { path: /health, interval: 1s, timeout: 500ms, expect_status: [200, 204] }
            """
        let config = try parse(yaml)
        #expect(config.upstreams.first?.halfCloseTimeout == .seconds(45))
        var expected = UpstreamConfig(
            name: "app",
            servers: [
                .init(address: ListenAddress(host: "127.0.0.1", port: 9000)),
                .init(address: ListenAddress(host: "127.0.0.1", port: 9001), weight: 2),
            ],
            balance: .leastConn, keepalive: 64, connectTimeout: .seconds(3), readTimeout: .seconds(30),
            sendTimeout: .seconds(20), maxFails: 0, failTimeout: .seconds(15),
            health: HealthCheckConfig(path: "/health", interval: .seconds(1), timeout: .milliseconds(500),
                                      expectStatus: [200, 204]))
        expected.halfCloseTimeout = .seconds(45)
        #expect(config.upstreams == [expected])
        #expect(config.listen == TacetConfiguration.defaultListen)
    }

    @Test func defaults() throws {
        let config = try parse("upstreams:\n  a: { servers: [\"backend.local:80\"], health: {} }\n")
        let upstream = try #require(config.upstreams.first)
        #expect(upstream == UpstreamConfig(
            name: "a", servers: [.init(address: ListenAddress(host: "backend.local", port: 80))],
            health: HealthCheckConfig()))
        #expect(upstream.balance == .roundRobin && upstream.keepalive == 32 && upstream.maxFails == 1)
        #expect(upstream.connectTimeout == .seconds(5) && upstream.readTimeout == .seconds(60))
        #expect(upstream.sendTimeout == .seconds(60) && upstream.failTimeout == .seconds(10))
        #expect(upstream.halfCloseTimeout == .seconds(60))
        #expect(upstream.health?.expectStatus == Set(200...399))
        #expect(upstream.protocol == .http1)
        #expect(upstream.health?.path == "/" && upstream.health?.interval == .seconds(5) && upstream.health?.timeout == .seconds(2))
    }

    @Test func keepsFileOrderAndSingleExpectStatus() throws {
        let yaml = """
            upstreams:
              b: { servers: ["127.0.0.1:1"], balance: random, health: { expect_status: 204 } }
              a: { servers: ["[::1]:2"] }
            """
        let config = try parse(yaml)
        #expect(config.upstreams.map(\.name) == ["b", "a"])
        #expect(config.upstreams[0].balance == .random)
        #expect(config.upstreams[0].health?.expectStatus == [204])
        #expect(config.upstreams[1].servers[0].address == ListenAddress(host: "::1", port: 2))
    }

    @Test func refusals() {
        let cases: [(String, String)] = [
            ("upstreams:\n  a: { servers: [] }\n",
             "tacet.yaml:2:17: upstreams.a.servers: must list at least one server"),
            ("upstreams:\n  a: { balance: least_conn }\n",
             "tacet.yaml:2:6: upstreams.a: missing required key 'servers'"),
            // Yams refuses duplicate keys itself (and locates them); `UpstreamParser` checks again.
            ("upstreams:\n  a: { servers: [\"127.0.0.1:1\"] }\n  a: { servers: [\"127.0.0.1:2\"] }\n",
             "tacet.yaml:2:3: duplicate key 'a'"),
            ("upstreams:\n  a: { servers: [{ address: \"127.0.0.1:1\", weight: 0 }] }\n",
             "tacet.yaml:2:52: upstreams.a.servers[0].weight: must be in 1...1000, got 0"),
            ("upstreams:\n  a: { servers: [\"127.0.0.1:1\"], balance: fastest }\n",
             "tacet.yaml:2:43: upstreams.a.balance: unknown balance 'fastest' (expected one of: round_robin, least_conn, random, consistent_hash)"),
            ("upstreams:\n  a: { servers: [\"127.0.0.1:1\"], retries: 3 }\n",
             "tacet.yaml:2:34: upstreams.a: unknown key 'retries' (expected one of: servers, balance, key, keepalive, connect_timeout, read_timeout, send_timeout, half_close_timeout, max_fails, fail_timeout, health, tls, protocol)"),
            ("upstreams:\n  a: { servers: [\"127.0.0.1:1\"], protocol: http2 }\n",
             "tacet.yaml:2:44: upstreams.a.protocol: unknown protocol 'http2' (expected one of: http1, h2c, h2)"),
            ("upstreams:\n  a: { servers: [\":9000\"] }\n",
             "tacet.yaml:2:18: upstreams.a.servers[0]: invalid address ':9000': missing host (expected HOST:PORT, e.g. 127.0.0.1:9000)"),
            ("upstreams:\n  a: { servers: [\"127.0.0.1:0\"] }\n",
             "tacet.yaml:2:18: upstreams.a.servers[0]: invalid address '127.0.0.1:0': port must be in 1...65535"),
            ("upstreams:\n  a: { servers: [\"127.0.0.1:1\"], health: { path: health } }\n",
             "tacet.yaml:2:50: upstreams.a.health.path: must start with '/' and contain no spaces or control characters, got 'health'"),
            ("upstreams:\n  a: { servers: [\"127.0.0.1:1\"], health: { expect_status: [] } }\n",
             "tacet.yaml:2:59: upstreams.a.health.expect_status: must list at least one status"),
        ]
        for (yaml, expected) in cases {
            #expect(configError(yaml)?.description == expected)
        }
    }

    @Test func protocols() throws {
        for name in ["http1", "h2c", "h2"] {
            let config = try parse("upstreams:\n  a: { servers: [\"127.0.0.1:50051\"], protocol: \(name) }\n")
            #expect(config.upstreams.first?.protocol.rawValue == name)
        }
    }
}

@Suite struct GRPCHealthConfigTests {
    @Test func grpcHealth() throws {
        let config = try parse("upstreams:\n  g: { servers: [\"127.0.0.1:50051\"], protocol: h2c, health: { grpc: true, service: greeter, interval: 2s } }\n")
        let health = try #require(config.upstreams.first?.health)
        #expect(health.grpc && health.service == "greeter" && health.interval == .seconds(2))
    }

    @Test func refusals() {
        #expect(configError("upstreams:\n  g: { servers: [\"127.0.0.1:1\"], health: { service: x } }\n")?.description
                == "tacet.yaml:2:53: upstreams.g.health.service: is for gRPC checks (grpc: true)")
        #expect(configError("upstreams:\n  g: { servers: [\"127.0.0.1:1\"], health: { grpc: true, path: /h } }\n")?.description
                == "tacet.yaml:2:62: upstreams.g.health.path: is for HTTP checks; a gRPC check (grpc: true) asks grpc.health.v1.Health/Check")
    }
}
