import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import TacetConfig
import TacetServer
import TacetTestSupport
import TacetTLS
import Testing

/// Certificates from a real ACME server: Debian's pebble on loopback, validating against
/// Tacet's own listeners. Skipped (saying so) without pebble; `.ci/run` installs it.
@Suite("ACME against pebble: obtained, served, kept across a restart", .enabled(if: Pebble.isInstalled, "pebble is not installed"))
struct ACMETests {
    static let name = "tacet-test.example"

    static func yaml(http: Int, https: Int, directory: String, ca: String, storage: String, challenges: String,
                     extra: String = "") -> String {
        """
        listen:
          - "127.0.0.1:\(http)"
          - address: "127.0.0.1:\(https)"
            tls: { acme: [\(name)] }
        acme:
          email: ops@example.com
          directory: \(directory)
          ca: \(ca)
          storage: \(storage)
          challenges: [\(challenges)]\(extra)
        admin: { listen: "127.0.0.1:0" }
        routes:
          - match: { path: / }
            respond: { status: 200, body: "hello over acme\\n" }
        """
    }

    /// Tacet bound first (on ports chosen free; chosen again if another test took one meanwhile),
    /// then pebble pointed at them; Tacet's first attempt may find pebble not yet up, and tries
    /// again 5 s later (the CA was not reached).
    static func withTacetAndPebble(_ directory: String, challenges: String, pebbleEnvironment: [String: String] = [:], validity: Int? = nil,
                                   externalAccount: (keyID: String, hmac: String)? = nil,
                                   _ body: (TacetServer, Pebble, _ https: Int) async throws -> Void) async throws {
        let pebblePort = unusedPort()
        let certificate = try Pebble.makeTLSCertificate(in: directory)
        let (server, http, https) = try await Self.started { http, https in
            Self.yaml(http: http, https: https, directory: "https://127.0.0.1:\(pebblePort)/dir", ca: certificate,
                      storage: directory + "/acme", challenges: challenges,
                      extra: externalAccount.map { "\n  external_account: { key_id: \($0.keyID), hmac: \"\($0.hmac)\" }" } ?? "")
        }
        try await whileRunning(server) {
            let pebble = try await Pebble(directory: directory, port: pebblePort, httpPort: http, tlsPort: https,
                                          validity: validity, externalAccount: externalAccount, environment: pebbleEnvironment)
            defer { pebble.stop() }
            try await body(server, pebble, https)
        }
    }

    /// A server for `yaml(http, https)`, started on two ports chosen free.
    static func started(_ yaml: (Int, Int) -> String) async throws -> (TacetServer, Int, Int) {
        var attempt = 0
        while true {
            attempt += 1
            let (http, https) = (unusedPort(), unusedPort())
            let server = try Self.server(yaml(http, https))
            do {
                _ = try await server.start()
                return (server, http, https)
            } catch {
                await server.shutdown()
                if attempt == 3 { throw error }
            }
        }
    }

    static func server(_ yaml: String) throws -> TacetServer {
        let config = try ConfigLoader.parse(yaml: yaml, file: "tacet.yaml", baseDirectory: "/")
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .critical
        return try TacetServer(configuration: config, threads: 1, logger: logger)
    }

    static func inUse(_ server: TacetServer, _ name: String, pebble: Pebble) async throws {
        let acme = try #require(server.acme)
        let done = OneShot<Void>()
        acme.whenInUse(name) { done.resolve(()) }
        do {
            try await done.value(timeout: 90, failure: "no certificate for \(name)")
        } catch {
            throw TestFailure("\(error); last error: \(acme.status(of: name).lastError ?? "none"); pebble: \(pebble.logText.suffix(2000))")
        }
    }

    /// The admin listener's `/metrics` text.
    static func metrics(_ server: TacetServer) async throws -> String {
        let port = try #require(server.adminAddress?.port)
        return try await CacheFixture.get(port, "/metrics").bodyString
    }

