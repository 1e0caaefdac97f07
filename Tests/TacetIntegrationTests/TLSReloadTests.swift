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
            await #expect(throws: TLSSetupError.self) {
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
