import NIOCore
import NIOPosix
import NIOSSL
import TacetHTTP
import TacetProbe
import TacetProbeTLS
import TacetTestSupport
import TacetTunnel
import Testing

/// `tacet probe https://...`: the suite over TLS through the probe's relay, each half-closing
/// scenario with `close_notify` and with a bare FIN, against an HTTPS Tacet (every scenario
/// conforms, and Tacet ends TLS with its own `close_notify`) and against a server that ends with
/// a bare FIN (reported as such).
@Suite("Probe over TLS")
struct ProbeOverTLSTests {
    static let body = "late answer\n"

    func probe(port: Int, relay: TLSRelay, host: String = "localhost", _ scenarios: [ProbeScenario]? = nil) async throws -> ProbeReport {
        var options = ProbeOptions()
        options.tls = relay
        // A server that sends its FIN does so at once; a loaded machine may take more than 1 s.
        options.finWait = 10
        let probe = Probe(target: .http(HTTPTarget(host: host, port: port, path: "/", isTLS: true)), options: options)
        return try await blocking { try probe.run(scenarios: scenarios) }
    }

    @Test("The whole suite against an HTTPS Tacet: both half-closes answered, Tacet's close_notify reported")
    func suiteAgainstTacet() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let live = try await TLSTests.server(try TLSTests.tls([certificate]))
        let relay = try TLSRelay(trust: .certificates([certificate.certificate]))
        defer { relay.shutdown() }
        try await whileRunning(live) {
            let report = try await probe(port: live.port, relay: relay)
            let results = try #require(report.runs.first?.results)
            let names = results.map(\.outcome.name)
            #expect(names == ["baseline", "half-close (close_notify)", "half-close (bare FIN)",
                              "pipelined (close_notify)", "pipelined (bare FIN)", "baseline-body", "body (close_notify)", "body (bare FIN)",
                              "half-headers (close_notify)", "half-headers (bare FIN)", "idle (close_notify)", "idle (bare FIN)",
                              "reject-body (close_notify)", "reject-body (bare FIN)", "close"])
            for result in results {
                let timeline = ReportRenderer.timeline(result.outcome.timeline).joined(separator: "\n")
                let why: Comment = "\(result.outcome.name): \(result.verdict.text)\n\(timeline)"
                switch result.scenario {
                case .baseline, .baselineBody:
                    #expect(result.verdict.kind == .answers, why)
                    #expect(result.outcome.end == .open, why)
                case .halfClose, .body:
                    #expect(result.verdict.kind == .answers, why)
                    #expect(result.outcome.completeFinals.map(\.status) == [200], why)
                    #expect(result.outcome.end == .fin, why)
                    #expect(result.outcome.serverTLSEnding == "close_notify", why)
                case .pipelined:
                    #expect(result.outcome.completeFinals.map(\.status) == [200, 200, 200], why)
                    #expect(result.outcome.serverTLSEnding == "close_notify", why)
                case .halfHeaders:
                    #expect(result.outcome.completeFinals.map(\.status) == [400], why)
                    #expect(result.outcome.end == .fin, why)
                case .idle:
                    #expect(result.verdict.kind == .closes, why)
                    #expect(result.outcome.serverTLSEnding == "close_notify", why)
                case .rejectBody:
                    #expect(result.outcome.completeFinals.map(\.status) == [413], why)
                    #expect(result.outcome.end == .fin, why)
                    #expect(!result.outcome.writeFailedByReset, why)
                case .close:
                    #expect(result.verdict.kind == .info, why)
                case .tcp:
                    Issue.record("no tcp scenario over https")
                }
            }
            let table = ReportRenderer.table(report)
            #expect(table.contains("probe https://localhost:\(live.port)/"))
            #expect(table.contains("TLS: close_notify"))
        }
    }

    @Test("A server that ends with a TCP FIN and no close_notify: answered, and reported as such")
    func serverEndsWithBareFIN() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let server = try await BareFINServer.start(certificate)
        let relay = try TLSRelay(trust: .certificates([certificate.certificate]))
        defer { relay.shutdown() }
        try await whileRunning(server) {
            let report = try await probe(port: server.port, relay: relay, [.halfClose])
            let results = try #require(report.runs.first?.results)
            #expect(results.count == 2)
            for result in results {
                #expect(result.verdict.kind == .answers, "\(result.outcome.name): \(result.verdict.text)")
                #expect(result.outcome.serverTLSEnding == "FIN without close_notify")
            }
        }
    }

    @Test("A certificate nobody vouches for: the probe stops with the handshake's reason; --insecure goes on")
    func untrustedCertificate() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let live = try await TLSTests.server(try TLSTests.tls([certificate]))
        let strict = try TLSRelay(trust: .certificates([try TestCertificate.make(names: ["other"]).certificate]))
        let insecure = try TLSRelay(trust: .none)
        defer { strict.shutdown(); insecure.shutdown() }
        try await whileRunning(live) {
            await #expect(throws: ProbeError.self) { try await probe(port: live.port, relay: strict, [.halfClose]) }
            do { _ = try await probe(port: live.port, relay: strict, [.halfClose]) } catch let error as ProbeError {
                #expect(error.description.contains("TLS handshake"), "\(error)")
            }
            let report = try await probe(port: live.port, relay: insecure, host: "127.0.0.1", [.halfClose])
            let kinds = report.runs.first?.results.map(\.verdict.kind)
            #expect(kinds == [.answers, .answers])
        }
    }
}

