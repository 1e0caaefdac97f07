import Foundation
import Logging
import NIOCore
import NIOPosix
import TacetConfig
import TacetServer
import TacetTestSupport
import Testing

/// A TLS listener through the whole server: the configuration's `tls:` block, certificates
/// re-read on reload, and files that cannot be used refused with where and why.
@Suite("TLS: configuration, reload and check")
struct TLSReloadTests {
    static func configuration(cert: String, key: String) throws -> TacetConfiguration {
        try ConfigLoader.parse(yaml: """
            listen:
              - address: "127.0.0.1:0"
                tls:
                  certificates:
                    - { cert: \(cert), key: \(key) }
                  handshake_timeout: 5s
            access_log: off
            routes:
              - match: { path: / }
                respond: { status: 200, body: "secure\\n" }
            """, file: "tacet.yaml", baseDirectory: "/")
    }

    @Test("The config's tls block serves HTTPS; a reload re-reads the files: new handshakes get the new certificate, an open connection keeps its own")
    func reloadSwapsCertificates() async throws {
        let first = try TestCertificate.make(names: ["localhost"])
        let second = try TestCertificate.make(names: ["localhost"])
        let server = try TacetServer(configuration: Self.configuration(cert: first.certPath, key: first.keyPath),
                                     threads: 1, logger: ReloadTests.quiet)
        try await whileRunning(server) {
            let port = try #require(try await server.start().first?.port)
            let open = try await TLSTestClient.connect(port: port, serverName: "localhost", trusting: [first.certificate],
                                                       group: TLSTests.group)
            // The same paths, new contents: as a renewal (certbot, cert-manager) leaves them.
            try FileManager.default.removeItem(atPath: first.certPath)
            try FileManager.default.removeItem(atPath: first.keyPath)
            try FileManager.default.copyItem(atPath: second.certPath, toPath: first.certPath)
            try FileManager.default.copyItem(atPath: second.keyPath, toPath: first.keyPath)
            try await server.reload(configuration: Self.configuration(cert: first.certPath, key: first.keyPath))
            let fresh = try await TLSTestClient.connect(port: port, serverName: "localhost", trusting: [second.certificate],
                                                        group: TLSTests.group)
            try await fresh.send(get("/"))
            #expect(await fresh.read(until: "secure").hasSuffix("secure\n"))
            try await open.send(get("/"))
            #expect(await open.read(until: "secure").hasSuffix("secure\n"))
            await fresh.close()
            await open.close()
        }
    }

    @Test("A reload whose key does not match its certificate is refused; the old certificate keeps serving")
    func reloadRefusesMismatch() async throws {
        let good = try TestCertificate.make(names: ["localhost"])
        let other = try TestCertificate.make(names: ["localhost"])
        let server = try TacetServer(configuration: Self.configuration(cert: good.certPath, key: good.keyPath),
                                     threads: 1, logger: ReloadTests.quiet)
        try await whileRunning(server) {
            let port = try #require(try await server.start().first?.port)
            await #expect(throws: ListenerSetupError.self) {
                try await server.reload(configuration: Self.configuration(cert: good.certPath, key: other.keyPath))
            }
            let client = try await TLSTestClient.connect(port: port, serverName: "localhost", trusting: [good.certificate],
                                                         group: TLSTests.group)
            try await client.send(get("/"))
            #expect(await client.read(until: "secure").hasSuffix("secure\n"))
            await client.close()
        }
    }

    @Test("tls: keys checked when the file is read: unknown keys, a bad min_version, an empty list")
    func configErrors() {
        func error(_ tls: String) -> String? {
            do {
                _ = try ConfigLoader.parse(yaml: "listen:\n  - address: \"127.0.0.1:8443\"\n    tls: \(tls)\n",
                                           file: "tacet.yaml", baseDirectory: "/etc/tacet")
                return nil
            } catch {
                return error.description
            }
        }
        #expect(error("{ certificates: [{ cert: a.pem, key: a.key }], min_version: \"1.1\" }")?
            .contains("min_version must be \"1.2\" or \"1.3\"") == true)
        #expect(error("{ certificates: [] }")?.contains("at least one") == true)
        #expect(error("{ certificates: [{ cert: a.pem }] }")?.contains("key") == true)
        #expect(error("{ certificate: [{ cert: a.pem, key: a.key }] }")?.contains("unknown key 'certificate'") == true)
        let parsed = try? ConfigLoader.parse(
            yaml: "listen:\n  - address: \"127.0.0.1:8443\"\n    tls: { certificates: [{ cert: a.pem, key: k/a.key }] }\n",
            file: "tacet.yaml", baseDirectory: "/etc/tacet")
        #expect(parsed?.listeners.first?.tls?.certificates.first?.cert == "/etc/tacet/a.pem")
        #expect(parsed?.listeners.first?.tls?.certificates.first?.key == "/etc/tacet/k/a.key")
        #expect(parsed?.listeners.first?.tls?.minVersion == .tls12)
    }
}

/// TLS on the admin listener's /metrics: handshakes by version and outcome, and the seconds
/// until each certificate expires.
@Suite("TLS: metrics")
struct TLSMetricsTests {
    @Test("A completed handshake, a plain HTTP request to the TLS port, and the certificate's expiry")
    func handshakesAndExpiry() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"], validFor: 10)
        let config = try ConfigLoader.parse(yaml: """
            listen:
              - address: "127.0.0.1:0"
                tls: { certificates: [{ cert: \(certificate.certPath), key: \(certificate.keyPath) }] }
            access_log: off
            admin: { listen: "127.0.0.1:0" }
            routes:
              - match: { path: / }
                respond: { status: 200, body: "secure\\n" }
            """, file: "tacet.yaml", baseDirectory: "/")
        let server = try TacetServer(configuration: config, threads: 1, logger: ReloadTests.quiet)
        try await whileRunning(server) {
            let port = try #require(try await server.start().first?.port)
            let adminPort = try #require(server.adminAddress?.port)
            let client = try await TLSTestClient.connect(port: port, serverName: "localhost", trusting: [certificate.certificate],
                                                         group: TLSTests.group)
            try await client.send(get("/"))
            #expect(await client.read(until: "secure").hasSuffix("secure\n"))
            await client.close()
            let plain = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await plain.send(get("/"))
            _ = await plain.readToEnd(timeout: 10)
            #expect(await eventually {
                (try? await MetricsScrape.fetch(port: adminPort))?.value(#"tacet_tls_handshakes_total{version="-",outcome="plain_http"}"#) == 1
            })
            let scrape = try await MetricsScrape.fetch(port: adminPort)
            #expect(scrape.value(#"tacet_tls_handshakes_total{version="1.3",outcome="ok"}"#) == 1, "\(scrape.text)")
            let expiry = scrape.value(#"tacet_tls_certificate_expiry_seconds{listen="127.0.0.1:0",certificate="\#(certificate.certPath)"}"#)
            #expect((expiry ?? 0) > 9 * 86_400 && (expiry ?? 0) <= 10 * 86_400 + 2, "\(expiry.map { "\($0)" } ?? "none")")  // +2: a certificate time has whole seconds
        }
    }
}
