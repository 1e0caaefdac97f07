import Foundation
import Logging
import NIOCore
import NIOPosix
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// The proxy as configured in YAML, run by `TacetServer`: upstream blocks, balancing, a server
/// that is down, `to:` routes.
@Suite("Proxy from a config file")
struct ProxyConfigTests {
    static func serve(_ yaml: String) async throws -> (TacetServer, Int) {
        let config = try ConfigLoader.parse(yaml: yaml, file: "tacet.yaml", baseDirectory: "/")
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .critical
        let server = try TacetServer(configuration: config, threads: 1, logger: logger)
        let bound = try await server.start()
        return (server, try #require(bound.first?.port))
    }

    @Test("A server that is down is skipped: every request answered by the live one, none lost")
    func downServerSkipped() async throws {
        let backend = try await TestBackend()
        let down = refusingPort()
        let (server, port) = try await Self.serve("""
            listen: ["127.0.0.1:0"]
            access_log: off
            upstreams:
              app:
                servers: ["127.0.0.1:\(down)", "127.0.0.1:\(backend.port)"]
                max_fails: 1
                fail_timeout: 60s
            routes:
              - match: { path: /api/ }
                proxy: { upstream: app, on_client_fin: probe }
            """)
        try await whileRunning(server, backend) {
            for i in 0..<6 {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
                try await client.write("GET /api/\(i) HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.status == 200)
            }
            #expect(backend.recorder.all.filter { $0.hasPrefix("answered") }.count == 6)
            #expect(server.upstreamGroups["app"]?.isUp(0) == false)
        }
    }

    @Test("Every server down: 502 at once")
    func allDown() async throws {
        let (server, port) = try await Self.serve("""
            listen: ["127.0.0.1:0"]
            access_log: off
            upstreams:
              app: { servers: ["127.0.0.1:\(refusingPort())", "127.0.0.1:\(refusingPort())"] }
            routes:
              - match: { path: / }
                proxy: { upstream: app }
            """)
        try await whileRunning(server) {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await client.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.status == 502)
        }
    }

    @Test("Weighted round robin across two live servers, through `to:` and `upstream:` routes")
    func roundRobin() async throws {
        let a = try await TestBackend(answer: .init(body: "a\n"))
        let b = try await TestBackend(answer: .init(body: "b\n"))
        let (server, port) = try await Self.serve("""
            listen: ["127.0.0.1:0"]
            access_log: off
            upstreams:
              app:
                servers: [{ address: "127.0.0.1:\(a.port)", weight: 2 }, "127.0.0.1:\(b.port)"]
            routes:
              - match: { path: /one/ }
                proxy: { to: "127.0.0.1:\(b.port)" }
              - match: { path: / }
                proxy: { upstream: app }
            """)
        try await whileRunning(server, a, b) {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            var bodies: [String] = []
            for _ in 0..<6 {
                try await client.write("GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
                bodies += await client.readResponses(count: 1, timeout: 10).responses().finalResponses.map(\.bodyString)
            }
            #expect(bodies.filter { $0 == "a\n" }.count == 4)
            #expect(bodies.filter { $0 == "b\n" }.count == 2)
            try await client.write("GET /one/x HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.bodyString == "b\n")
        }
    }
}

@Suite("Reload keeps upstream state")
struct ReloadUpstreamStateTests {
    @Test("An unchanged upstream keeps its health marks across a reload; a changed one starts fresh")
    func healthSurvivesReload() async throws {
        let backend = try await TestBackend()
        let down = refusingPort()
        let yaml = """
            listen: ["127.0.0.1:0"]
            access_log: off
            upstreams:
              app:
                servers: ["127.0.0.1:\(down)", "127.0.0.1:\(backend.port)"]
                fail_timeout: 60s
            routes:
              - match: { path: / }
                proxy: { upstream: app }
            """
        let (server, port) = try await ProxyConfigTests.serve(yaml)
        try await whileRunning(server, backend) {
            for _ in 0..<2 {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
                try await client.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.status == 200)
            }
            let before = try #require(server.upstreamGroups["app"])
            #expect(before.isUp(0) == false)

            try await server.reload(configuration: ConfigLoader.parse(yaml: yaml, file: "tacet.yaml", baseDirectory: "/"))
            let after = try #require(server.upstreamGroups["app"])
            #expect(after === before)
            #expect(after.isUp(0) == false)

            let changed = yaml.replacingOccurrences(of: "fail_timeout: 60s", with: "fail_timeout: 30s")
            try await server.reload(configuration: ConfigLoader.parse(yaml: changed, file: "tacet.yaml", baseDirectory: "/"))
            let fresh = try #require(server.upstreamGroups["app"])
            #expect(fresh !== before)
            #expect(fresh.isUp(0))
        }
    }
}