extension ProbeOverTLSTests {
    @Test("tacet probe https:// on the command line: --ca trusts a CA, without it the handshake fails with exit 2")
    func commandLine() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let live = try await TLSTests.server(try TLSTests.tls([certificate]))
        try await whileRunning(live) {
            let url = "https://localhost:\(live.port)/"
            let trusted = try await blocking { try CLITests.run(["probe", "--ca", certificate.certPath, "--scenario", "half-close", url]) }
            #expect(trusted.status == 0, "\(trusted.stderr)")
            let rows = trusted.stdout.split(separator: "\n")
            #expect(rows.contains { $0.hasPrefix("half-close (close_notify)") && $0.hasSuffix("answers") }, "\(trusted.stdout)")
            #expect(rows.contains { $0.hasPrefix("half-close (bare FIN)") && $0.hasSuffix("answers") }, "\(trusted.stdout)")
            #expect(trusted.stdout.contains("TLS: close_notify"))
            let untrusted = try await blocking { try CLITests.run(["probe", "--scenario", "half-close", url]) }
            #expect(untrusted.status == 2)
            #expect(untrusted.stderr.contains("TLS handshake with localhost:\(live.port) failed: CERTIFICATE_VERIFY_FAILED"),
                    "\(untrusted.stderr)")
            let plain = try await blocking { try CLITests.run(["probe", "--insecure", "http://127.0.0.1:\(live.port)/"]) }
            #expect(plain.status == 2)
            #expect(plain.stderr.contains("--insecure and --ca are for https URLs"), "\(plain.stderr)")
        }
    }
}

/// An HTTPS server that answers the first request and then ends with no `close_notify`: a bare
/// FIN, as some servers end; it closes once the client has ended too (no RST for unread bytes).
private final class BareFINServer: Stoppable {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) { self.channel = channel }

    static func start(_ certificate: TestCertificate) async throws -> BareFINServer {
        let key = try NIOSSLPrivateKey(file: certificate.keyPath, format: .pem)
        let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate.certificate)],
                                                                     privateKey: .privateKey(key))
        let context = try NIOSSLContext(configuration: configuration)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([SocketEnd(), NIOSSLServerHandler(context: context), AnswerThenFIN()])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return BareFINServer(channel: channel)
    }

    func stop() async { try? await channel.close() }
}

private final class AnswerThenFIN: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var received = ""
    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += String(buffer: unwrapInboundIn(data))
        guard !answered, received.contains("\r\n\r\n") else { return }
        answered = true
        let response = "HTTP/1.1 200 OK\r\nContent-Length: \(ProbeOverTLSTests.body.utf8.count)\r\nConnection: close\r\n\r\n\(ProbeOverTLSTests.body)"
        let end = try? context.pipeline.syncOperations.handler(type: SocketEnd.self)
        context.writeAndFlush(NIOAny(ByteBuffer(string: response))).assumeIsolated().whenComplete { _ in end?.shutdownOutputNow() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { closeAtSocket(context) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case NIOSSLError.uncleanShutdown = error { return }  // inputClosed follows
        closeAtSocket(context)
    }

    private func closeAtSocket(_ context: ChannelHandlerContext) {
        (try? context.pipeline.syncOperations.handler(type: SocketEnd.self))?.closeNow()
    }
}
