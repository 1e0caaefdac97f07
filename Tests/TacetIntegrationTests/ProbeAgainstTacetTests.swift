import Foundation
import NIOCore
import TacetHTTP
import TacetProbe
import TacetStatic
import TacetTestSupport
import Testing

/// `tacet probe` as a library, pointed at an in-process Tacet: every scenario of the HTTP suite
/// must get the verdict kind that describes a server that treats a half-close as TCP means it.
/// Verdict kinds are asserted, not sentences (those are unit-tested in TacetProbeTests).
@Suite("Probe against Tacet")
struct ProbeAgainstTacetTests {
    static let fixedBody = "hello from tacet\n"
    let fixed = FixedResponder(status: .ok, body: ProbeAgainstTacetTests.fixedBody)

    /// Starts Tacet with `responder` on every path, runs `body`, stops Tacet whatever happens.
    func withTacet<T>(settings: ServerSettings = ServerSettings(), _ responder: any Responder,
                      _ body: (LiveServer) async throws -> T) async throws -> T {
        let live = try await LiveServer.start(settings: settings, responder)
        return try await whileRunning(live) { try await body(live) }
    }

    /// Runs the probe on its own thread: it blocks in poll(2) and must not hold a cooperative thread.
    func probe(_ live: LiveServer, path: String = "/", _ scenarios: [ProbeScenario]? = nil,
               repetitions: Int = 1, options: ProbeOptions = ProbeOptions()) async throws -> ProbeReport {
        var options = options
        // Tacet sends its FIN at once; a loaded machine may take longer than the default 1 s.
        options.finWait = 10
        let probe = Probe(target: .http(HTTPTarget(host: "127.0.0.1", port: live.port, path: path)), options: options)
        return try await blocking { try probe.run(scenarios: scenarios, repetitions: repetitions) }
    }

    /// The single result of a one-scenario run; the report's baseline is not in `results` then
    /// (nor is body's own baseline, baseline-body).
    func only(_ scenario: ProbeScenario, in report: ProbeReport) throws -> ScenarioResult {
        let results = try #require(report.runs.first?.results).filter { $0.scenario != .baselineBody || scenario == .baselineBody }
        try #require(results.count == 1, "results: \(results.map(\.scenario))")
        let result = results[0]
        try #require(result.scenario == scenario)
        return result
    }

    /// One line to show when an expectation fails: the verdict sentence and the timeline.
    func explain(_ result: ScenarioResult) -> Comment {
        let lines = ReportRenderer.timeline(result.outcome.timeline).joined(separator: "\n")
        return "\(result.verdict.kind.rawValue): \(result.verdict.text)\n\(lines)"
    }

    func ms(_ kind: TimelineEvent.Kind, in outcome: ScenarioOutcome) -> Double? { outcome.time(of: kind) }

    // MARK: baseline

    @Test("baseline: answers, connection kept open")
    func baseline() async throws {
        try await withTacet(fixed) { live in
            let result = try only(.baseline, in: try await probe(live, [.baseline]))
            #expect(result.verdict.kind == .answers, explain(result))
            #expect(result.outcome.completeFinals.map(\.status) == [200])
            #expect(result.outcome.completeFinals.first?.bodyBytes == Self.fixedBody.utf8.count)
            // The baseline stops reading at its response: keep-alive, not a FIN.
            #expect(result.outcome.end == .open, explain(result))
            #expect(noEvents([.rst, .fin], in: result))
        }
    }

    // MARK: half-close

