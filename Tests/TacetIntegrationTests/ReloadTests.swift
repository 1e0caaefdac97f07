import Foundation
import Logging
import NIOCore
import NIOPosix
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// `TacetServer.reload(configuration:)` in-process, on real loopback sockets: new connections
/// get the new configuration, open ones finish on theirs, and no listening socket that stays
/// is ever closed.
@Suite("reload", .serialized)
struct ReloadTests {
    static func configuration(body: String, listen: [String] = ["127.0.0.1:0"], extra: String = "") throws -> TacetConfiguration {
        try ConfigLoader.parse(yaml: """
            listen: [\(listen.map { "\"\($0)\"" }.joined(separator: ", "))]
            access_log: off
            routes:
              - match: { path: / }
                respond: { status: 200, body: "\(body)" }
            \(extra)
            """, file: "tacet.yaml", baseDirectory: "/")
    }

    static var quiet: Logger {
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .warning
        return logger
    }

    static func fetch(port: Int, host: String = "127.0.0.1") async throws -> String? {
        let client = try await OffPoolClient.connect(host: host, port: port, timeout: 5)
        try await client.write(get("/", "Connection: close\r\n"))
        return await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.bodyString
    }

    @Test("10 reloads under a steady load: every request answered, none reset, new connections switch at once")
    func reloadsUnderLoad() async throws {
        let server = try TacetServer(configuration: Self.configuration(body: "A"), threads: 2, logger: Self.quiet)
        try await whileRunning(server) {
            let port = try #require(try await server.start().first?.port)
            let load = SteadyLoad(port: port, expectedBodies: ["A", "B"])
            load.start()
            for i in 1...10 {
                let body = i % 2 == 1 ? "B" : "A"
                let before = load.completed
                // The load must be running across every reload, not only before the first.
                #expect(await eventually(timeout: 10) { load.completed >= before + 20 })
                try await server.reload(configuration: Self.configuration(body: body))
                #expect(try await Self.fetch(port: port) == body, "reload \(i)")
            }
            let after = load.completed
            #expect(await eventually(timeout: 10) { load.completed >= after + 20 })
            let report = await load.stop()
            #expect(report.failures.isEmpty, "\(report.failures.prefix(5))")
            #expect(report.completed > 200)
            // Fresh connections saw both bodies; keep-alive runs did too (each run keeps the body
            // of the configuration its connection was accepted under).
            #expect(Set(report.freshBodies) == ["A", "B"])
            #expect(report.keepAliveBodies == ["A", "B"])
        }
    }

    @Test("a keep-alive connection keeps its configuration; a new one gets the new")
    func openConnectionKeepsOldConfiguration() async throws {
        let server = try TacetServer(configuration: Self.configuration(body: "old"), threads: 1, logger: Self.quiet)
        try await whileRunning(server) {
            let port = try #require(try await server.start().first?.port)
            let kept = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await kept.write(get("/"))
            #expect(await kept.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.bodyString == "old")
            try await server.reload(configuration: Self.configuration(body: "new"))
            #expect(try await Self.fetch(port: port) == "new")
            try await kept.write(get("/"))
            #expect(await kept.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.bodyString == "old")
            kept.close()
        }
    }

    @Test("max_connections raised by a reload applies to the listener that stays")
    func maxConnectionsOnKeptListener() async throws {
        let server = try TacetServer(configuration: Self.configuration(body: "A", extra: "max_connections: 1"),
                                     threads: 1, logger: Self.quiet)
        try await whileRunning(server) {
            let port = try #require(try await server.start().first?.port)
            let first = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await first.write(get("/"))
            #expect(await first.readResponses(count: 1, timeout: 10).responses().completeFinalCount == 1)
            let second = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await second.write(get("/"))
            #expect(await second.read(until: { !$0.isEmpty }, timeout: 0.3).bytes.isEmpty)
            let summary = try await server.reload(configuration: Self.configuration(body: "B", extra: "max_connections: 2"))
            #expect(summary.bound.isEmpty && summary.closed.isEmpty)
            let answer = await second.readResponses(count: 1, timeout: 10).responses().finalResponses.first
            #expect(answer?.bodyString == "B")
            first.close()
            second.close()
        }
    }

    @Test("listen addresses: a new one is bound, a removed one closed, one that stays keeps its socket")
    func listenAddressesChange() async throws {
        let server = try TacetServer(configuration: Self.configuration(body: "one"), threads: 1, logger: Self.quiet)
        try await whileRunning(server) {
            let first = try #require(try await server.start().first?.port)

            let added = try await server.reload(configuration: Self.configuration(body: "two", listen: ["127.0.0.1:0", "127.0.0.2:0"]))
            let second = try #require(added.bound.first?.port)
            #expect(added.bound.map(\.ipAddress) == ["127.0.0.2"])
            #expect(added.closed.isEmpty)
            #expect(try await Self.fetch(port: first) == "two")
            #expect(try await Self.fetch(port: second, host: "127.0.0.2") == "two")

            let removed = try await server.reload(configuration: Self.configuration(body: "three", listen: ["127.0.0.2:0"]))
            #expect(removed.bound.isEmpty)
            #expect(removed.closed.map(\.port) == [first])
            #expect(try await Self.fetch(port: second, host: "127.0.0.2") == "three")
            await #expect(throws: RawClientError.self) { try await OffPoolClient.connect(host: "127.0.0.1", port: first, timeout: 5) }
        }
    }

