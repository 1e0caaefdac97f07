import Logging
import Testing
import NIOPosix
import TacetConfig
import TacetServer
import TacetTestSupport

/// A TacetServer from a YAML config, in this process on one event loop (or `threads`), for `body` with the
/// first listener's port (and the server, for reloads); its logger quiet but for criticals.
enum ConfiguredServer {
    /// `threads`: event loops (connections are spread over them).
    static func run(yaml: String, file: String = "tacet.yaml", baseDirectory: String = "/", threads: Int = 1,
                    _ body: (Int, TacetServer) async throws -> Void) async throws {
        let config = try ConfigLoader.parse(yaml: yaml, file: file, baseDirectory: baseDirectory)
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .critical
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let server = try TacetServer(configuration: config, group: group, logger: logger)
        try await whileRunning(server) {
            try await body(try #require(try await server.start().first?.port), server)
        }
        try await group.shutdownGracefully()
    }
}
