import Foundation
import TacetProbe
import TacetTestSupport
import Testing

/// Signals to the real `tacet serve`: SIGHUP reloads (and refuses a bad file, naming file and
/// line, while the old configuration keeps serving), SIGUSR1 reopens the access log, SIGTERM
/// lets slow requests finish before exiting 0.
@Suite("signals", .serialized)
struct SignalCLITests {
    static func respondConfig(body: String, extra: String = "") -> String {
        """
        listen: ["127.0.0.1:0"]
        access_log: off
        \(extra)
        routes:
          - match: { path: / }
            respond: { status: 200, body: "\(body)" }
        """
    }

    @Test("SIGHUP with a bad file: error with file:line logged, old config serves; a good file then reloads")
    func badConfigOnReload() async throws {
        let path = try CLITests.writeConfig(Self.respondConfig(body: "old"))
        let tacet = try await RunningTacet.start(config: path)
        #expect(await tacet.fetch() == "old")

        try "listen: [\"127.0.0.1:0\"]\nroutes:\n  - match: { path: / }\n    static: { roots: /tmp }\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        tacet.signal(SIGHUP)
        #expect(await tacet.waitForStderr("reload refused"))
        #expect(tacet.stderr.contains("\(path):4:15: routes[0].static: unknown key 'roots'"), "\(tacet.stderr)")
        #expect(await tacet.fetch() == "old")

        try Self.respondConfig(body: "new").write(toFile: path, atomically: true, encoding: .utf8)
        tacet.signal(SIGHUP)
        #expect(await tacet.waitForStderr("reloaded"))
        #expect(await tacet.fetch() == "new")
        #expect(await tacet.terminate() == 0)
    }

    @Test("SIGUSR1 after the access log was renamed away: new lines go to a new file at the path")
    func reopenAccessLog() async throws {
        let directory = NSTemporaryDirectory() + "tacet-logs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = directory + "/access.log"
        let path = try CLITests.writeConfig(Self.respondConfig(body: "hi")
            .replacingOccurrences(of: "access_log: off", with: "access_log: { path: \(log), format: json }"))
        let tacet = try await RunningTacet.start(config: path)
        #expect(await tacet.fetch("/before") == "hi")
        #expect(await eventually { Self.lines(log).count == 1 })
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")

        tacet.signal(SIGUSR1)
        #expect(await tacet.waitForStderr("access log reopened"))
        #expect(await tacet.fetch("/after") == "hi")
        #expect(await eventually { Self.lines(log).count == 1 })
        #expect(Self.lines(log).first?.contains("\"target\":\"/after\"") == true)
        #expect(Self.lines(log + ".1").count == 1)
        #expect(Self.lines(log + ".1").first?.contains("\"target\":\"/before\"") == true)
        #expect(await tacet.terminate() == 0)
    }

    @Test("SIGTERM with slow proxied requests in flight: they complete, then FIN, then exit 0")
    func gracefulStopFinishesSlowRequests() async throws {
        let backend = try await TestBackend(timing: .gated)
        try await whileRunning(backend) {
            let path = try CLITests.writeConfig("""
                listen: ["127.0.0.1:0"]
                access_log: off
                shutdown_timeout: 60s
                routes:
                  - match: { path: / }
                    proxy: { to: "127.0.0.1:\(backend.port)" }
                """)
            let tacet = try await RunningTacet.start(config: path)
            var clients: [OffPoolClient] = []
            for i in 0..<3 {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: tacet.port)
                try await client.write(get("/slow\(i)"))
                clients.append(client)
            }
            #expect(await eventually(timeout: 10) { backend.recorder.all.filter { $0.hasPrefix("request GET /slow") }.count == 3 })

            tacet.signal(SIGTERM)
            // Accepting stops first: a new connection is refused once the listener is closed.
            #expect(await eventually(timeout: 10) {
                (try? await OffPoolClient.connect(host: "127.0.0.1", port: tacet.port, timeout: 1)) == nil
            })
            #expect(tacet.process.isRunning)
            backend.release()
            for client in clients {
                let result = await client.readToEnd(timeout: 10)
                let response = result.responses().finalResponses.first
                #expect(response?.status == 200)
                #expect(response?.bodyString == "backend says hi\n")
                #expect(result.end == .fin)
                try? client.shutdownWrite()
            }
            #expect(await tacet.waitForExit() == 0)
        }
    }

    @Test("SIGHUP when serving a directory without a config file: logged, nothing changes")
    func reloadWithoutConfigFile() async throws {
        let tacet = try await RunningTacet.start(arguments: [
            "serve", "--listen", "127.0.0.1:0", "--root", NSTemporaryDirectory(), "--threads", "1",
        ])
        tacet.signal(SIGHUP)
        #expect(await tacet.waitForStderr("nothing to reload"), "\(tacet.stderr)")
        #expect(tacet.process.isRunning)
        #expect(await tacet.terminate() == 0)
    }

    @Test("log_level from the file, applied again on reload; --log-level wins over it")
    func logLevel() async throws {
        let path = try CLITests.writeConfig(Self.respondConfig(body: "x", extra: "log_level: warning"))
        let tacet = try await RunningTacet.start(config: path)
        // Signals are handled in order: once "reloaded" shows, the SIGUSR1 before it was handled
        // at level warning, which hides its info line.
        tacet.signal(SIGUSR1)
        try Self.respondConfig(body: "x", extra: "log_level: info").write(toFile: path, atomically: true, encoding: .utf8)
        tacet.signal(SIGHUP)
        #expect(await tacet.waitForStderr("reloaded"))
        #expect(!tacet.stderr.contains("access log reopened"))
        tacet.signal(SIGUSR1)
        #expect(await tacet.waitForStderr("access log reopened"))
        #expect(await tacet.terminate() == 0)

        let overridden = try CLITests.writeConfig(Self.respondConfig(body: "x", extra: "log_level: error"))
        let loud = try await RunningTacet.start(arguments: ["serve", "--config", overridden, "--log-level", "debug"])
        loud.signal(SIGUSR1)
        #expect(await loud.waitForStderr("access log reopened"))
        #expect(await loud.terminate() == 0)
    }

    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
