import Foundation
import NIOConcurrencyHelpers
import TacetProbe
import TacetTestSupport

/// The real `tacet serve` binary, started on a config file: its first HTTP port, what it wrote
/// to stderr so far, signals, and its exit. For behaviour that only the process has (signal
/// handling, the service group, exit codes).
final class RunningTacet: Sendable {
    let process: TestProcess
    let port: Int
    /// What it printed up to and including its first "listening" line.
    let announcement: String
    private let stderrText: NIOLockedValueBox<String>

    private init(process: TestProcess, port: Int, announcement: String, stderrText: NIOLockedValueBox<String>) {
        self.process = process
        self.port = port
        self.announcement = announcement
        self.stderrText = stderrText
    }

    /// Starts `tacet serve --config path` and waits for its first "listening" line.
    static func start(config path: String) async throws -> RunningTacet {
        try await start(arguments: ["serve", "--config", path, "--threads", "2"])
    }

    /// Starts `tacet` with `arguments` and waits for its first "listening" line (a blocking read
    /// of its stdout, on a thread of its own).
    static func start(arguments: [String]) async throws -> RunningTacet {
        try await blocking { try launch(arguments: arguments) }
    }

    private static func launch(arguments: [String]) throws -> RunningTacet {
        let process = TestProcess()
        process.executableURL = URL(fileURLWithPath: try binaryPath())
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let text = NIOLockedValueBox("")
        try process.run()
        // stderr read by a blocking loop on a thread of its own until EOF, not readabilityHandler:
        // on Linux that handler's dispatch source can crash libdispatch (`_dispatch_event_loop_drain`,
        // swift-corelibs-foundation#3276), which took down a full test run here.
        let stderrHandle = err.fileHandleForReading
        Thread {
            while true {
                let data = stderrHandle.availableData
                if data.isEmpty { return }
                text.withLockedValue { $0 += String(decoding: data, as: UTF8.self) }
            }
        }.start()
        var output = Data()
        var listening: Substring?
        while listening == nil {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            output.append(chunk)
            let lines = String(decoding: output, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            listening = lines.first { $0.contains("listening on") }
        }
        let announced = String(decoding: output, as: UTF8.self)
        guard let port = listening?.split(separator: ":").last.flatMap({ Int($0) }) else {
            process.terminate()
            throw TestFailure("no listening line from tacet: \(announced) \(text.withLockedValue { $0 })")
        }
        return RunningTacet(process: process, port: port, announcement: announced, stderrText: text)
    }

    static func binaryPath() throws -> String {
        guard let path = CLITests.binary else { throw TestFailure("the tacet binary is not built") }
        return path
    }

    var stderr: String { stderrText.withLockedValue { $0 } }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Waits (bounded) until stderr holds `text` `count` times.
    func waitForStderr(_ text: String, count: Int = 1, timeout: Double = 30) async -> Bool {
        await eventually(timeout: timeout) { self.stderr.components(separatedBy: text).count - 1 >= count }
    }

    /// One request on a new connection; the body, or nil if anything went wrong.
    func fetch(_ path: String = "/") async -> String? {
        guard let client = try? await OffPoolClient.connect(host: "127.0.0.1", port: port, timeout: 5) else { return nil }
        guard (try? await client.write(get(path, "Connection: close\r\n"))) != nil else { return nil }
        return await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.bodyString
    }

    /// SIGTERM, then the exit status once it exits (bounded by the test's own timeout).
    func terminate() async -> Int32 {
        signal(SIGTERM)
        return await waitForExit()
    }

    func waitForExit() async -> Int32 {
        let process = self.process
        await blocking { process.waitUntilExit() }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
