import Foundation
import Logging
import NIOCore
import TacetConfig
import TacetHTTP
import TacetProxy
import TacetTestSupport
import TacetTLS
import Testing

/// TLS to upstreams: verified by default (chain and name), kept alive in the pools like plain
/// ones, and a certificate that does not verify is a 502 with the reason in the error log.
@Suite("TLS: upstreams")
struct TLSUpstreamTests {
    /// An HTTPS origin (Tacet itself, with a fixed answer), and a plain proxy in front of it whose
    /// upstream speaks TLS with `client`.
    static func setup(origin certificate: TestCertificate, client: ClientTLS) async throws -> (origin: LiveServer, proxy: LiveServer, upstream: Upstream) {
        let origin = try await LiveServer.start(prelude: try TLSTests.tls([certificate])) { _ in
            [Router.Route(host: nil, pathPrefix: "/", responder: FixedResponder(status: .ok, body: "secure origin\n"))]
        }
        let box = UpstreamBox()
        let proxy = try await LiveServer.start { group in
            var settings = Upstream.Settings()
            settings.prelude = client
            let upstream = Upstream(name: "app", selector: SingleServer(host: "127.0.0.1", port: origin.port),
                                    settings: settings, group: group)
            box.upstream = upstream
            return [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream))]
        }
        return (origin, proxy, try #require(box.upstream))
    }

    @Test("Verified against the origin's CA and name: answered, and the TLS connection is pooled and reused")
    func verifiedAndPooled() async throws {
        let certificate = try TestCertificate.make(names: ["app.internal"])
        let client = try ClientTLS(serverName: "app.internal", caFile: certificate.certPath, verify: true, logger: TLSTests.logger)
        let (origin, proxy, upstream) = try await Self.setup(origin: certificate, client: client)
        try await whileRunning(proxy, origin) {
            let user = try await proxy.connect()
            try await user.send(get("/a") + get("/b"))
            let responses = await user.readResponses(count: 2, timeout: 10).responses().finalResponses
            #expect(responses.map(\.status) == [200, 200])
            #expect(responses.map(\.bodyString) == ["secure origin\n", "secure origin\n"])
            user.close()
            #expect(await eventually { upstream.idleConnectionCount == 1 }, "one TLS connection, kept alive")
        }
    }

    @Test("A certificate that does not verify (another CA, or another name): 502")
    func verificationFailure() async throws {
        let certificate = try TestCertificate.make(names: ["app.internal"])
        let stranger = try TestCertificate.make(names: ["app.internal"])
        for client in [
            try ClientTLS(serverName: "app.internal", caFile: stranger.certPath, verify: true, logger: TLSTests.logger),
            try ClientTLS(serverName: "other.internal", caFile: certificate.certPath, verify: true, logger: TLSTests.logger),
        ] {
            let (origin, proxy, _) = try await Self.setup(origin: certificate, client: client)
            try await whileRunning(proxy, origin) {
                let user = try await proxy.connect()
                try await user.send(get("/"))
                let response = await user.readResponses(count: 1, timeout: 10).responses().finalResponses.first
                #expect(response?.status == 502)
            }
        }
    }

    @Test("verify: false accepts a certificate nobody vouches for")
    func verifyOff() async throws {
        let certificate = try TestCertificate.make(names: ["app.internal"])
        let client = try ClientTLS(serverName: nil, caFile: nil, verify: false, logger: TLSTests.logger)
        let (origin, proxy, _) = try await Self.setup(origin: certificate, client: client)
        try await whileRunning(proxy, origin) {
            let user = try await proxy.connect()
            try await user.send(get("/"))
            #expect(await user.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.status == 200)
        }
    }

    @Test("Configuration: an upstream's tls block and the https:// shorthand; a CA file that is not PEM is refused")
    func configuration() throws {
        let config = try ConfigLoader.parse(yaml: """
            upstreams:
              app: { servers: ["127.0.0.1:9443"], tls: { server_name: app.internal, ca: ca.pem } }
            routes:
              - match: { path: /api/ }
                proxy: { upstream: app }
              - match: { path: / }
                proxy: { to: "https://backend.local:8443" }
            """, file: "tacet.yaml", baseDirectory: "/etc/tacet")
        #expect(config.upstreams.first?.tls == UpstreamTLSConfig(serverName: "app.internal", ca: "/etc/tacet/ca.pem", verify: true, line: 2))
        guard case .proxy(let proxy) = config.routes[1].action else { Issue.record("not a proxy"); return }
        #expect(proxy.target == .address(ListenAddress(host: "backend.local", port: 8443)))
        #expect(proxy.toTLS?.serverName == "backend.local")
        let notPEM = NSTemporaryDirectory() + "tacet-not-pem-\(UUID().uuidString)"
        try "not a certificate\n".write(toFile: notPEM, atomically: true, encoding: .utf8)
        #expect(throws: TLSFileError.self) {
            _ = try ClientTLS(serverName: nil, caFile: notPEM, verify: true, logger: TLSTests.logger)
        }
    }
}