    @Test("a reload that cannot bind changes nothing: the old configuration keeps serving")
    func failedBindKeepsOld() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let taken = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let takenPort = try #require(taken.localAddress?.port)
        let server = try TacetServer(configuration: Self.configuration(body: "old"), group: group, logger: Self.quiet)
        try await whileRunning(server) {
            let port = try #require(try await server.start().first?.port)
            await #expect(throws: (any Error).self) {
                try await server.reload(configuration: Self.configuration(
                    body: "new", listen: ["127.0.0.1:0", "127.0.0.2:0", "127.0.0.1:\(takenPort)"]))
            }
            #expect(try await Self.fetch(port: port) == "old")
        }
        try await taken.close()
        try await group.shutdownGracefully()
    }

    @Test("a stream listener that stays keeps its port and sends new connections to the new target")
    func streamRetargeted() async throws {
        let one = try await TestBackend(answer: TestBackend.Answer(body: "one\n"))
        let two = try await TestBackend(answer: TestBackend.Answer(body: "two\n"))
        func streams(_ backend: TestBackend) -> String {
            "streams:\n  - { listen: \"127.0.0.1:0\", to: \"127.0.0.1:\(backend.port)\" }"
        }
        let server = try TacetServer(configuration: Self.configuration(body: "x", extra: streams(one)),
                                     threads: 1, logger: Self.quiet)
        try await whileRunning(server, one, two) {
            try await server.start()
            let port = try #require(server.streamAddresses.first?.port)
            func through() async throws -> String {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
                try await client.write("GET / HTTP/1.0\r\n\r\n")
                try client.shutdownWrite()
                return await client.readToEnd(timeout: 10).responses().finalResponses.first?.bodyString ?? ""
            }
            #expect(try await through() == "one\n")
            let summary = try await server.reload(configuration: Self.configuration(body: "x", extra: streams(two)))
            #expect(summary.bound.isEmpty && summary.closed.isEmpty)
            #expect(server.streamAddresses.map(\.port) == [port])
            #expect(try await through() == "two\n")
        }
    }
}

/// Reload with proxy routes: a request in flight finishes on the old upstream set; the old
/// set's pooled connections are closed, new requests use the new set's.
@Suite("reload with proxy routes", .serialized)
struct ReloadProxyTests {
    static func configuration(backend: TestBackend) throws -> TacetConfiguration {
        try ConfigLoader.parse(yaml: """
            listen: ["127.0.0.1:0"]
            access_log: off
            upstreams:
              app: { servers: ["127.0.0.1:\(backend.port)"], keepalive: 4 }
            routes:
              - match: { path: / }
                proxy: { upstream: app }
            """, file: "tacet.yaml", baseDirectory: "/")
    }

    @Test("a proxied request in flight during a reload completes")
    func inFlightProxyRequestCompletes() async throws {
        let backend = try await TestBackend(timing: .gated)
        let server = try TacetServer(configuration: Self.configuration(backend: backend),
                                     threads: 1, logger: ReloadTests.quiet)
        try await whileRunning(server, backend) {
            let port = try #require(try await server.start().first?.port)
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await client.write(get("/slow"))
            #expect(await eventually { backend.recorder.all.contains { $0.hasPrefix("request GET /slow") } })
            try await server.reload(configuration: Self.configuration(backend: backend))
            backend.release()
            let response = await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first
            #expect(response?.status == 200)
            #expect(response?.bodyString == "backend says hi\n")
            client.close()
        }
    }

    @Test("the old upstream set's idle pooled connections close; the new set opens its own")
    func oldPoolRetired() async throws {
        let backend = try await TestBackend()
        let server = try TacetServer(configuration: Self.configuration(backend: backend),
                                     threads: 1, logger: ReloadTests.quiet)
        try await whileRunning(server, backend) {
            let port = try #require(try await server.start().first?.port)
            #expect(try await ReloadTests.fetch(port: port) == "backend says hi\n")
            let old = server.upstreams
            #expect(await eventually { old.idleConnectionCount == 1 })
            try await server.reload(configuration: Self.configuration(backend: backend))
            #expect(await eventually { old.idleConnectionCount == 0 })
            #expect(try await ReloadTests.fetch(port: port) == "backend says hi\n")
            #expect(backend.recorder.count("connection") == 2)
        }
    }
}
