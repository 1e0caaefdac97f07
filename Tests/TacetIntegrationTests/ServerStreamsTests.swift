import Foundation
import Logging
import NIOCore
import NIOPosix
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// The `streams` config shape, run by `TacetServer`: beside HTTP listeners, and alone.
@Suite struct ServerStreamsTests {
    @Test func streamsBesideHTTP() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await EchoServer.start(group: group)
        let config = try ConfigLoader.parse(yaml: """
            listen: ["127.0.0.1:0"]
            access_log: off
            upstreams:
              app: { servers: ["127.0.0.1:\(echo.port)"], balance: least_conn }
            routes:
              - match: { path: / }
                respond: { status: 200, body: "hi\\n" }
            streams:
              - { listen: "127.0.0.1:0", to: "127.0.0.1:\(echo.port)" }
              - { listen: "127.0.0.1:0", upstream: app, half_close_timeout: 5s }
            """, file: "tacet.yaml", baseDirectory: "/")
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .warning
        let server = try TacetServer(configuration: config, group: group, logger: logger)
        try await whileRunning(server) {
            let http = try await server.start()
            #expect(server.upstreamGroups["app"]?.servers.map(\.port) == [echo.port])

            let web = try await OffPoolClient.connect(host: "127.0.0.1", port: try #require(http.first?.port))
            try await web.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(await web.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.bodyString == "hi\n")

            #expect(server.streamAddresses.count == 2)
            for address in server.streamAddresses {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: try #require(address.port))
                try await client.write("ping")
                try client.shutdownWrite()
                let reply = await client.readToEnd(timeout: 10)
                #expect(String(decoding: reply.bytes, as: UTF8.self) == "ping")
                #expect(reply.end == .fin)
            }
        }
        try await echo.channel.close()
        try await group.shutdownGracefully()
    }

    @Test func streamsAlone() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await EchoServer.start(group: group)
        let config = try ConfigLoader.parse(yaml: """
            streams:
              - { listen: "127.0.0.1:0", to: "127.0.0.1:\(echo.port)" }
            """, file: "tacet.yaml", baseDirectory: "/")
        #expect(config.listen.isEmpty)
        let server = try TacetServer(configuration: config, group: group)
        try await whileRunning(server) {
            #expect(try await server.start().isEmpty)
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: try #require(server.streamAddresses.first?.port))
            try await client.write("alone")
            try client.shutdownWrite()
            #expect(String(decoding: await client.readToEnd(timeout: 10).bytes, as: UTF8.self) == "alone")
        }
        try await echo.channel.close()
        try await group.shutdownGracefully()
    }
}

/// Echoes what it reads and answers a FIN with its own.
struct EchoServer {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    static func start(group: any EventLoopGroup) async throws -> EchoServer {
        let channel = try await ServerBootstrap(group: group)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return EchoServer(channel: channel)
    }
}

private final class EchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(mode: .output, promise: nil) }
    }
}
