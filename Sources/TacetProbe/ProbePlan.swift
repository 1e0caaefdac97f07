/// Which path each scenario asks for, and the tag its requests carry to the origin. With an
/// origin the probe picks paths that make each question sharp (a slow answer where the FIN must
/// reach the proxy while it waits; a fast one for three pipelined requests); `--path` overrides.
/// The probed URL's path is the prefix the proxy maps to the origin.
struct ProbePlan {
    let target: ProbeTarget
    let options: ProbeOptions
    /// Distinguishes this run's tags from another probe's on the same origin.
    let runID: String

    init(target: ProbeTarget, options: ProbeOptions) {
        self.target = target
        self.options = options
        runID = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    func plan(_ scenario: ProbeScenario, repetition: Int, ending: TLSEnding?) -> ScenarioPlan {
        let tag = options.origin == nil ? nil
            : "\(runID)-\(scenario.rawValue)-\(repetition + 1)" + (ending.map { "-\($0 == .closeNotify ? "cn" : "fin")" } ?? "")
        guard case .http(var http) = target else { return ScenarioPlan(target: nil, tag: tag) }
        let path: String
        if let given = options.paths[scenario] {
            path = given
        } else if options.origin != nil {
            let prefix = http.path.hasSuffix("/") ? String(http.path.dropLast()) : String(http.path.prefix { $0 != "?" })
            path = prefix + Self.originPath(scenario, options)
        } else {
            return ScenarioPlan(target: nil, tag: nil)
        }
        http.path = tag.map { path + (path.contains("?") ? "&" : "?") + "tacet=\($0)" } ?? path
        return ScenarioPlan(target: http, tag: tag)
    }

    /// The origin path that asks each scenario's question.
    static func originPath(_ scenario: ProbeScenario, _ options: ProbeOptions) -> String {
        switch scenario {
        case .halfClose: return "/slow?ms=\(options.slowMs)"
        case .body, .baselineBody: return "/echo?ms=\(options.slowMs)"
        case .close: return "/slow?ms=\(options.closeMs)"
        case .rejectBody: return "/reject"
        case .baseline, .pipelined, .halfHeaders, .idle, .tcp: return "/fast"
        }
    }
}
