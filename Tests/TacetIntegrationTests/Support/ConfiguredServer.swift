import Logging
import Testing
import NIOPosix
import TacetConfig
import TacetServer
import TacetTestSupport

/// A TacetServer from a YAML config, in this process on one event loop, for `body` with the
/// first listener's port (and the server, for reloads); its logger quiet but for criticals.
enum ConfiguredServer {
    static func run(yaml: String, file: String = "tacet.yaml", baseDirectory: String = "/",
                    _ body: (Int, TacetServer) async throws -> Void) async throws {
        let config = try ConfigLoader.parse(yaml: yaml, file: file, baseDirectory: baseDirectory)
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .critical
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try TacetServer(configuration: config, group: group, logger: logger)
        try await whileRunning(server) {
            try await body(try #require(try await server.start().first?.port), server)
        }
        try await group.shutdownGracefully()
    }
}
