import Logging
import NIOCore
import NIOPosix
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// The admin listener's `/ready` for an orchestrator: 200 while serving, 503 once a graceful stop
/// begins (the request in flight still finishes); `/healthz` stays 200 meanwhile.
@Suite("Admin: /ready while draining")
struct ReadinessTests {
    static func status(_ port: Int, _ path: String) async throws -> Int? {
        let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
        try await client.send("GET \(path) HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
        return await client.readToEnd(timeout: 10).responses().finalResponses.first?.status
    }

    @Test func readyTurns503WhenDraining() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await TestBackend(timing: .gated)
        let config = try ConfigLoader.parse(yaml: """
            listen: ["127.0.0.1:0"]
            access_log: off
            shutdown_timeout: 20s
            admin: { listen: "127.0.0.1:0" }
            routes:
              - match: { path: / }
                proxy: { to: "127.0.0.1:\(backend.port)" }
            """, file: "tacet.yaml", baseDirectory: "/")
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .warning
        let server = try TacetServer(configuration: config, group: group, logger: logger)
        let port = try #require(try await server.start().first?.port)
        let admin = try #require(server.adminAddress?.port)
        #expect(try await Self.status(admin, "/ready") == 200)
        #expect(try await Self.status(admin, "/healthz") == 200)
        let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
        try await client.send(get("/slow", "Connection: close\r\n"))
        #expect(await eventually { backend.recorder.contains("body 0") })
        async let stopped: Void = server.shutdown()
        #expect(await eventually { (try? await Self.status(admin, "/ready")) == 503 })
        #expect(try await Self.status(admin, "/healthz") == 200)
        backend.release()
        #expect(await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.status == 200)
        await stopped
        await backend.stop()
        try await group.shutdownGracefully()
    }
}
