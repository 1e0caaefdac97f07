import Logging
import NIOCore
import NIOPosix
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// Compression as a config file asks for it: the top level's block on every route, a route's
/// `compression: off`, a route's own level; and the admin listener's counters after known traffic.
@Suite("Compression: configured, counted")
struct CompressionConfiguredTests {
    static let body = String(repeating: "the quick brown fox jumps over the lazy dog ", count: 100)

    @Test func configuredAndCounted() async throws {
        let config = try ConfigLoader.parse(yaml: """
            listen: ["127.0.0.1:0"]
            access_log: off
            admin: { listen: "127.0.0.1:0" }
            compression: { encodings: [br, gzip] }
            routes:
              - match: { path: /account/ }
                respond: { status: 200, body: "\(Self.body)" }
                compression: off
              - match: { path: /fast/ }
                respond: { status: 200, body: "\(Self.body)" }
                compression: { level: { gzip: 1 } }
              - match: { path: / }
                respond: { status: 200, body: "\(Self.body)" }
            """, file: "tacet.yaml", baseDirectory: "/")
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .warning
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try TacetServer(configuration: config, group: group, logger: logger)
        try await whileRunning(server) {
            let port = try #require(try await server.start().first?.port)
            let adminPort = try #require(server.adminAddress?.port)
            func fetch(_ path: String, _ accept: String) async throws -> ParsedResponse {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
                try await client.send(get(path, "Accept-Encoding: \(accept)\r\nConnection: close\r\n"))
                defer { client.close() }
                return try #require(await client.readToEnd(timeout: 10).responses().finalResponses.first)
            }
            let br = try await fetch("/", "gzip, br")
            #expect(br.header("content-encoding") == "br")
            #expect(try await ContentDecoding.decode(br.body, coding: "br") == Array(Self.body.utf8))
            let gzip = try await fetch("/fast/x", "gzip")
            #expect(gzip.header("content-encoding") == "gzip")
            #expect(try await ContentDecoding.decode(gzip.body, coding: "gzip") == Array(Self.body.utf8))
            let off = try await fetch("/account/me", "gzip, br")
            #expect(off.header("content-encoding") == nil && off.header("vary") == nil && off.bodyString == Self.body)
            let zstd = try await fetch("/", "zstd")
            #expect(zstd.header("content-encoding") == nil, "zstd is not in this file's encodings")

            let metrics = try await MetricsScrape.fetch(port: adminPort)
            #expect(metrics.value("tacet_compression_responses_total{encoding=\"br\"}") == 1)
            #expect(metrics.value("tacet_compression_responses_total{encoding=\"gzip\"}") == 1)
            #expect(metrics.value("tacet_compression_bytes_in_total{encoding=\"br\"}") == Double(Self.body.utf8.count))
            #expect(metrics.value("tacet_compression_bytes_out_total{encoding=\"br\"}") == Double(br.body.count))
            #expect(metrics.value("tacet_compression_bytes_out_total{encoding=\"gzip\"}") == Double(gzip.body.count))
            #expect(metrics.value("tacet_compression_failures_total") == 0)
        }
        try await group.shutdownGracefully()
    }
}
