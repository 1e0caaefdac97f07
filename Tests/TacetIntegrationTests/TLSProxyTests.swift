import NIOCore
import TacetHTTP
import TacetProxy
import TacetTestSupport
import Testing

/// The proxy's FIN policies over TLS: `close_notify` after a whole request is not an abort; a
/// client that really closed answers the probe's 103 (in a TLS record) with an RST, which
/// cancels the upstream request.
@Suite("TLS: the reverse proxy's FIN policies")
struct TLSProxyTests {
    static func proxy(to backend: TestBackend, policy: ClientFINPolicy, certificate: TestCertificate) async throws -> LiveServer {
        try await LiveServer.start(prelude: try TLSTests.tls([certificate])) { group in
            let upstream = Upstream(name: "app", selector: SingleServer(host: "127.0.0.1", port: backend.port),
                                    settings: Upstream.Settings(), group: group)
            return [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream, policy: policy))]
        }
    }

    @Test("A proxied request, then close_notify (serve and probe): the whole response, then close_notify",
          arguments: [ClientFINPolicy.serve, ProxyFINPolicyTests.probe])
    func closeNotifyIsNoAbort(_ policy: ClientFINPolicy) async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let backend = try await TestBackend(timing: .delay(.milliseconds(100)))
        let live = try await Self.proxy(to: backend, policy: policy, certificate: certificate)
        try await whileRunning(live, backend) {
            let client = try await TLSTestClient.connect(port: live.port, serverName: "localhost",
                                                         trusting: [certificate.certificate], group: TLSTests.group)
            try await client.send(get("/api/x"))
            try await client.closeNotify()
            let (text, end) = await client.readToEnd()
            #expect(text.hasSuffix("backend says hi\n"), "\(text)")
            #expect(end == .closeNotify)
            #expect(backend.recorder.contains("answered /api/x"))
            await client.close()
        }
    }

    @Test("abort: close_notify after a whole request drops it like a TCP FIN: no response, 499 client_fin")
    func abortOverTLS() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let backend = try await TestBackend(timing: .gated)
        let live = try await Self.proxy(to: backend, policy: .abort, certificate: certificate)
        try await whileRunning(live, backend) {
            let client = try await TLSTestClient.connect(port: live.port, serverName: "localhost",
                                                         trusting: [certificate.certificate], group: TLSTests.group)
            try await client.send(get("/api/x"))
            #expect(await eventually { backend.recorder.contains("body 0") })
            try await client.closeNotify()
            let (text, _) = await client.readToEnd()
            #expect(text.isEmpty)
            #expect(await eventually { backend.recorder.contains("gone /api/x") })
            #expect(await live.waitForAccessLog(containing: "client_fin"))
            await client.close()
        }
    }

    @Test("probe: a client that really closed answers the 103 in its TLS record with an RST: upstream cancelled, 499 client_rst")
    func probeFindsGoneClient() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let backend = try await TestBackend(timing: .gated)
        let live = try await Self.proxy(to: backend, policy: ProxyFINPolicyTests.probe, certificate: certificate)
        try await whileRunning(live, backend) {
            let client = try await TLSTestClient.connect(port: live.port, serverName: "localhost",
                                                         trusting: [certificate.certificate], group: TLSTests.group)
            try await client.send(get("/api/slow"))
            #expect(await eventually { backend.recorder.contains("body 0") })
            try await client.closeTCP()
            #expect(await eventually { backend.recorder.contains("gone /api/slow") })
            #expect(await live.waitForAccessLog(containing: "499"))
            #expect(live.accessLogLines.last?.hasSuffix("client_rst") == true, "\(live.accessLogLines)")
        }
    }
}
