import Foundation
import TacetProbe
import TacetTestSupport
import Testing

/// The `tacet` binary as a user runs it: `check` exit codes and messages, `serve` start-up line,
/// and a graceful stop on SIGTERM.
@Suite("tacet command line", .serialized)
struct CLITests {
    static var binary: String? {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [beside.appendingPathComponent("tacet").path]
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }
        candidates.append(dir.appendingPathComponent(".build/debug/tacet").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func writeConfig(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "tacet-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = TestProcess()
        process.executableURL = URL(fileURLWithPath: try #require(binary))
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    @Test("check: a valid config exits 0")
    func checkValid() throws {
        let path = try Self.writeConfig("routes:\n  - match: { path: / }\n    respond: { status: 200, body: \"ok\\n\" }\n")
        let result = try Self.run(["check", "--config", path])
        #expect(result.status == 0)
        #expect(result.stdout.contains("is valid"))
    }

    @Test("check: a bad config exits 1 naming file, line and key")
    func checkInvalid() throws {
        let path = try Self.writeConfig("routes:\n  - match: { path: / }\n    static: { roots: /tmp }\n")
        let result = try Self.run(["check", "--config", path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(path):3:15: routes[0].static: unknown key 'roots'"), "\(result.stderr)")
    }

    @Test("check: an address this host cannot bind exits 1 naming file and key, like nginx -t")
    func checkUnbindable() throws {
        // 192.0.2.1 (TEST-NET-1) is on no interface here: bind fails with EADDRNOTAVAIL.
        let path = try Self.writeConfig("""
            listen: ["127.0.0.1:0"]
            streams:
              - { listen: "192.0.2.1:7000", to: "127.0.0.1:7001" }
            """)
        let result = try Self.run(["check", "--config", path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(path): streams[0].listen: cannot bind 192.0.2.1:7000: "), "\(result.stderr)")
        #expect(!result.stdout.contains("is valid"))
    }

    @Test("check: an access log that cannot be opened exits 1 naming file and key; one that can is created")
    func checkAccessLog() throws {
        let bad = try Self.writeConfig("listen: [\"127.0.0.1:0\"]\naccess_log: /nonexistent-\(UUID().uuidString)/a.log\n")
        let failed = try Self.run(["check", "--config", bad])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("\(bad): access_log: cannot open access log /nonexistent-"), "\(failed.stderr)")
        let log = NSTemporaryDirectory() + "tacet-\(UUID().uuidString).log"
        let good = try Self.writeConfig("listen: [\"127.0.0.1:0\"]\naccess_log: \(log)\n")
        let passed = try Self.run(["check", "--config", good])
        #expect(passed.status == 0, "\(passed.stderr)")
        #expect(FileManager.default.fileExists(atPath: log))
    }

    @Test("check: an address in use (the running server's) is noted, and the config is valid")
    func checkInUse() throws {
        let holder = try LiveListener()
        let path = try Self.writeConfig("""
            listen: ["127.0.0.1:\(holder.port)"]
            routes:
              - match: { path: / }
                respond: { status: 200, body: "ok" }
            """)
        let result = try Self.run(["check", "--config", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("note: listen[0] 127.0.0.1:\(holder.port) is in use"), "\(result.stdout)")
        #expect(result.stdout.contains("is valid"))
    }

    #if os(Linux)
    @Test("serve --scheduling batch: every event-loop thread runs under SCHED_BATCH; without it, none",
          arguments: [true, false])
    func batchScheduling(batch: Bool) async throws {
        let config = try Self.writeConfig("listen: [\"127.0.0.1:0\"]\naccess_log: off\n")
        let process = TestProcess()
        process.executableURL = URL(fileURLWithPath: try #require(Self.binary))
        process.arguments = ["serve", "--config", config, "--threads", "2"] + (batch ? ["--scheduling", "batch"] : [])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Listening: the loops exist and have run their first task.
        let stdout = out.fileHandleForReading
        _ = await blocking { stdout.availableData }
        let pid = process.processIdentifier
        /// The scheduling policy (stat field 41) of each event-loop thread.
        @Sendable func loopPolicies() -> [Int] {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            return tasks.compactMap { tid -> Int? in
                let base = "/proc/\(pid)/task/\(tid)/"
                guard let name = try? String(contentsOfFile: base + "comm", encoding: .utf8), name.hasPrefix("NIO-ELT"),
                      let stat = try? String(contentsOfFile: base + "stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return nil }
                // Fields after the command name start at field 3.
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                return fields.count > 38 ? Int(fields[38]) : nil
            }
        }
        let expected = batch ? 3 : 0  // SCHED_BATCH, SCHED_OTHER
        #expect(await eventually { let p = loopPolicies(); return p.count == 2 && p.allSatisfy { $0 == expected } },
                "\(loopPolicies())")
    }
    #endif

    @Test("serve: answers, and on SIGTERM closes idle connections with FIN and exits 0")
    func serveAndStop() throws {
        let config = try Self.writeConfig("""
            listen: ["127.0.0.1:0"]
            access_log: off
            routes:
              - match: { path: / }
                respond: { status: 200, body: "hi\\n" }
            """)
        let process = TestProcess()
        process.executableURL = URL(fileURLWithPath: try #require(Self.binary))
        process.arguments = ["serve", "--config", config, "--threads", "1"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // The first line says where it listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        let port = try #require(text.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) },
                                "\(text)")
        let client = try RawClient.connect(host: "127.0.0.1", port: port)
        try client.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(client.readResponses(count: 1, timeout: 5).responses().finalResponses.first?.bodyString == "hi\n")
        kill(process.processIdentifier, SIGTERM)
        let end = client.readToEnd(timeout: 10)
        #expect(end.end == .fin)
        // The server's close is staged: it waits for our FIN (or its linger timeout) before closing.
        try client.shutdownWrite()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}

/// A plain listening socket on a free loopback port, closed on deinit: an address in use.
final class LiveListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let bound = fd >= 0 && bindLoopback(fd, port: 0) == 0 && listen(fd, 8) == 0
        self.fd = fd
        port = boundPort(fd)
        try #require(fd >= 0 && bound)
    }

    deinit { close(fd) }
}
