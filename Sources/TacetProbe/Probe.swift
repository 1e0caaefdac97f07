/// The probe as a library: runs scenarios against a target and returns a report. Used by
/// `tacet probe` and by tests that probe a server in-process.
public struct Probe: Sendable {
    public var target: ProbeTarget
    public var options: ProbeOptions

    public init(target: ProbeTarget, options: ProbeOptions = ProbeOptions()) {
        self.target = target
        self.options = options
    }

    /// Runs one scenario with its own connection; compare with `baseline` when given. Over TLS,
    /// `ending` is how it half-closes.
    public func run(_ scenario: ProbeScenario, baseline: ScenarioOutcome? = nil, ending: TLSEnding? = nil) -> ScenarioResult {
        let outcome = ScenarioRunner(target: target, options: options).run(scenario, ending: ending)
        return ScenarioResult(outcome: outcome, verdict: Verdict.classify(outcome, baseline: baseline))
    }

    /// Runs `scenarios` (default: the whole suite for the target) `repetitions` times. Over HTTP the
    /// baselines always run first in each repetition, since verdicts compare with them (without an
    /// origin the baseline runs twice: bodies are compared only when those two agree).
    /// Over TLS every scenario that half-closes runs twice: with `close_notify`, then a bare FIN.
    /// Throws a one-line `ProbeError` when the very first connection fails (refused, DNS, timeout,
    /// a failed handshake): then there is no server to describe.
    public func run(scenarios: [ProbeScenario]? = nil, repetitions: Int = 1) throws -> ProbeReport {
        let isTCP: Bool = { if case .tcp = target { return true } else { return false } }()
        let isTLS: Bool = { if case .http(let http) = target { return http.isTLS } else { return false } }()
        if isTLS && options.tls == nil { throw ProbeError("cannot probe \(target): https needs a TLS connector") }
        var chosen = scenarios ?? (isTCP ? ProbeScenario.tcpSuite : ProbeScenario.httpSuite)
        if let wrong = chosen.first(where: { $0.isTCP != isTCP }) {
            throw ProbeError("scenario '\(wrong.rawValue)' needs \(isTCP ? "an http:// URL" : "--tcp HOST:PORT")")
        }
        if chosen.contains(.body), !chosen.contains(.baselineBody) {
            chosen.insert(.baselineBody, at: chosen.firstIndex(of: .body) ?? 0)
        }
        let plans = ProbePlan(target: target, options: options)
        let runner = ScenarioRunner(target: target, options: options)
        var runs: [ProbeRun] = []
        for repetition in 0..<max(1, repetitions) {
            var run = ProbeRun(baseline: nil, results: [])
            var context = VerdictContext()
            func result(_ scenario: ProbeScenario, _ ending: TLSEnding? = nil) -> ScenarioResult {
                let plan = plans.plan(scenario, repetition: repetition, ending: ending)
                let outcome = runner.run(scenario, ending: ending, plan: plan)
                var judged = context
                judged.origin = plan.tag.map { observe(scenario, tag: $0, outcome: outcome) }
                return ScenarioResult(outcome: outcome, verdict: Verdict.classify(outcome, context: judged), origin: judged.origin)
            }
            if !isTCP {
                let baseline = result(.baseline)
                if let error = baseline.outcome.connectError, runs.isEmpty { throw ProbeError(error) }
                run.baseline = baseline
                context.baseline = baseline.outcome
                if options.origin == nil {
                    let again = runner.run(.baseline, plan: plans.plan(.baseline, repetition: repetition, ending: nil))
                    context.bodiesStable = again.completeFinals.first?.bodyDigest == baseline.outcome.completeFinals.first?.bodyDigest
                    run.bodiesStable = context.bodiesStable
                }
            }
            for scenario in chosen {
                if scenario == .baseline, let baseline = run.baseline { run.results.append(baseline); continue }
                let endings: [TLSEnding?] = isTLS && scenario.halfCloses ? TLSEnding.allCases : [nil]
                for ending in endings {
                    let one = result(scenario, ending)
                    if let error = one.outcome.connectError, runs.isEmpty, run.results.isEmpty, isTCP { throw ProbeError(error) }
                    if scenario == .baselineBody { context.bodyBaseline = one.outcome }
                    run.results.append(one)
                }
            }
            runs.append(run)
        }
        return ProbeReport(target: target.description, runs: runs)
    }

    /// What the origin saw of a scenario, once it has settled: every request answered or its
    /// connection ended (the close scenario waits up to its slow answer), the TCP reply written.
    /// Scenarios that send no whole request look once: nothing should be there.
    private func observe(_ scenario: ProbeScenario, tag: String, outcome: ScenarioOutcome) -> OriginObservation {
        guard let origin = options.origin else { return OriginObservation() }
        let wanted = max(1, scenario.expectedResponses)
        switch scenario {
        case .halfHeaders, .idle:
            return origin.wait(tag: tag, timeout: 0) { _ in true }
        case .tcp:
            return origin.wait(tag: tag, timeout: options.timeout) { $0.tcp.first?.isSettled == true }
        case .close:
            return origin.wait(tag: tag, timeout: Double(options.closeMs) / 1000 + options.timeout) { $0.requests.first?.isSettled == true }
        default:
            // The origin files a request before it answers it: if nothing is there shortly after
            // the scenario ended, the proxy did not forward it (it answered, rejected or dropped
            // it itself). Once something is, wait for it to settle.
            let first = origin.wait(tag: tag, timeout: min(1, options.timeout)) { !$0.requests.isEmpty }
            guard !first.requests.isEmpty else { return first }
            // Fewer than asked for is all there will be once the client's connection has ended.
            let over = outcome.end == .fin || outcome.end == .rst
            return origin.wait(tag: tag, timeout: options.timeout) { seen in
                (seen.requests.count >= wanted || over) && seen.requests.allSatisfy(\.isSettled)
            }
        }
    }
}

/// A scenario's outcome and its verdict.
public struct ScenarioResult: Sendable, Codable {
    public var outcome: ScenarioOutcome
    public var verdict: Verdict
    /// What the probe's origin saw under the scenario's tag; nil without an origin.
    public var origin: OriginObservation?
    public var scenario: ProbeScenario { outcome.scenario }

