import Foundation
import NIOCore
import NIOPosix
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// A graceful stop with TCP streams in progress: they may finish within shutdown_timeout;
/// what is still open then is reset, never ended with a FIN as if it were complete.
@Suite("Stream proxy: graceful stop")
struct StreamShutdownTests {
    static func server(group: MultiThreadedEventLoopGroup, echoPort: Int, grace: String) async throws -> (TacetServer, Int) {
        let config = try ConfigLoader.parse(yaml: """
            shutdown_timeout: \(grace)
            streams:
              - { listen: "127.0.0.1:0", to: "127.0.0.1:\(echoPort)" }
            """, file: "tacet.yaml", baseDirectory: "/")
        let server = try TacetServer(configuration: config, group: group)
        _ = try await server.start()
        return (server, try #require(server.streamAddresses.first?.port))
    }

    @Test("A stream in progress when the stop begins keeps working and ends cleanly")
    func streamFinishesDuringStop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await EchoServer.start(group: group)
        let (server, port) = try await Self.server(group: group, echoPort: echo.port, grace: "30s")
        let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
        try await client.write("before")
        #expect(await client.read(until: { $0.count >= 6 }, timeout: 10).string == "before")
        let stopping = Task { await server.shutdown() }
        // New streams are refused once the stop has begun.
        #expect(await eventually { (try? await OffPoolClient.connect(host: "127.0.0.1", port: port, timeout: 1)) == nil })
        try await client.write("after")
        try client.shutdownWrite()
        let rest = await client.readToEnd(timeout: 10)
        #expect(rest.string == "after")
        #expect(rest.end == .fin)
        await stopping.value
        try await echo.channel.close()
        try await group.shutdownGracefully()
    }

    @Test("A stream still open when shutdown_timeout runs out is reset")
    func streamResetAfterGrace() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await EchoServer.start(group: group)
        let (server, port) = try await Self.server(group: group, echoPort: echo.port, grace: "200ms")
        let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
        try await client.write("x")
        #expect(await client.read(until: { !$0.isEmpty }, timeout: 10).string == "x")
        await server.shutdown()
        #expect(await client.readToEnd(timeout: 10).end == .rst)
        try await echo.channel.close()
        try await group.shutdownGracefully()
    }
}
