import ArgumentParser
import Foundation
import NIOSSL
import TacetProbe
import TacetProbeTLS

/// `tacet probe`: shows how a server treats a client that half-closes, one verdict per scenario.
/// Exit code 0 whenever the probe ran, whatever the verdicts; 2 on a bad argument, a refused
/// connection, a DNS failure or a failed TLS handshake.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probe a server's half-close handling.",
        discussion: """
            Runs each scenario on its own connection and prints one plain-words verdict per scenario, \
            compared with a baseline request. Scenarios: \
            \(ProbeScenario.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")). \
            reject-body sends its 2 MiB with --reject-method (POST) to --reject-path (default: the URL's path). \
            Over https every scenario that half-closes runs twice: with TLS's close_notify, and with a \
            bare TCP FIN; the table says how the server ended TLS (close_notify, FIN without close_notify, RST).
            """)

    @Argument(help: "The URL to probe: http[s]://HOST:PORT/PATH (omit with --tcp).")
    var url: String?

    @Option(name: .customLong("tcp"), help: ArgumentHelp("Probe a TCP proxy at HOST:PORT instead of an HTTP URL.", valueName: "host:port"))
    var tcpAddress: String?

    @Flag(help: "Print machine-readable JSON, with every timeline.")
    var json = false

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

    @Option(help: "Path that rejects a 2 MiB body, for reject-body (default: the URL's path).")
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
            var relay: TLSRelay?
            defer { relay?.shutdown() }
            if case .http(let http) = probe.target, http.isTLS || probe.options.rejectTarget?.isTLS == true {
                relay = try makeRelay()
                probe.options.tls = relay
            } else if insecure || ca != nil {
                throw ProbeError("--insecure and --ca are for https URLs")
            }
            let report = try probe.run(scenarios: scenarios, repetitions: repetitions)
            print(json ? try ReportRenderer.json(report) : ReportRenderer.table(report, timelines: timeline))
        } catch let error as ProbeError {
            FileHandle.standardError.write(Data("tacet probe: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
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
        let probe = HTTP2Probe(target: target, trust: try trust(), timeout: timeout, resetAfterMs: resetAfter)
        let results = try probe.run()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        } else {
            print(HTTP2Probe.table(results, target: target))
        }
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