    public init(outcome: ScenarioOutcome, verdict: Verdict, origin: OriginObservation? = nil) {
        self.outcome = outcome
        self.verdict = verdict
        self.origin = origin
    }
}

/// One pass over the chosen scenarios.
public struct ProbeRun: Sendable, Codable {
    public var baseline: ScenarioResult?
    public var results: [ScenarioResult]
    /// Without an origin: whether two baselines had the same body (bodies compared only then).
    public var bodiesStable = true

    public init(baseline: ScenarioResult?, results: [ScenarioResult]) {
        self.baseline = baseline
        self.results = results
    }
}

/// Every repetition, and per scenario whether the repetitions agreed.
public struct ProbeReport: Sendable, Codable {
    public var target: String
    public var runs: [ProbeRun]

    /// One row per scenario: the worst repetition's verdict, what was sent, what came back and
    /// what the origin saw, and every repetition when they differ.
    public struct Summary: Sendable, Codable {
        public var scenario: ProbeScenario
        /// The scenario's name with its TLS half-close, as the table shows it.
        public var name: String
        public var verdict: Verdict
        /// True when every repetition conforms; false when one does not; nil when one could not test.
        public var conforms: Bool?
        public var sent: String
        public var cameBack: String
        /// "-" without an origin.
        public var originSaw: String
        /// Nil when all repetitions agree on verdict, statuses, body, end and timing class; else
        /// one line per repetition.
        public var disagreement: [String]?
        /// Each repetition's verdict kind (a row fails when any is non-conforming and not allowed).
        public var kinds: [Verdict.Kind]
    }

    public var summaries: [Summary] {
        guard let first = runs.first else { return [] }
        return first.results.indices.map { index in
            let results = runs.compactMap { $0.results.indices.contains(index) ? $0.results[index] : nil }
            let stable = runs.allSatisfy(\.bodiesStable)
            let signatures = results.map { Self.signature($0, bodies: stable) }
            let worst = results.first { $0.verdict.kind.conforms == false } ?? results.first { $0.verdict.kind.conforms == nil } ?? results[0]
            let conforms: Bool? = results.contains { $0.verdict.kind.conforms == false } ? false
                : results.contains { $0.verdict.kind.conforms == nil } ? nil : true
            let disagreement = Set(signatures).count > 1
                ? zip(results, signatures).enumerated().map { "\($0.offset + 1): \($0.element.1) (\($0.element.0.verdict.text))" }
                : nil
            return Summary(scenario: worst.scenario, name: worst.outcome.name, verdict: worst.verdict, conforms: conforms,
                           sent: Self.sent(worst), cameBack: Self.cameBack(worst.outcome),
                           originSaw: worst.origin.map { Self.originSaw($0, worst.outcome) } ?? "-", disagreement: disagreement,
                           kinds: results.map(\.verdict.kind))
        }
    }

