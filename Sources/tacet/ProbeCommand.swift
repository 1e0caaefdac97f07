import ArgumentParser
import Foundation
import NIOSSL
import TacetProbe
import TacetProbeTLS

/// `tacet probe`: shows how a server treats a client that half-closes, one verdict per scenario,
/// as a conformance test: exit 0 when every scenario conforms, 1 when one does not (named on
/// stderr), 2 when it could not test (a bad argument, a refused connection, a failed handshake).
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probe a server's half-close handling; exit 0 when it conforms, 1 when not, 2 when it could not test.",
        discussion: """
            `tacet probe URL` (or `tacet probe --tcp HOST:PORT`) runs each scenario on its own \
            connection and judges what came back against what the origin sent (with --origin) or a \
            baseline request; its options: `tacet probe run --help`. SCENARIOS: \
            \(ProbeScenario.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")). \
            VERDICTS (✗ = does not conform): \
            \(Verdict.Kind.allCases.map { "\($0.conforms == false ? "✗ " : "")\($0.rawValue): \($0.meaning)" }.joined(separator: "; ")). \
            With --origin HOST:PORT the probe runs its own origin there (HTTP; TCP on the next port): \
            point the proxy under test at it and the probe also sees whether requests were forwarded, \
            whether the proxy spares its backend after the client's close(), and whether a TCP proxy \
            delivers a reply sent after the client's FIN (`tacet probe origin` runs one alone; \
            --use-origin reads it). `tacet probe explain` says what each scenario expects and why \
            (RFC 9112 §9.6). Exit codes: 0 every scenario conforms (or its verdict is --allow'ed), \
            1 one does not (named on stderr), 2 could not test.
            """,
        subcommands: [ProbeRunCommand.self, OriginCommand.self, ExplainCommand.self],
        defaultSubcommand: ProbeRunCommand.self)
}

