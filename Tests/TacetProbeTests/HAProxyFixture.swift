import Foundation
@testable import TacetProbe
import TacetTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A real HAProxy (`mode http`, its defaults otherwise) in front of one server, run in the
/// foreground from a temp dir, for the probe's conformance tests.
final class HAProxyFixture {
    static let binary: String? = ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// True when HAProxy is here; prints why not otherwise, so a skip is never silent.
    static var isAvailable: Bool {
        if binary == nil { print("skipping HAProxy probe tests: haproxy is not installed (.ci/run installs it with apt-get install -y haproxy)") }
        return binary != nil
    }

    let port: Int
    private let directory: URL
    private let process: TestProcess

    init(backendPort: Int) throws {
        guard let binary = Self.binary else { throw TestFailure("haproxy is not installed") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tacet-haproxy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = unusedPort()
        let config = """
            global
                maxconn 100
                noreuseport
            defaults
                mode http
                timeout connect 5s
                timeout client 30s
                timeout server 30s
            frontend fe
                bind 127.0.0.1:\(port)
                default_backend be
            backend be
                server origin 127.0.0.1:\(backendPort)
            """
        let path = directory.appendingPathComponent("haproxy.cfg")
        try (config + "\n").write(to: path, atomically: true, encoding: .utf8)
        process = TestProcess()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-f", path.path, "-db"]
        process.standardOutput = FileHandle.nullDevice
        let log = directory.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        guard !waitUntilListening(port: port, process: process) else { return }
        let errors = (try? String(contentsOf: directory.appendingPathComponent("stderr.log"), encoding: .utf8)) ?? ""
        stop()
        throw TestFailure("haproxy did not start listening on \(port): \(errors)")
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