    /// The scenarios that do not conform (their verdict not in `allowed`) and those that could not be tested.
    public func nonconforming(allowing allowed: Set<Verdict.Kind> = []) -> (failing: [Summary], untested: [Summary]) {
        let rows = summaries
        let failing = rows.filter { row in row.kinds.contains { $0.conforms == false && !allowed.contains($0) } }
        return (failing, rows.filter { $0.conforms == nil })
    }

    /// What repetitions are compared on: verdict, final statuses (and body, when comparable),
    /// how the stream ended, and when the first answer came (under 100 ms, 1 s, 10 s, or later:
    /// decades, so ordinary jitter does not split a class, while a backend's delay or a timeout does).
    static func signature(_ result: ScenarioResult, bodies: Bool) -> String {
        let outcome = result.outcome
        let statuses = outcome.finalResponses.map { response -> String in
            var text = "\(response.status)" + (response.isComplete ? "" : " cut")
            if bodies, result.origin == nil, let digest = response.bodyDigest { text += " body \(digest.prefix(8))" }
            return text
        }
        let first = outcome.time(of: .statusLine) ?? outcome.endMs
        let timing = first.map { at -> String in
            let ms = at - outcome.actionMs
            return ms < 100 ? "<100 ms" : ms < 1000 ? "<1 s" : ms < 10_000 ? "<10 s" : ">=10 s"
        } ?? "-"
        return "\(result.verdict.kind.rawValue), [\(statuses.joined(separator: ", "))], \(outcome.end.rawValue), \(timing)"
    }

    static func sent(_ result: ScenarioResult) -> String {
        let path = result.outcome.path.map { " \($0.split(separator: "?").first.map(String.init) ?? $0)" } ?? ""
        return result.scenario.summary + path
    }

    /// "200 (37 B), FIN"; "103, 200 (37 B), FIN"; "nothing, RST"; "52 B, FIN" for TCP.
    static func cameBack(_ outcome: ScenarioOutcome) -> String {
        if let error = outcome.connectError { return "could not connect (\(error))" }
        var parts: [String]
        if outcome.scenario.isTCP {
            parts = [outcome.bytesReceived > 0 ? "\(outcome.bytesReceived) B" : "nothing"]
        } else {
            parts = outcome.responses.map { response in
                if response.isInterim { return "\(response.status)" }
                let cut = response.isComplete ? "" : " cut at \(response.bodyBytes)\(response.expectedBodyBytes.map { "/\($0)" } ?? "")"
                return "\(response.status) (\(response.bodyBytes) B\(cut))"
            }
            if parts.isEmpty { parts = [outcome.bytesReceived > 0 ? "\(outcome.bytesReceived) B, not HTTP" : "nothing"] }
        }
        switch outcome.end {
        case .fin: parts.append("FIN")
        case .rst: parts.append("RST")
        case .timeout, .open: parts.append(outcome.scenario == .close ? "(closed)" : "open")
        }
        if let tls = outcome.serverTLSEnding { parts.append("TLS: \(tls)") }
        return parts.joined(separator: ", ")
    }

    /// "request: 200 at +300 ms, then FIN +5 ms"; "request: no answer, RST +1 ms (before the answer)"; "nothing".
    static func originSaw(_ seen: OriginObservation, _ outcome: ScenarioOutcome) -> String {
        func ms(_ value: Double) -> String { "\(Int(max(0, value).rounded())) ms" }
        if let tcp = seen.tcp.first {
            let ours = outcome.monotonicMs(of: .shutdownWrite) ?? outcome.startMs
            var text = "\(tcp.bytesReceived) B, " + (tcp.eofMs.map { "EOF +\(ms($0 - ours))" } ?? "no EOF (FIN not passed on)")
            if let reply = tcp.replyMs { text += ", reply +\(ms(reply - ours))" }
            if let end = tcp.end { text += ", then \(end == .rst ? "RST" : "FIN")" }
            return text
        }
        guard let first = seen.requests.first else { return "nothing" }
        var text = seen.requests.count == 1 ? "request" : "\(seen.requests.count) requests"
        if let response = first.response {
            text += ": \(response.status) at +\(ms(response.sentMs - first.receivedMs))" + (response.writeFailed ? " (write failed)" : "")
        } else {
            text += ": no answer"
        }
        if let end = first.upstreamEnd, let at = first.upstreamEndMs {
            let before = first.response == nil || at < (first.response?.sentMs ?? 0)
            text += ", proxy \(end == .rst ? "RST" : "FIN") +\(ms(at - first.receivedMs))" + (before ? " (before the answer)" : "")
        }
        return text
    }
}
