import Foundation
import NIOConcurrencyHelpers
import TacetTLS
import TacetTestSupport

/// Debian's pebble (an ACME test CA) and pebble-challtestsrv (as the DNS that sends every name
/// to 127.0.0.1) on loopback, pebble's validation ports pointed at Tacet's listeners. Up once
/// pebble says its directory is available; stopped by `stop()`.
final class Pebble: Sendable {
    static let binary = "/usr/bin/pebble"
    static let challtestsrv = "/usr/bin/pebble-challtestsrv"
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binary) && FileManager.default.isExecutableFile(atPath: challtestsrv) }

    let directory: String
    let port: Int
    let managementPort: Int
    /// The PEM pebble's own HTTPS presents, which Tacet's `acme.ca` names.
    let tlsCertificatePath: String
    private let processes: [TestProcess]
    private let log: String

    var directoryURL: String { "https://127.0.0.1:\(port)/dir" }

    /// The certificate pebble's own HTTPS presents (for localhost and 127.0.0.1), written into
    /// `directory`; returns the certificate's path, which Tacet's `acme.ca` names.
    static func makeTLSCertificate(in directory: String) throws -> String {
        let certificate = try SelfSignedCertificate(days: 2)
        try certificate.certificatePEM.write(toFile: directory + "/pebble-tls.pem", atomically: true, encoding: .utf8)
        try certificate.keyPEM.write(toFile: directory + "/pebble-tls.key", atomically: true, encoding: .utf8)
        return directory + "/pebble-tls.pem"
    }

    /// `httpPort`, `tlsPort`: where pebble validates http-01 and tls-alpn-01 (Tacet's listeners).
    /// `environment`: pebble's knobs (PEBBLE_WFE_NONCEREJECT, PEBBLE_CHAIN_LENGTH, ...).
    /// The TLS certificate is `makeTLSCertificate`'s in `directory`.
    /// `externalAccount`: External Account Binding required, with this key ID and base64url MAC key.
    init(directory: String, port: Int, httpPort: Int, tlsPort: Int, validity: Int? = nil,
         externalAccount: (keyID: String, hmac: String)? = nil, environment: [String: String] = [:]) async throws {
        self.directory = directory
        self.port = port
        managementPort = unusedPort()
        let dnsPort = unusedPort()
        tlsCertificatePath = directory + "/pebble-tls.pem"
        let keyPath = directory + "/pebble-tls.key"
        var settings = """
            "listenAddress": "127.0.0.1:\(port)", "managementListenAddress": "127.0.0.1:\(managementPort)",
            "certificate": "\(tlsCertificatePath)", "privateKey": "\(keyPath)", "httpPort": \(httpPort), "tlsPort": \(tlsPort),
            "ocspResponderURL": ""
            """
        if let validity { settings += ", \"certificateValidityPeriod\": \(validity)" }
        if let externalAccount {
            settings += ", \"externalAccountBindingRequired\": true, \"externalAccountMACKeys\": {\"\(externalAccount.keyID)\": \"\(externalAccount.hmac)\"}"
        } else {
            settings += ", \"externalAccountBindingRequired\": false"
        }
        let config = directory + "/pebble.json"
        try "{\"pebble\": {\(settings)}}".write(toFile: config, atomically: true, encoding: .utf8)
        log = directory + "/pebble.log"

        let dns = TestProcess()
        dns.executableURL = URL(fileURLWithPath: Self.challtestsrv)
        dns.arguments = ["-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", "127.0.0.1:\(dnsPort)", "-http01", "",
                         "-https01", "", "-tlsalpn01", "", "-management", "127.0.0.1:\(unusedPort())"]
        dns.standardOutput = FileHandle.nullDevice
        dns.standardError = FileHandle.nullDevice
        try dns.run()

        let pebble = TestProcess()
        pebble.executableURL = URL(fileURLWithPath: Self.binary)
        pebble.arguments = ["-config", config, "-dnsserver", "127.0.0.1:\(dnsPort)"]
        pebble.environment = ProcessInfo.processInfo.environment.merging(["PEBBLE_VA_NOSLEEP": "1"].merging(environment) { $1 }) { $1 }
        let output = Pipe()
        pebble.standardOutput = output
        pebble.standardError = output
        processes = [pebble, dns]
        try pebble.run()
        let ready = OneShot<Bool>()
        let logPath = log
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        // pebble's output, to its log file; ready once it names its directory.
        Thread {
            let handle = output.fileHandleForReading
            let file = FileHandle(forWritingAtPath: logPath)
            var text = ""
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                file?.write(data)
                text += String(decoding: data, as: UTF8.self)
                if text.contains("ACME directory available at") { ready.resolve(true) }
            }
            ready.resolve(false)
        }.start()
        guard try await ready.value(timeout: 30, failure: "pebble did not start") else {
            stop()
            throw TestFailure("pebble exited: \(output)")
        }
    }

    func stop() {
        for process in processes where process.isRunning { process.terminate() }
    }

    /// What pebble logged, for a failure's message.
    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// pebble's root (made afresh each run), fetched from its management port.
    func rootPEM() async throws -> String {
        let result = await blocking {
            Spawn.run("/usr/bin/curl", ["-sS", "--cacert", self.tlsCertificatePath, "https://127.0.0.1:\(self.managementPort)/roots/0"])
        }
        guard let result, result.status == 0 else { throw TestFailure("cannot fetch pebble's root") }
        return String(decoding: result.output, as: UTF8.self)
    }
}

/// An HTTPS GET as a client that trusts `caFile` would make it (nil: one that checks nothing,
/// `curl -k`): curl, `name` resolved to 127.0.0.1; the body, or nil when the TLS handshake or
/// the verification fails.
func curlHTTPS(name: String, port: Int, caFile: String?, path: String = "/") async -> String? {
    await blocking { curlHTTPSBlocking(name: name, port: port, caFile: caFile, path: path) }
}

/// `curlHTTPS` on the calling thread.
func curlHTTPSBlocking(name: String, port: Int, caFile: String?, path: String = "/") -> String? {
    let trust = caFile.map { ["--cacert", $0] } ?? ["-k"]
    let result = Spawn.run("/usr/bin/curl", ["-sS", "--max-time", "10"] + trust + ["--resolve", "\(name):\(port):127.0.0.1",
                                            "https://\(name):\(port)\(path)"])
    guard let result, result.status == 0 else { return nil }
    return String(decoding: result.output, as: UTF8.self)
}
