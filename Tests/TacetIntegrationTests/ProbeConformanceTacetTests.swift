import Foundation
import Logging
import NIOPosix
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// `tacet probe` with its own origin against Tacet itself: with `on_client_fin: probe` every
/// scenario conforms, a stream delivers the origin's late reply; with the default `serve` the
/// backend is kept busy after a close() (as the README's table says), and the CLI exits 1 naming
/// it, or 0 when `--allow` accepts it.
@Suite(.serialized) struct ProbeConformanceTacetTests {
    static func server(origin: ProbeOrigin, policy: String) async throws -> (TacetServer, MultiThreadedEventLoopGroup) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let config = try ConfigLoader.parse(yaml: """
            listen: ["127.0.0.1:0"]
            access_log: off
            routes:
              - match: { path: / }
                proxy: { to: "127.0.0.1:\(origin.httpPort)", on_client_fin: \(policy) }
            streams:
              - { listen: "127.0.0.1:0", to: "127.0.0.1:\(origin.tcpPort)" }
            """, file: "tacet.yaml", baseDirectory: "/")
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .critical
        return (try TacetServer(configuration: config, group: group, logger: logger), group)
    }

    static func probe(_ origin: ProbeOrigin, _ target: ProbeTarget) async throws -> ProbeReport {
        var options = ProbeOptions()
        options.timeout = 10
        options.finWait = 10
        options.origin = LocalOrigin(origin)
        let probe = Probe(target: target, options: options)
        return try await blocking { try probe.run() }
    }

    @Test("on_client_fin: probe: every HTTP scenario and the TCP stream conform, each judged on what the origin saw")
    func everyScenarioConforms() async throws {
        let origin = try ProbeOrigin(host: "127.0.0.1", httpPort: 0)
        defer { origin.stop() }
        let (server, group) = try await Self.server(origin: origin, policy: "probe")
        try await whileRunning(server) {
            let port = try #require(try await server.start().first?.port)
            let streamPort = try #require(server.streamAddresses.first?.port)
            let http = try await Self.probe(origin, .http(HTTPTarget(host: "127.0.0.1", port: port, path: "/")))
            let table = ReportRenderer.table(http)
            #expect(http.nonconforming().failing.isEmpty && http.nonconforming().untested.isEmpty, "\(table)")
            let expected: [ProbeScenario: Verdict.Kind] = [
                .baseline: .answers, .halfClose: .answers, .pipelined: .answers, .baselineBody: .answers, .body: .answers,
                .halfHeaders: .answers, .idle: .closes, .rejectBody: .answers, .close: .sparesBackend,
            ]
            for row in http.summaries {
                #expect(row.verdict.kind == expected[row.scenario], "\(row.name): \(row.verdict.text)\n\(table)")
            }
            // Forwarded and answered by the origin where a request was whole; nothing where not.
            let results = try #require(http.runs.first?.results)
            for result in results {
                let seen = try #require(result.origin)
                switch result.scenario {
                case .halfHeaders, .idle, .rejectBody: #expect(!seen.forwarded, "\(result.scenario)")
                case .pipelined: #expect(seen.requests.count == 3)
                case .close: #expect(seen.requests.first?.spared == true)
                default: #expect(seen.requests.first?.response?.status == 200, "\(result.scenario)")
                }
            }
            let tcp = try await Self.probe(origin, .tcp(host: "127.0.0.1", port: streamPort))
            #expect(tcp.summaries.first?.verdict.kind == .answers, "\(ReportRenderer.table(tcp))")
            #expect(tcp.runs.first?.results.first?.origin?.tcp.first?.reply != nil)
        }
        try await group.shutdownGracefully()
    }

    @Test("on_client_fin: serve (the default): the close() scenario keeps the backend busy; the CLI exits 1 naming it, 0 with --allow")
    func serveKeepsTheBackendBusy() async throws {
        // The CLI runs the origin itself (--origin): the proxy points at the port it will take.
        let originPort = unusedPort()
        let config = try ConfigLoader.parse(yaml: """
            listen: ["127.0.0.1:0"]
            access_log: off
            routes:
              - match: { path: / }
                proxy: { to: "127.0.0.1:\(originPort)" }
            """, file: "tacet.yaml", baseDirectory: "/")
        let serveGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .critical
        let tacet = try TacetServer(configuration: config, group: serveGroup, logger: logger)
        try await whileRunning(tacet) {
            let port = try #require(try await tacet.start().first?.port)
            let url = "http://127.0.0.1:\(port)/"
            let failing = try await blocking {
                try CLITests.run(["probe", "--origin", "127.0.0.1:\(originPort)", "--origin-tcp", "127.0.0.1:0", "--scenario", "close", url])
            }
            #expect(failing.status == 1, "\(failing.stdout)\(failing.stderr)")
            #expect(failing.stderr.contains("does not conform: close: keeps-backend-busy"), "\(failing.stderr)")
            #expect(failing.stdout.contains("✗ keeps-backend-busy"), "\(failing.stdout)")
            let allowed = try await blocking {
                try CLITests.run(["probe", "--origin", "127.0.0.1:\(originPort)", "--origin-tcp", "127.0.0.1:0", "--scenario", "close",
                                  "--allow", "keeps-backend-busy", "--format", "markdown", url])
            }
            #expect(allowed.status == 0, "\(allowed.stdout)\(allowed.stderr)")
            #expect(allowed.stdout.contains("| close |"), "\(allowed.stdout)")
        }
        try await serveGroup.shutdownGracefully()
    }

    @Test("The CLI: --help lists scenarios and verdicts, explain gives each clause, bad --allow and --path are exit 2")
    func commandLine() throws {
        let help = try CLITests.run(["probe", "--help"])
        for word in ["half-close", "reject-body", "aborts-on-half-close", "keeps-backend-busy", "made-up", "Exit codes"] {
            #expect(help.stdout.contains(word), "\(word)")
        }
        let options = try CLITests.run(["probe", "run", "--help"])
        for word in ["--origin", "--use-origin", "--allow", "--path", "--format"] {
            #expect(options.stdout.contains(word), "\(word)")
        }
        let explain = try CLITests.run(["probe", "explain"])
        #expect(explain.status == 0)
        #expect(explain.stdout.contains("RFC 9112 §9.6") && explain.stdout.contains("spares-backend"))
        let allow = try CLITests.run(["probe", "--allow", "fine", "http://127.0.0.1:1/"])
        #expect(allow.status == 2 && allow.stderr.contains("unknown verdict 'fine'"), "\(allow.stderr)")
        let path = try CLITests.run(["probe", "--path", "nope=/x", "http://127.0.0.1:1/"])
        #expect(path.status == 2 && path.stderr.contains("--path expects SCENARIO=PATH"), "\(path.stderr)")
    }
}
