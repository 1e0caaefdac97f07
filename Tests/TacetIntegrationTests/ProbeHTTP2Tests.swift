import Logging
import NIOCore
import NIOPosix
import TacetConfig
import TacetHTTP
import TacetServer
import TacetProbe
import TacetProbeTLS
import TacetTestSupport
import Testing

/// `tacet probe --http2` against an in-process Tacet: every scenario gets the verdict of a server
/// that reads END_STREAM as done-sending, RST_STREAM as one request gone, and a FIN as the
/// client's end of sending only.
@Suite("Probe: HTTP/2 scenarios")
struct ProbeHTTP2Tests {
    @Test("Over TLS (ALPN h2) and over prior knowledge: answers, survives a reset, answers after the FIN",
          arguments: [true, false])
    func againstTacet(tls: Bool) async throws {
        let delayed = DelayedResponder(delay: .milliseconds(400), body: "late h2 answer\n")
        let live: LiveServer
        var trust = TLSRelay.Trust.none
        if tls {
            let (server, certificate) = try await HTTP2Tests.tlsServer(delayed)
            live = server
            trust = .certificates([certificate.certificate])
        } else {
            live = try await HTTP2Tests.plainServer(delayed)
        }
        try await whileRunning(live) {
            let target = HTTPTarget(host: tls ? "localhost" : "127.0.0.1", port: live.port, path: "/slow", isTLS: tls)
            let probe = HTTP2Probe(target: target, trust: trust, timeout: 10, resetAfterMs: 100)
            let results = try await blocking { try probe.run() }
            #expect(results.map(\.scenario) == HTTP2Probe.Scenario.allCases)
            #expect(results.map(\.kind) == ["answers", "survivesReset", "answers"], "\(results.map(\.text))")
            #expect(results.first?.bodyBytes == "late h2 answer\n".utf8.count)
            #expect(delayed.recorder.contains("cancel:client_rst_stream"), "\(delayed.recorder.all)")
            let table = HTTP2Probe.table(results, target: target)
            #expect(table.contains("h2-fin-in-flight  answers: answers the stream in flight after the client's \(tls ? "close_notify" : "FIN")"))
            #expect(results.allSatisfy { $0.conforms == true })
        }
    }

    @Test("With the probe's origin behind Tacet's proxy: answers byte for byte, and the RST_STREAM spares the backend")
    func withOrigin() async throws {
        let origin = try ProbeOrigin(host: "127.0.0.1", httpPort: 0)
        defer { origin.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let config = try ConfigLoader.parse(yaml: """
            listen:
              - { address: "127.0.0.1:0", http2: true }
            access_log: off
            routes:
              - match: { path: / }
                proxy: { to: "127.0.0.1:\(origin.httpPort)" }
            """, file: "tacet.yaml", baseDirectory: "/")
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .critical
        let server = try TacetServer(configuration: config, group: group, logger: logger)
        try await whileRunning(server) {
            let port = try #require(try await server.start().first?.port)
            var configured = HTTP2Probe(target: HTTPTarget(host: "127.0.0.1", port: port, path: "/"), trust: .none, timeout: 10)
            configured.origin = LocalOrigin(origin)
            // The reset request's answer comes 10 s late: the RST_STREAM is read well before it even
            // when a loaded machine stalls the server's loop (seen once with the 2 s default).
            configured.resetSlowMs = 10_000
            let probe = configured
            let results = try await blocking { try probe.run() }
            #expect(results.map(\.kind) == ["answers", "survivesReset", "answers"], "\(results.map(\.text))")
            #expect(results.allSatisfy { $0.conforms == true })
            #expect(results[0].text.hasSuffix("(the origin's answer, byte for byte)"))
            #expect(results[1].text.contains("spared its backend"), "\(results[1].text)")
        }
        try await group.shutdownGracefully()
    }

    @Test("A server without HTTP/2: one line, the probe stops")
    func noHTTP2() async throws {
        let live = try await LiveServer.start(FixedResponder(status: .ok, body: "h1 only\n"))
        try await whileRunning(live) {
            let probe = HTTP2Probe(target: HTTPTarget(host: "127.0.0.1", port: live.port, path: "/"), trust: .none, timeout: 5)
            await #expect(throws: ProbeError.self) { try await blocking { try probe.run() } }
        }
    }
}