/// `tacet probe [run] URL`: the scenarios against one server, as a table, Markdown or JSON.
struct ProbeRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the scenarios against a URL (or --tcp HOST:PORT): the default of `tacet probe`.",
        discussion: """
            Over https every scenario that half-closes runs twice: with TLS's close_notify, and with a \
            bare TCP FIN. Scenarios and verdicts: `tacet probe --help`, `tacet probe explain`.
            """)

    @Argument(help: "The URL to probe: http[s]://HOST:PORT/PATH (omit with --tcp).")
    var url: String?

    @Option(name: .customLong("tcp"), help: ArgumentHelp("Probe a TCP proxy at HOST:PORT instead of an HTTP URL.", valueName: "host:port"))
    var tcpAddress: String?

    @Flag(help: "Print machine-readable JSON, with every timeline (same as --format json).")
    var json = false

    @Option(help: "Output: text (default), markdown or json.")
    var format: String = "text"

    @Option(help: ArgumentHelp("Run the probe's own origin here (HTTP; its TCP service on the next port) and judge by what it saw too.", valueName: "host:port"))
    var origin: String?

    @Option(name: .customLong("origin-tcp"), help: ArgumentHelp("With --origin: its TCP service's address (default: the next port).", valueName: "host:port"))
    var originTCP: String?

    @Option(name: .customLong("use-origin"), help: ArgumentHelp("Judge by a `tacet probe origin` already running here (on this machine).", valueName: "host:port"))
    var useOrigin: String?

    @Option(help: ArgumentHelp("Accept this verdict as conforming (repeatable), e.g. aborts-on-half-close for nginx's default by design.", valueName: "verdict"))
    var allow: [String] = []

    @Option(help: ArgumentHelp("A scenario's own path (repeatable), e.g. close=/slow; with an origin its tag is added.", valueName: "scenario=path"))
    var path: [String] = []

    @Option(help: "With an origin: ms its answer takes in half-close and body.")
    var slowMs: Int = 300

    @Option(help: "With an origin: ms its answer takes in close.")
    var closeMs: Int = 2000

    @Option(help: "With an origin: ms after the FIN its TCP service replies.")
    var lateMs: Int = 1000

    @Option(help: "Run one scenario by name (the baseline runs too, for comparison).")
    var scenario: String?

    @Option(help: "Seconds each scenario may wait to connect, and again to read.")
    var timeout: Double = 5

    @Option(name: .customLong("repeat"), help: "Run the suite N times and say when repetitions disagree.")
    var repetitions: Int = 1

    @Option(name: [.customShort("H"), .customLong("header")], help: "Extra header 'Name: value' (repeatable).")
    var headers: [String] = []

    @Option(help: "Method of the plain requests.")
    var method: String = "GET"

    @Option(help: "Body bytes for the body scenario, and bytes sent with --tcp.")
    var bodySize: Int = 1024

    @Option(help: "Path that rejects a 2 MiB body, for reject-body (default: the URL's path; same as --path reject-body=PATH).")
    var rejectPath: String?

    @Option(help: "Method for reject-body.")
    var rejectMethod: String = "POST"

    @Flag(help: "Print each scenario's timeline under the table.")
    var timeline = false

    @Flag(help: "https: accept any certificate (self-signed servers).")
    var insecure = false

    @Option(help: ArgumentHelp("https: trust the CA certificates in this PEM file instead of the system's.", valueName: "file"))
    var ca: String?

    @Flag(help: """
        Probe HTTP/2 instead (ALPN h2 over https; prior knowledge over http): h2-end-stream (HEADERS \
        with END_STREAM, answered?), h2-rst-stream (RST_STREAM while waiting: does the next stream \
        get answered?), h2-fin-in-flight (a stream in flight, then FIN or close_notify: answered?).
        """)
    var http2 = false

    @Option(help: "--http2: ms to wait for the answer before h2-rst-stream resets the stream.")
    var resetAfter: Int = 100

    func run() throws {
        do {
            if http2 {
                try runHTTP2()
                return
            }
            var (probe, scenarios) = try makeProbe()
            let allowed = try allowedKinds()
            guard ["text", "markdown", "json"].contains(format) else { throw ProbeError("--format is text, markdown or json") }
            var relay: TLSRelay?
            var running: ProbeOrigin?
            defer {
                relay?.shutdown()
                running?.stop()
            }
            if case .http(let http) = probe.target, http.isTLS || probe.options.rejectTarget?.isTLS == true {
                relay = try makeRelay()
                probe.options.tls = relay
            } else if insecure || ca != nil {
                throw ProbeError("--insecure and --ca are for https URLs")
            }
            (probe.options.origin, running) = try originView()
            let report = try probe.run(scenarios: scenarios, repetitions: repetitions)
            switch json ? "json" : format {
            case "json": print(try ReportRenderer.json(report))
            case "markdown": print(ReportRenderer.markdown(report, allowing: allowed))
            default: print(ReportRenderer.table(report, timelines: timeline, allowing: allowed))
            }
            let (failing, untested) = report.nonconforming(allowing: allowed)
            for row in failing {
                FileHandle.standardError.write(Data("tacet probe: does not conform: \(row.name): \(row.verdict.kind.rawValue): \(row.verdict.text)\n".utf8))
            }
            for row in untested {
                FileHandle.standardError.write(Data("tacet probe: could not test: \(row.name): \(row.verdict.text)\n".utf8))
            }
            if !failing.isEmpty { throw ExitCode(1) }
            if !untested.isEmpty { throw ExitCode(2) }
        } catch let error as ProbeError {
            FileHandle.standardError.write(Data("tacet probe: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// `--origin` (started here; the caller stops it) or `--use-origin`, or neither.
    private func originView() throws -> ((any OriginView)?, ProbeOrigin?) {
        switch (origin, useOrigin) {
        case (let address?, nil):
            let (host, port) = try Self.hostPort(address, "--origin")
            let tcpPort = try originTCP.map { try Self.hostPort($0, "--origin-tcp").1 }
            let running: ProbeOrigin
            do { running = try ProbeOrigin(host: host, httpPort: port, tcpPort: tcpPort) } catch { throw ProbeError("\(error)") }
            return (LocalOrigin(running), running)
        case (nil, let address?):
            let (host, port) = try Self.hostPort(address, "--use-origin")
            return (RemoteOrigin(host: host, port: port), nil)
        case (.some, .some):
            throw ProbeError("give either --origin or --use-origin, not both")
        case (nil, nil):
            return (nil, nil)
        }
    }

    private func allowedKinds() throws -> Set<Verdict.Kind> {
        Set(try allow.map { name in
            guard let kind = Verdict.Kind(rawValue: name) else {
                throw ProbeError("unknown verdict '\(name)' for --allow; one of: \(Verdict.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        })
    }

    /// `HOST:PORT` (IPv6 in brackets) for a listening address: port 0, any free port, allowed.
    static func hostPort(_ text: String, _ option: String) throws -> (String, Int) {
        guard let address = try? ProbeTarget.parseListen(text) else {
            throw ProbeError("\(option): expected HOST:PORT, not '\(text)'")
        }
        return address
    }

    /// Turns the arguments into a probe; every mistake is a one-line ProbeError.
    private func makeProbe() throws -> (Probe, [ProbeScenario]?) {
        guard timeout > 0, timeout <= 3600 else { throw ProbeError("--timeout must be between 0 and 3600 seconds") }
        guard (1...1000).contains(repetitions) else { throw ProbeError("--repeat must be between 1 and 1000") }
        guard bodySize >= 0, bodySize <= 1 << 30 else { throw ProbeError("--body-size must be between 0 and 1 GiB") }
        guard method.allSatisfy({ $0.isLetter || $0 == "-" }), !method.isEmpty else { throw ProbeError("invalid --method '\(method)'") }
        var options = ProbeOptions()
        options.timeout = timeout
        options.finWait = min(1, timeout)
        options.method = method.uppercased()
        options.bodySize = bodySize
        options.rejectMethod = rejectMethod.uppercased()
        options.headers = try headers.map(Self.parseHeader)

        let target: ProbeTarget
        switch (url, tcpAddress) {
        case (let url?, nil):
            var http = try HTTPTarget.parse(url)
            target = .http(http)
            if let rejectPath {
                guard rejectPath.hasPrefix("/") else { throw ProbeError("--reject-path must start with /") }
                http.path = rejectPath
                options.rejectTarget = http
            }
        case (nil, let address?):
            target = try ProbeTarget.parseTCP(address)
        case (nil, nil):
            throw ProbeError("give a URL (http[s]://HOST:PORT/PATH) or --tcp HOST:PORT")
        case (.some, .some):
            throw ProbeError("give either a URL or --tcp, not both")
        }
        options.slowMs = slowMs
        options.closeMs = closeMs
        options.lateReplyMs = lateMs
        guard [slowMs, closeMs, lateMs].allSatisfy({ (0...60_000).contains($0) }) else {
            throw ProbeError("--slow-ms, --close-ms and --late-ms must be between 0 and 60000")
        }
        for item in path {
            guard let equals = item.firstIndex(of: "="), let chosen = ProbeScenario(rawValue: String(item[..<equals])) else {
                throw ProbeError("--path expects SCENARIO=PATH with a scenario name, not '\(item)'")
            }
            let value = String(item[item.index(after: equals)...])
            guard value.hasPrefix("/"), !value.contains(" "), !value.contains("\r"), !value.contains("\n") else {
                throw ProbeError("--path \(chosen.rawValue): the path must start with / and have no spaces")
            }
            options.paths[chosen] = value
        }
        var scenarios: [ProbeScenario]?
        if let scenario {
            guard let chosen = ProbeScenario(rawValue: scenario) else {
                let names = ProbeScenario.allCases.map(\.rawValue).joined(separator: ", ")
                throw ProbeError("unknown scenario '\(scenario)'; one of: \(names)")
            }
            scenarios = [chosen]
        }
        return (Probe(target: target, options: options), scenarios)
    }

    /// `--http2`: the HTTP/2 scenarios, on connections of their own.
    private func runHTTP2() throws {
        guard let url, tcpAddress == nil else { throw ProbeError("--http2 needs a URL (http[s]://HOST:PORT/PATH)") }
        guard timeout > 0, timeout <= 3600 else { throw ProbeError("--timeout must be between 0 and 3600 seconds") }
        guard (1...60_000).contains(resetAfter) else { throw ProbeError("--reset-after must be between 1 and 60000 ms") }
        let target = try HTTPTarget.parse(url)
        if !target.isTLS && (insecure || ca != nil) { throw ProbeError("--insecure and --ca are for https URLs") }
        var probe = HTTP2Probe(target: target, trust: try trust(), timeout: timeout, resetAfterMs: resetAfter)
        let (view, running) = try originView()
        defer { running?.stop() }
        probe.origin = view
        probe.slowMs = slowMs
        probe.resetSlowMs = closeMs
        let results = try probe.run()
        if json || format == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        } else {
            print(HTTP2Probe.table(results, target: target))
        }
        let failing = results.filter { $0.conforms == false && !allow.contains($0.kind) }
        for result in failing {
            FileHandle.standardError.write(Data("tacet probe: does not conform: \(result.scenario.rawValue): \(result.kind): \(result.text)\n".utf8))
        }
        if !failing.isEmpty { throw ExitCode(1) }
        if results.contains(where: { $0.conforms == nil }) { throw ExitCode(2) }
    }

    private func trust() throws -> TLSRelay.Trust {
        switch (insecure, ca) {
        case (true, .some): throw ProbeError("give either --insecure or --ca, not both")
        case (true, nil): return .none
        case (false, let file?):
            do { return .certificates(try NIOSSLCertificate.fromPEMFile(file)) } catch {
                throw ProbeError("cannot read --ca \(file): \(error)")
            }
        case (false, nil): return .system
        }
    }

    private func makeRelay() throws -> TLSRelay {
        let trust = try trust()
        do { return try TLSRelay(trust: trust) } catch { throw ProbeError("cannot start the TLS relay: \(error)") }
    }

    static func parseHeader(_ text: String) throws -> (String, String) {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
            throw ProbeError("invalid header '\(text)': expected 'Name: value'")
        }
        let name = String(text[..<colon])
        let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !name.contains(" "), !text.contains("\r"), !text.contains("\n") else {
            throw ProbeError("invalid header '\(text)'")
        }
        return (name, value)
    }
}
