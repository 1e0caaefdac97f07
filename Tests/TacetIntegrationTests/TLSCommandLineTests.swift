import Foundation
import TacetTestSupport
import Testing

/// `tacet check` on a TLS listener: each certificate's names and expiry, and files that cannot
/// be used refused with the config file, line, key and file.
@Suite("TLS: tacet check", .serialized)
struct TLSCommandLineTests {
    static func config(cert: String, key: String) throws -> String {
        try CLITests.writeConfig("""
            listen:
              - address: "127.0.0.1:0"
                tls:
                  certificates:
                    - { cert: \(cert), key: \(key) }
            routes:
              - match: { path: / }
                respond: { status: 200, body: "ok\\n" }
            """)
    }

    @Test("check prints each certificate's names and expiry, and warns when it expires within 14 days")
    func namesAndExpiry() throws {
        let fine = try TestCertificate.make(names: ["example.test", "www.example.test"])
        let result = try CLITests.run(["check", "--config", try Self.config(cert: fine.certPath, key: fine.keyPath)])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("names example.test, www.example.test; expires "), "\(result.stdout)")
        #expect(!result.stdout.contains("warning"))
        let soon = try TestCertificate.make(names: ["soon.test"], validFor: 3)
        let warned = try CLITests.run(["check", "--config", try Self.config(cert: soon.certPath, key: soon.keyPath)])
        #expect(warned.status == 0)
        #expect(warned.stdout.contains("warning: listen[0]"), "\(warned.stdout)")
        #expect(warned.stdout.contains("renew it"))
    }

    @Test("check refuses a key that is not the certificate's, naming file, line, key and the key file")
    func mismatchedKey() throws {
        let a = try TestCertificate.make(names: ["a.test"])
        let b = try TestCertificate.make(names: ["b.test"])
        let path = try Self.config(cert: a.certPath, key: b.keyPath)
        let result = try CLITests.run(["check", "--config", path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(path):5: listen[0].tls.certificates[0]: \(b.keyPath): the key does not match the certificate"),
                "\(result.stderr)")
    }

    @Test("check refuses a missing certificate file with the system's reason")
    func missingFile() throws {
        let a = try TestCertificate.make(names: ["a.test"])
        let result = try CLITests.run(["check", "--config", try Self.config(cert: "/nonexistent/site.pem", key: a.keyPath)])
        #expect(result.status == 1)
        #expect(result.stderr.contains("listen[0].tls.certificates[0]: /nonexistent/site.pem: No such file or directory"),
                "\(result.stderr)")
    }

    @Test("serve --https: a certificate made in memory, its fingerprint printed, HTTPS on the listen address")
    func serveHTTPS() async throws {
        let root = NSTemporaryDirectory() + "tacet-https-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "hello over tls\n".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
        let tacet = try await RunningTacet.start(arguments: ["serve", "--https", "--root", root, "--listen", "127.0.0.1:0",
                                                             "--threads", "1"])
        defer { tacet.signal(SIGTERM) }
        do {
            #expect(tacet.announcement.contains("SHA-256 "), "\(tacet.announcement)")
            #expect(tacet.announcement.contains("listening on https://127.0.0.1:"))
            let client = try await TLSTestClient.connect(port: tacet.port, serverName: "localhost", trusting: [],
                                                         group: TLSTests.group)
            try await client.send(get("/"))
            #expect(await client.read(until: "over tls").hasSuffix("hello over tls\n"))
            await client.close()
        }
    }
}
