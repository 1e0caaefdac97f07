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
    /// baseline always runs first in each repetition, since verdicts compare with it.
    /// Over TLS every scenario that half-closes runs twice: with `close_notify`, then a bare FIN.
    /// Throws a one-line `ProbeError` when the very first connection fails (refused, DNS, timeout,
    /// a failed handshake): then there is no server to describe.
    public func run(scenarios: [ProbeScenario]? = nil, repetitions: Int = 1) throws -> ProbeReport {
        let isTCP: Bool = { if case .tcp = target { return true } else { return false } }()
        let isTLS: Bool = { if case .http(let http) = target { return http.isTLS } else { return false } }()
        if isTLS && options.tls == nil { throw ProbeError("cannot probe \(target): https needs a TLS connector") }
        let chosen = scenarios ?? (isTCP ? ProbeScenario.tcpSuite : ProbeScenario.httpSuite)
        if let wrong = chosen.first(where: { $0.isTCP != isTCP }) {
            throw ProbeError("scenario '\(wrong.rawValue)' needs \(isTCP ? "an http:// URL" : "--tcp HOST:PORT")")
        }
        var runs: [ProbeRun] = []
        for _ in 0..<max(1, repetitions) {
            var run = ProbeRun(baseline: nil, results: [])
            if !isTCP {
                let baseline = self.run(.baseline)
                if let error = baseline.outcome.connectError, runs.isEmpty { throw ProbeError(error) }
                run.baseline = baseline
            }
            for scenario in chosen {
                if scenario == .baseline, let baseline = run.baseline { run.results.append(baseline); continue }
                let endings: [TLSEnding?] = isTLS && scenario.halfCloses ? TLSEnding.allCases : [nil]
                for ending in endings {
                    let result = self.run(scenario, baseline: run.baseline?.outcome, ending: ending)
                    if let error = result.outcome.connectError, runs.isEmpty, run.results.isEmpty, isTCP { throw ProbeError(error) }
                    run.results.append(result)
                }
            }
            runs.append(run)
        }
        return ProbeReport(target: target.description, runs: runs)
    }
}

/// A scenario's outcome and its verdict.
public struct ScenarioResult: Sendable, Codable {
    public var outcome: ScenarioOutcome
    public var verdict: Verdict
    public var scenario: ProbeScenario { outcome.scenario }
}

/// One pass over the chosen scenarios.
public struct ProbeRun: Sendable, Codable {
    public var baseline: ScenarioResult?
    public var results: [ScenarioResult]
}

/// Every repetition, and per scenario whether the repetitions agreed.
public struct ProbeReport: Sendable, Codable {
    public var target: String
    public var runs: [ProbeRun]

    /// One line per scenario: the first run's verdict, and a note when later runs said otherwise.
    public struct Summary: Sendable, Codable {
        public var scenario: ProbeScenario
        /// The scenario's name with its TLS half-close, as the table shows it.
        public var name: String
        public var verdict: Verdict
        /// Nil when all repetitions agree; else e.g. "repetitions disagree: 2× answers, 1× abortsOnHalfClose".
        public var disagreement: String?
    }

    public var summaries: [Summary] {
        guard let first = runs.first else { return [] }
        return first.results.enumerated().map { index, result in
            let kinds = runs.compactMap { $0.results.indices.contains(index) ? $0.results[index].verdict.kind : nil }
            var counts: [(Verdict.Kind, Int)] = []
            for kind in kinds {
                if let at = counts.firstIndex(where: { $0.0 == kind }) { counts[at].1 += 1 } else { counts.append((kind, 1)) }
            }
            let note = counts.count > 1
                ? "repetitions disagree: " + counts.map { "\($0.1)× \($0.0.rawValue)" }.joined(separator: ", ")
                : nil
            return Summary(scenario: result.scenario, name: result.outcome.name, verdict: result.verdict, disagreement: note)
        }
    }
}