    static func temporaryDirectory() throws -> String {
        let directory = NSTemporaryDirectory() + "tacet-acme-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("http-01: the CA's certificate swapped in without a restart (pebble refusing 30% of nonces); keys stored with mode 0600; a restart serves it at once")
    func http01() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = directory + "/acme"
        var pebbleTLS = ""
        var root = ""
        var accountDirectory = ""
        try await Self.withTacetAndPebble(directory, challenges: "http-01", pebbleEnvironment: ["PEBBLE_WFE_NONCEREJECT": "30"]) { server, pebble, https in
            root = directory + "/pebble-root.pem"
            try await pebble.rootPEM().write(toFile: root, atomically: true, encoding: .utf8)
            try await Self.inUse(server, Self.name, pebble: pebble)
            #expect(await curlHTTPS(name: Self.name, port: https, caFile: root) == "hello over acme\n",
                    "served with the CA's chain, trusted by pebble's root")
            let metrics = try await Self.metrics(server)
            #expect(metrics.contains("tacet_acme_orders_total{outcome=\"issued\"} 1"), "\(metrics)")
            #expect(metrics.contains("tacet_acme_certificate_expiry_timestamp_seconds{name=\"\(Self.name)\"}"))
            #expect(metrics.contains("tacet_acme_failures{name=\"\(Self.name)\"} 0"))
            pebbleTLS = pebble.tlsCertificatePath
            accountDirectory = "\(storage)/accounts/127.0.0.1_\(pebble.port)"
        }
        let key = try FileManager.default.attributesOfItem(atPath: "\(storage)/certificates/\(Self.name)/key.pem")
        #expect((key[.posixPermissions] as? Int) == 0o600)
        let account = try FileManager.default.attributesOfItem(atPath: "\(accountDirectory)/account.key")
        #expect((account[.posixPermissions] as? Int) == 0o600)

