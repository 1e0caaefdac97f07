import Foundation
import TacetTestSupport
import Testing

/// nginx is quiet by default (`error_log` at `error`): Tacet's error log starts at `notice`, so a
/// closed connection is not a line unless `--log-level info` (or `log_level: info`) asks; and
/// every command's help reads as paragraphs, not lines broken mid-sentence.
@Suite("Quiet by default; help without mid-sentence breaks")
struct QuietLogTests {
    static let config = """
        listen: ["127.0.0.1:0"]
        access_log: off
        routes:
          - match: { path: / }
            respond: { status: 200, body: "x" }
        """

    @Test("No line per closed connection at the default level; shown at info")
    func quietByDefault() async throws {
        let path = try CLITests.writeConfig(Self.config)
        let loud = try await RunningTacet.start(arguments: ["serve", "--config", path, "--threads", "1", "--log-level", "info"])
        #expect(await loud.fetch() == "x")
        #expect(await loud.waitForStderr("connection closed"), "the control: info shows the line")
        #expect(await loud.terminate() == 0)

        let quiet = try await RunningTacet.start(arguments: ["serve", "--config", path, "--threads", "1"])
        #expect(await quiet.fetch() == "x")
        #expect(await quiet.terminate() == 0)
        #expect(await quiet.waitForStderr("shutting down"), "notice lines still show")
        #expect(!quiet.stderr.contains("connection closed"), "\(quiet.stderr)")
    }

    @Test("Every command's help, at any width, has no line broken inside a sentence")
    func helpParagraphs() throws {
        let commands: [[String]] = [[], ["serve"], ["check"], ["probe"], ["probe", "run"], ["probe", "origin"], ["probe", "explain"]]
        for command in commands {
            // Wide enough that nothing wraps: any break left is one the source put there.
            // posix_spawn: Foundation's pipes and Process have crashed under parallel suites.
            let help = try #require(Spawn.run(try RunningTacet.binaryPath(), command + ["--help"], environment: ["COLUMNS": "100000"]))
            #expect(help.status == 0)
            let lines = String(decoding: help.output, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for (line, next) in zip(lines, lines.dropFirst()) {
                guard let last = line.last, let first = next.drop(while: { $0 == " " }).first else { continue }
                let continues = (last.isLetter || last == ",") && (first.isLowercase || first == "`")
                #expect(!continues, "tacet \(command.joined(separator: " ")) --help breaks a sentence: '\(line)' / '\(next)'")
            }
        }
    }
}
