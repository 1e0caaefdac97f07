import Foundation
import TacetHTTP
import TacetHTTP2
import TacetTestSupport
import Testing

/// The h2spec checklist (RFC 9113 and RFC 7541, case by case) from raw frames against Tacet:
/// `Tests/Conformance/h2_conformance.py` (Python's hyperframe and hpack, Debian's python3-h2)
/// sends each case on a fresh connection and reports what came back; every case must pass,
/// each connection or stream error with its code, over prior knowledge and over TLS. The route
/// reads the whole body before it answers, so cases about frames after the body reach a
/// stream that is still open. Skipped, saying so, without python3-h2.
@Suite("HTTP/2: h2spec checklist from raw frames")
struct HTTP2ConformanceTests {
    static let python = "/usr/bin/python3"

    static var script: String {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }
        return dir.appendingPathComponent("Tests/Conformance/h2_conformance.py").path
    }

    static var hasPythonH2: Bool {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        return Spawn.run(python, ["-c", "import hyperframe, hpack"])?.status == 0
    }

    struct Report: Decodable {
        struct Case: Decodable {
            let id: String
            let description: String
            let passed: Bool
            let expected: String
            let seen: String
        }
        let cases: [Case]
    }

    /// Runs the suite (off the cooperative pool: it takes seconds) and decodes its report.
    static func runSuite(port: Int, tls: Bool) async throws -> Report {
        let arguments = [script, "--host", "127.0.0.1", "--port", String(port), "--json"] + (tls ? ["--tls"] : [])
        let output: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                if let result = Spawn.run(python, arguments) {
                    continuation.resume(returning: result.output)
                } else {
                    continuation.resume(throwing: TestFailure("could not run \(python)"))
                }
            }
        }
        return try JSONDecoder().decode(Report.self, from: Data(output))
    }

    static func check(_ report: Report) {
        #expect(report.cases.count > 100, "only \(report.cases.count) cases ran")
        for c in report.cases where !c.passed {
            Issue.record("\(c.id) \(c.description): expected \(c.expected), saw \(c.seen)")
        }
    }

    @Test("Every case over prior knowledge (h2c)")
    func priorKnowledge() async throws {
        guard Self.hasPythonH2 else {
            print("skipped: \(Self.python) cannot import hyperframe and hpack (install python3-h2)")
            return
        }
        let live = try await HTTP2Tests.plainServer(BodyCountResponder())
        try await whileRunning(live) {
            Self.check(try await Self.runSuite(port: live.port, tls: false))
        }
    }

    @Test("Every case over TLS with ALPN h2")
    func overTLS() async throws {
        guard Self.hasPythonH2 else {
            print("skipped: \(Self.python) cannot import hyperframe and hpack (install python3-h2)")
            return
        }
        let (live, _) = try await HTTP2Tests.tlsServer(BodyCountResponder())
        try await whileRunning(live) {
            Self.check(try await Self.runSuite(port: live.port, tls: true))
        }
    }
}