        // A restart, the CA gone: the stored certificate is presented from the first handshake.
        let (server, _, https) = try await Self.started { http, https in
            Self.yaml(http: http, https: https, directory: "https://127.0.0.1:\(refusingPort())/dir", ca: pebbleTLS,
                      storage: storage, challenges: "http-01")
        }
        try await whileRunning(server) {
            #expect(await curlHTTPS(name: Self.name, port: https, caFile: root) == "hello over acme\n")
            let status = try #require(server.acme).status(of: Self.name)
            #expect(status.failures == 0 && (status.renewAt ?? .distantPast) > Date(), "nothing due: nothing ordered")
        }
    }

    @Test("A short-lived certificate (pebble: 30 s) renewed at two thirds of its life and swapped in while requests keep being answered")
    func renewal() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Self.withTacetAndPebble(directory, challenges: "http-01", validity: 30) { server, pebble, https in
            let root = directory + "/pebble-root.pem"
            try await pebble.rootPEM().write(toFile: root, atomically: true, encoding: .utf8)
            try await Self.inUse(server, Self.name, pebble: pebble)
            let acme = try #require(server.acme)
            let stored = directory + "/acme/certificates/\(Self.name)/cert.pem"
            let first = try String(contentsOfFile: stored, encoding: .utf8)
            let renewed = OneShot<Void>()
            acme.whenSwapped(Self.name) { renewed.resolve(()) }
            // Requests all the while, from a thread of their own: every one answered.
            let answers = NIOLockedValueBox<(ok: Int, failed: Int)>((0, 0))
            let stop = NIOLockedValueBox(false)
            let stopped = OneShot<Void>()
            Thread {
                while !stop.withLockedValue({ $0 }) {
                    let ok = curlHTTPSBlocking(name: Self.name, port: https, caFile: root) == "hello over acme\n"
                    answers.withLockedValue { ok ? ($0.ok += 1) : ($0.failed += 1) }
                }
                stopped.resolve(())
            }.start()
            try await renewed.value(timeout: 90, failure: "not renewed; last error: \(acme.status(of: Self.name).lastError ?? "none")")
            stop.withLockedValue { $0 = true }
            try await stopped.value(timeout: 30, failure: "requests did not stop")
            let counts = answers.withLockedValue { $0 }
            #expect(counts.ok > 0 && counts.failed == 0, "\(counts)")
            #expect(try String(contentsOfFile: stored, encoding: .utf8) != first, "a new certificate stored")
            #expect(await curlHTTPS(name: Self.name, port: https, caFile: root) == "hello over acme\n")
        }
    }

    @Test("A refused challenge: reported with the CA's reason, retried later, the stand-in still served")
    func refused() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pebblePort = unusedPort()
        let certificate = try Pebble.makeTLSCertificate(in: directory)
        let (server, _, https) = try await Self.started { http, https in
            Self.yaml(http: http, https: https, directory: "https://127.0.0.1:\(pebblePort)/dir", ca: certificate,
                      storage: directory + "/acme", challenges: "http-01")
        }
        try await whileRunning(server) {
            let acme = try #require(server.acme)
            // pebble validates http-01 on a port nobody listens on: the CA's verdict is a refusal.
            let pebble = try await Pebble(directory: directory, port: pebblePort, httpPort: refusingPort(), tlsPort: https)
            defer { pebble.stop() }
            // An attempt before pebble was up failed without a verdict; the next one reaches it.
            var reason = ""
            for _ in 0..<3 {
                let next = OneShot<String>()
                acme.whenFailed(Self.name) { next.resolve($0) }
                reason = try await next.value(timeout: 60, failure: "no attempt")
                if reason.contains("is invalid") { break }
            }
            #expect(reason.contains("the http-01 challenge for \(Self.name) is invalid") && reason.contains("onnection refused"), "\(reason)")
            let status = acme.status(of: Self.name)
            #expect(status.failures >= 1 && (status.retryAt ?? .distantPast) > Date() && status.lastError == reason)
            #expect(await curlHTTPS(name: Self.name, port: https, caFile: nil) == "hello over acme\n", "the stand-in still serves")
            let metrics = try await Self.metrics(server)
            #expect(metrics.contains("tacet_acme_last_error_info{name=\"\(Self.name)\",error=\""), "\(metrics)")
            #expect(metrics.contains("tacet_acme_orders_total{outcome=\"failed\"}"))
        }
    }

    @Test("Another instance holds the name's order lock: nothing ordered here; the certificate it stores is picked up and swapped in")
    func sharedStorage() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ca = try Pebble.makeTLSCertificate(in: directory)
        let storage = directory + "/acme"
        let certificates = "\(storage)/certificates/\(Self.name)"
        try FileManager.default.createDirectory(atPath: certificates, withIntermediateDirectories: true)
        let lease = Int(Date().timeIntervalSince1970) + 600
        try "other-host:4242\n\(lease)\n".write(toFile: certificates + "/order.lock", atomically: true, encoding: .utf8)
        let (server, _, https) = try await Self.started { http, https in
            // The CA unreachable: had it ordered, that would be a failure.
            Self.yaml(http: http, https: https, directory: "https://127.0.0.1:\(refusingPort())/dir", ca: ca,
                      storage: storage, challenges: "http-01")
        }
        try await whileRunning(server) {
            let acme = try #require(server.acme)
            let deferred = OneShot<String>()
            acme.whenDeferred(Self.name) { deferred.resolve($0) }
            _ = try await deferred.value(timeout: 30, failure: "the order was not left to the lock's holder")
            #expect(acme.status(of: Self.name).failures == 0, "nothing ordered, so nothing failed")
            // The holder stores its certificate and lets go.
            let theirs = try SelfSignedCertificate(days: 30, names: [Self.name])
            try theirs.keyPEM.write(toFile: certificates + "/key.pem", atomically: true, encoding: .utf8)
            try theirs.certificatePEM.write(toFile: certificates + "/cert.pem", atomically: true, encoding: .utf8)
            try FileManager.default.removeItem(atPath: certificates + "/order.lock")
            let inUse = OneShot<Void>()
            acme.whenInUse(Self.name) { inUse.resolve(()) }
            try await inUse.value(timeout: 60, failure: "the stored certificate was not picked up")
            #expect(await curlHTTPS(name: Self.name, port: https, caFile: certificates + "/cert.pem") == "hello over acme\n",
                    "the certificate the other instance stored is the one presented")
        }
    }

    @Test("Without a stored certificate and with the CA unreachable: served at once with a self-signed stand-in for the name")
    func standIn() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ca = try Pebble.makeTLSCertificate(in: directory)
        let (server, _, https) = try await Self.started { http, https in
            Self.yaml(http: http, https: https, directory: "https://127.0.0.1:\(refusingPort())/dir", ca: ca,
                      storage: directory + "/acme", challenges: "http-01")
        }
        try await whileRunning(server) {
            #expect(await curlHTTPS(name: Self.name, port: https, caFile: ca) == nil, "not a certificate any CA signed")
            #expect(await curlHTTPS(name: Self.name, port: https, caFile: nil) == "hello over acme\n", "but a handshake, and an answer")
        }
    }

    @Test("External Account Binding: a CA that requires it registers the account bound to the key ID and MAC key given")
    func externalAccountBinding() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let account = (keyID: "kid-tacet", hmac: "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W")
        try await Self.withTacetAndPebble(directory, challenges: "http-01", externalAccount: account) { server, pebble, https in
            let root = directory + "/pebble-root.pem"
            try await pebble.rootPEM().write(toFile: root, atomically: true, encoding: .utf8)
            try await Self.inUse(server, Self.name, pebble: pebble)
            #expect(await curlHTTPS(name: Self.name, port: https, caFile: root) == "hello over acme\n")
        }
    }

    @Test("tls-alpn-01: answered on the HTTPS listener itself (no plain listener needed), then the certificate served")
    func tlsALPN01() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Self.withTacetAndPebble(directory, challenges: "tls-alpn-01") { server, pebble, https in
            let root = directory + "/pebble-root.pem"
            try await pebble.rootPEM().write(toFile: root, atomically: true, encoding: .utf8)
            try await Self.inUse(server, Self.name, pebble: pebble)
            #expect(await curlHTTPS(name: Self.name, port: https, caFile: root) == "hello over acme\n")
        }
    }
}