    enum Route: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case fixed, slow, staticFile
        var testDescription: String { rawValue }
    }

    @Test("half-close: answers half-closed clients, then FIN", arguments: Route.allCases)
    func halfClose(_ route: Route) async throws {
        let delayed = DelayedResponder(delay: .milliseconds(300))
        var path = "/"
        var expectedBytes = Self.fixedBody.utf8.count
        let responder: any Responder
        switch route {
        case .fixed:
            responder = fixed
        case .slow:
            responder = delayed
            expectedBytes = delayed.body.utf8.count
        case .staticFile:
            let root = NSTemporaryDirectory() + "tacet-probe-static-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            expectedBytes = 200_000
            try Data(repeating: UInt8(ascii: "s"), count: expectedBytes).write(to: URL(fileURLWithPath: root + "/file.bin"))
            responder = StaticResponder(root: root)
            path = "/file.bin"
        }
        try await withTacet(responder) { live in
            let report = try await probe(live, path: path, [.halfClose])
            let result = try only(.halfClose, in: report)
            #expect(result.verdict.kind == .answers, explain(result))
            #expect(result.outcome.completeFinals.map(\.status) == [200], explain(result))
            #expect(result.outcome.completeFinals.first?.bodyBytes == expectedBytes)
            #expect(result.outcome.end == .fin, explain(result))
            // The baseline it was compared with got the same answer.
            #expect(report.runs.first?.baseline?.verdict.kind == .answers)
            if route == .slow {
                // The half-close came while the route was still working: it answered anyway, after its
                // delay (a lower bound only), and was never cancelled.
                let status = try #require(ms(.statusLine, in: result.outcome))
                let shutdown = try #require(ms(.shutdownWrite, in: result.outcome))
                #expect(status - shutdown >= 200, explain(result))
                #expect(delayed.recorder.contains("halfclose"))
                #expect(!delayed.recorder.all.contains { $0.hasPrefix("cancel") }, "\(delayed.recorder.all)")
                #expect(delayed.recorder.count("respond") == 3, "baseline (twice: are bodies stable?) and half-close: \(delayed.recorder.all)")
            }
        }
    }

    // MARK: pipelined

    @Test("pipelined: 3 of 3 answered after a half-close, then FIN", arguments: [Route.fixed, .slow])
    func pipelined(_ route: Route) async throws {
        let responder: any Responder = route == .slow ? DelayedResponder(delay: .milliseconds(100)) : fixed
        try await withTacet(responder) { live in
            let result = try only(.pipelined, in: try await probe(live, [.pipelined]))
            #expect(result.verdict.kind == .answers, explain(result))
            #expect(result.outcome.completeFinals.map(\.status) == [200, 200, 200], explain(result))
            #expect(result.outcome.end == .fin, explain(result))
            #expect(result.outcome.trailingBytes == 0)
        }
    }

    // MARK: body

    @Test("body: a request with a body, then SHUT_WR, is answered, then FIN")
    func body() async throws {
        try await withTacet(BodyCountResponder()) { live in
            var options = ProbeOptions()
            options.bodySize = 100_000
            let result = try only(.body, in: try await probe(live, [.body], options: options))
            #expect(result.verdict.kind == .answers, explain(result))
            #expect(result.outcome.completeFinals.map(\.status) == [200], explain(result))
            // BodyCountResponder says "got N bytes\n": the whole body reached the route.
            #expect(result.outcome.completeFinals.first?.bodyBytes == "got 100000 bytes\n".utf8.count)
            #expect(result.outcome.end == .fin, explain(result))
        }
    }

    // MARK: half-headers

    @Test("half-headers: 400 with Connection: close, then FIN at once")
    func halfHeaders() async throws {
        try await withTacet(fixed) { live in
            let result = try only(.halfHeaders, in: try await probe(live, [.halfHeaders]))
            // A response to half a header block is judged like any answer; a 400 then FIN is "answers".
            #expect(result.verdict.kind == .answers, explain(result))
            #expect(result.outcome.completeFinals.map(\.status) == [400], explain(result))
            #expect(result.outcome.end == .fin, explain(result))
            // "At once": no waiting for a header timeout (60 s by default) or a linger timeout.
            let shutdown = try #require(ms(.shutdownWrite, in: result.outcome))
            let fin = try #require(ms(.fin, in: result.outcome))
            #expect(fin - shutdown < 1000, explain(result))
        }
    }

    // MARK: idle

    @Test("idle: an idle half-closed connection gets a clean FIN")
    func idle() async throws {
        try await withTacet(fixed) { live in
            let result = try only(.idle, in: try await probe(live, [.idle]))
            #expect(result.verdict.kind == .closes, explain(result))
            #expect(result.outcome.responses.isEmpty)
            #expect(result.outcome.bytesReceived == 0)
            #expect(result.outcome.end == .fin, explain(result))
        }
    }

    // MARK: reject-body

    @Test("reject-body: 2 MiB over the 1 MiB limit: a whole 413, then FIN, no RST")
    func rejectBodyOverLimit() async throws {
        try await withTacet(fixed) { live in
            let result = try only(.rejectBody, in: try await probe(live, [.rejectBody]))
            #expect(result.verdict.kind == .answers, explain(result))
            #expect(result.outcome.completeFinals.map(\.status) == [413], explain(result))
            #expect(result.outcome.end == .fin, explain(result))
            #expect(!result.outcome.writeFailedByReset, explain(result))
            #expect(result.outcome.writeError == nil, explain(result))
            #expect(noEvents([.rst], in: result))
        }
    }

    @Test("reject-body: 2 MiB within a 4 MiB limit to a route that never reads it: a whole 200, no RST")
    func rejectBodyUnreadBody() async throws {
        var settings = ServerSettings()
        settings.parserLimits.maxBodySize = 4 << 20
        try await withTacet(settings: settings, fixed) { live in
            let result = try only(.rejectBody, in: try await probe(live, [.rejectBody]))
            #expect(![.resetDestroyedResponse, .answersThenReset, .resets].contains(result.verdict.kind), explain(result))
            #expect(result.outcome.completeFinals.map(\.status) == [200], explain(result))
            #expect(result.outcome.completeFinals.first?.bodyBytes == Self.fixedBody.utf8.count)
            #expect(!result.outcome.writeFailedByReset, explain(result))
            #expect(result.outcome.writeError == nil, explain(result))
            #expect(result.outcome.end != .rst, explain(result))
            #expect(noEvents([.rst], in: result))
            // The probe neither half-closed nor sent Connection: close, so Tacet discards the unread
            // body and keeps the connection alive: plain keep-alive, which the probe calls "answers".
            #expect(result.verdict.kind == .answers, explain(result))
        }
    }

    // MARK: close

    @Test("close: reported as unknowable from the client side")
    func close() async throws {
        let delayed = DelayedResponder(delay: .milliseconds(100))
        try await withTacet(delayed) { live in
            let result = try only(.close, in: try await probe(live, [.close]))
            #expect(result.verdict.kind == .info, explain(result))
            #expect(result.outcome.connectError == nil)
            #expect(result.outcome.timeline.contains { $0.kind == .closed })
            // Tacet lets go of the connection either way.
            #expect(await live.waitForNoConnections())
        }
    }

    // MARK: JSON report

    struct Document: Decodable {
        var target: String
        var summaries: [ProbeReport.Summary]
        var runs: [ProbeRun]
    }

    @Test("ReportRenderer.json of the whole suite against Tacet decodes back with names and kinds")
    func jsonReport() async throws {
        try await withTacet(fixed) { live in
            let report = try await probe(live, repetitions: 2)
            let json = try ReportRenderer.json(report)
            let document = try JSONDecoder().decode(Document.self, from: Data(json.utf8))

            #expect(document.target == "http://127.0.0.1:\(live.port)/")
            #expect(document.runs.count == 2)
            #expect(document.summaries.map(\.scenario) == ProbeScenario.httpSuite)
            let expected: [ProbeScenario: Verdict.Kind] = [
                .baseline: .answers, .halfClose: .answers, .pipelined: .answers, .baselineBody: .answers, .body: .answers,
                .halfHeaders: .answers, .idle: .closes, .rejectBody: .answers, .close: .info,
            ]
            for summary in document.summaries {
                #expect(summary.verdict.kind == expected[summary.scenario], "\(summary.scenario.rawValue): \(summary.verdict.text)")
                #expect(summary.disagreement == nil, "\(summary.scenario.rawValue): \(summary.disagreement ?? [])")
            }
            // Same as what the report said before encoding.
            #expect(document.summaries.map(\.verdict) == report.summaries.map(\.verdict))
            #expect(document.runs.map { $0.results.map(\.verdict.kind) } == report.runs.map { $0.results.map(\.verdict.kind) })

            // The names on the wire are the CLI's scenario names and the kinds' raw values.
            let raw = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let summaries = try #require(raw["summaries"] as? [[String: Any]])
            let names = summaries.compactMap { $0["scenario"] as? String }
            #expect(names == ["baseline", "half-close", "pipelined", "baseline-body", "body", "half-headers", "idle", "reject-body", "close"])
            let kinds = summaries.compactMap { ($0["verdict"] as? [String: Any])?["kind"] as? String }
            #expect(kinds == ["answers", "answers", "answers", "answers", "answers", "answers", "closes", "answers", "info"])
        }
    }

    /// True when the timeline has none of `kinds` (e.g. no RST event at all).
    func noEvents(_ kinds: [TimelineEvent.Kind], in result: ScenarioResult) -> Bool {
        !result.outcome.timeline.contains { kinds.contains($0.kind) }
    }
}