@Suite("ACME in tacet check: the storage checked, each managed name's state reported")
struct ACMECheckTests {
    @Test("Nothing stored: says it is ordered at start; a storage path under a file is an error with acme's line")
    func report() throws {
        let directory = try ACMETests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let yaml = ACMETests.yaml(http: 8080, https: 8443, directory: "https://ca.example/dir", ca: "/dev/null",
                                  storage: directory + "/acme", challenges: "http-01")
        let lines = try ListenerSetup.report(try ConfigLoader.parse(yaml: yaml, file: "tacet.yaml", baseDirectory: "/"))
        #expect(lines.contains { $0.contains("acme \(ACMETests.name): nothing stored under \(directory)/acme yet: ordered from https://ca.example/dir at start") },
                "\(lines)")
        _ = FileManager.default.createFile(atPath: directory + "/file", contents: Data())
        let bad = ACMETests.yaml(http: 8080, https: 8443, directory: "https://ca.example/dir", ca: "/dev/null",
                                 storage: directory + "/file/acme", challenges: "http-01")
        do {
            _ = try ListenerSetup.report(try ConfigLoader.parse(yaml: bad, file: "tacet.yaml", baseDirectory: "/"))
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("line 6: acme.storage") && "\(error)".contains("Not a directory"), "\(error)")
        }
    }
}
