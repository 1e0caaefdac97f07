/// A scenario's verdict: a behaviour name for machines and one plain sentence for people.
public struct Verdict: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Gave the expected response(s) whole: what the origin (or the baseline) sent.
        case answers
        /// Answered, but the status or body differs from what the origin (or the baseline) sent.
        case altered
        /// A response the origin never sent: it never got the request, or the body is empty where
        /// the origin's was not.
        case madeUp = "made-up"
        /// FIN without any response: the half-close was taken as "the client is gone".
        case abortsOnHalfClose = "aborts-on-half-close"
        /// RST without any response.
        case resets
        /// An RST came while a response was due or arriving: the response was lost or cut.
        case resetDestroyedResponse = "reset-destroyed-response"
        /// A response arrived whole, then an RST instead of a FIN.
        case answersThenReset = "answers-then-reset"
        /// A response was cut short by a FIN or the timeout.
        case shortResponse = "short-response"
        /// Fewer pipelined responses than requests.
        case partialAnswer = "partial-answer"
        /// Nothing within the timeout, connection still open.
        case noResponse = "no-response"
        /// For requests that cannot be answered (idle, half a header block): a clean FIN.
        case closes
        /// Answered (or nothing to answer) and the connection stayed open: no FIN within the wait.
        case keepsOpen = "keeps-open"
        /// With the origin: after the client's close(), the proxy closed its upstream connection
        /// before the origin's answer was due.
        case sparesBackend = "spares-backend"
        /// With the origin: the proxy kept the upstream connection open for a client that was gone.
        case keepsBackendBusy = "keeps-backend-busy"
        /// Nothing to judge from the client side.
        case info
        /// The scenario could not run (connection failed, or the origin never saw the request).
        case failed

        /// Conforms to RFC 9112 §9.6 (a half-close is not an abort; no RST destroys an answer) and,
        /// with the origin, spares a backend whose client is gone; nil for `failed`: not tested.
        public var conforms: Bool? {
            switch self {
            case .answers, .closes, .keepsOpen, .sparesBackend, .info: return true
            case .failed: return nil
            default: return false
            }
        }

        /// One line each for `--help` and `tacet probe explain`.
        public var meaning: String {
            switch self {
            case .answers: return "the whole answer the origin (or the baseline) sent, then FIN"
            case .altered: return "an answer, but another status or body than the origin's (or the baseline's)"
            case .madeUp: return "an answer the origin never sent (it never got the request, or the body is empty)"
            case .abortsOnHalfClose: return "FIN and no answer: the half-close was taken for an abort"
            case .resets: return "RST and no answer"
            case .resetDestroyedResponse: return "an RST lost or cut the answer"
            case .answersThenReset: return "the answer arrived, then an RST instead of a FIN (it could have destroyed it)"
            case .shortResponse: return "the answer was cut short by a FIN or the timeout"
            case .partialAnswer: return "fewer pipelined answers than requests"
            case .noResponse: return "nothing within the timeout, connection open"
            case .closes: return "nothing to answer, a clean FIN"
            case .keepsOpen: return "answered (or nothing to answer), then no FIN within the wait"
            case .sparesBackend: return "the client closed: the proxy closed its upstream connection before the origin's answer"
            case .keepsBackendBusy: return "the client closed: the proxy kept its upstream connection busy for nobody"
            case .info: return "nothing to judge from the client side (run with an origin)"
            case .failed: return "could not test"
            }
        }
    }

    public var kind: Kind
    public var text: String

    public init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = text
    }
}

extension Verdict {
    /// The verdict for `outcome`, compared with `baseline` where it helps. A pure function of its
    /// inputs (no sockets, no clock), so every sentence it can say is unit-tested.
    public static func classify(_ outcome: ScenarioOutcome, baseline: ScenarioOutcome?) -> Verdict {
        classify(outcome, context: VerdictContext(baseline: baseline))
    }

    public static func classify(_ outcome: ScenarioOutcome, context: VerdictContext) -> Verdict {
        if let error = outcome.connectError { return Verdict(.failed, "could not connect: \(error)") }
        let facts = Facts(outcome: outcome, baseline: context.baseline, context: context)
        switch outcome.scenario {
        case .baseline, .baselineBody: return facts.baselineVerdict()
        case .halfClose, .body: return facts.answerVerdict(subject: "half-closed clients")
        case .pipelined: return facts.pipelinedVerdict()
        case .halfHeaders: return facts.unanswerableVerdict(subject: "half a header block", closes: "closes on half a header block")
        case .idle: return facts.unanswerableVerdict(subject: "an idle half-closed connection", closes: "closes an idle half-closed connection")
        case .rejectBody: return facts.rejectVerdict()
        case .close:
            guard context.origin != nil else {
                return Verdict(.info, "sent the request and closed: nothing can come back to a closed socket; "
                    + "whether the server kept its backend busy for nobody can only be seen on the backend (run with --origin)")
            }
            return facts.closeVerdict()
        case .tcp: return context.origin == nil ? facts.tcpVerdict() : facts.tcpOriginVerdict()
        }
    }
}

/// What a verdict is judged against besides the outcome itself.
public struct VerdictContext: Sendable {
    /// The plain request, no shutdown (its answer is the reference without an origin).
    public var baseline: ScenarioOutcome?
    /// The body scenario's request without the half-close (the reference for `body` without an origin).
    public var bodyBaseline: ScenarioOutcome?
    /// False when two baselines' bodies differed (a dynamic page): bodies are then not compared.
    public var bodiesStable = true
    /// What the origin saw under this scenario's tag; nil when there is no origin.
    public var origin: OriginObservation?

    public init(baseline: ScenarioOutcome? = nil, bodyBaseline: ScenarioOutcome? = nil, bodiesStable: Bool = true,
                origin: OriginObservation? = nil) {
        self.baseline = baseline
        self.bodyBaseline = bodyBaseline
        self.bodiesStable = bodiesStable
        self.origin = origin
    }
}

/// What an answer should be, and who said so.
struct ExpectedAnswer {
    var status: Int
    var bodyBytes: Int
    /// nil: bodies not compared.
    var bodyDigest: String?
    /// "the origin" or "the baseline".
    var source: String
}

/// The numbers a verdict sentence is made of.
private struct Facts {
    let outcome: ScenarioOutcome
    let baseline: ScenarioOutcome?
    let context: VerdictContext

    /// Milliseconds, rounded: sub-millisecond precision is noise at this level.
    func ms(_ value: Double) -> String { "\(Int(max(0, value).rounded())) ms" }

    var action: Double { outcome.actionMs }
    var endAfterAction: String { ms((outcome.endMs ?? action) - action) }

    /// When the first complete final response's status line arrived, after our last action.
    func statusAfterAction() -> String? {
        outcome.timeline.first { $0.kind == .statusLine }.map { ms($0.ms - action) }
    }

    /// "then FIN 1 ms later", measured from the last status line or body event.
    func endClause() -> String {
        let lastResponseMs = outcome.timeline.last { [.statusLine, .bodyComplete].contains($0.kind) }?.ms ?? action
        let later = ms((outcome.endMs ?? lastResponseMs) - lastResponseMs)
        switch outcome.end {
        case .fin: return "then FIN \(later) later"
        case .rst: return "then RST \(later) later"
        case .timeout, .open: return "then no FIN: the connection stayed open"
        }
    }

    var isNginx: Bool {
        let servers = (baseline?.responses ?? []) + outcome.responses
        return servers.contains { $0.server?.lowercased().contains("nginx") == true }
    }

    var nginxHint: String { isNginx ? " (nginx's proxy default; see proxy_ignore_client_abort)" : "" }

    var baselineFinal: ResponseSummary? { baseline?.completeFinals.first }

    func baselineVerdict() -> Verdict {
        guard let response = outcome.completeFinals.first else { return nothingVerdict(subject: "a plain request") }
        if context.origin != nil, let wrong = mismatch(response, expected(0)) { return wrong }
        let after = statusAfterAction() ?? ms(0)
        let tail: String
        switch outcome.end {
        case .open, .timeout: tail = "connection kept open"
        case .fin: tail = "then FIN"
        case .rst: tail = "then RST"
        }
        return Verdict(.answers, "answers: \(response.status) with \(response.bodyBytes) bytes after \(after); \(tail)")
    }

    func answerVerdict(subject: String) -> Verdict {
        guard let response = outcome.completeFinals.first else { return nothingVerdict(subject: subject) }
        if let wrong = mismatch(response, expected(0)) { return wrong }
        return endedAfterAnswer("answers \(subject): \(response.status) after \(statusAfterAction() ?? ms(0))\(baselineTiming())")
    }

    /// What is known of the `index`th answer this scenario should get.
    enum Expectation {
        /// Nothing to compare with (no baseline of the same path).
        case unknown
        /// The origin never answered that request: any answer is made up.
        case neverAnswered
        case answer(ExpectedAnswer)
    }

    /// The origin's answer when there is an origin, else the baseline's.
    func expected(_ index: Int) -> Expectation {
        if let origin = context.origin {
            guard origin.requests.indices.contains(index), let sent = origin.requests[index].response else { return .neverAnswered }
            return .answer(ExpectedAnswer(status: sent.status, bodyBytes: sent.bodyBytes, bodyDigest: sent.bodyDigest, source: "the origin"))
        }
        let reference = outcome.scenario == .body ? context.bodyBaseline : baseline
        // A baseline speaks for the same resource only (`--path` may give a scenario another).
        guard let reference, reference.path == outcome.path, let base = reference.completeFinals.first else { return .unknown }
        // Bodies are compared when two GET baselines agreed; a POST's answer may differ each
        // time (an id, a counter), so `body` is held to the status and a non-empty body.
        let digest = context.bodiesStable && outcome.scenario != .body ? base.bodyDigest : nil
        return .answer(ExpectedAnswer(status: base.status, bodyBytes: base.bodyBytes, bodyDigest: digest, source: "the baseline"))
    }

    /// Nil when `response` is what was expected (or nothing is known); else made up or altered.
    func mismatch(_ response: ResponseSummary, _ expectation: Expectation) -> Verdict? {
        let expected: ExpectedAnswer
        switch expectation {
        case .unknown: return nil
        case .answer(let answer): expected = answer
        case .neverAnswered:
            return Verdict(.madeUp, "answered \(response.status) (\(response.bodyBytes) bytes) but the origin never answered that request: a made-up response")
        }
        if response.status != expected.status {
            return Verdict(.altered, "answered \(response.status) where \(expected.source) sent \(expected.status); \(endClause())")
        }
        if response.bodyBytes == 0, expected.bodyBytes > 0 {
            return Verdict(.madeUp, "answered \(response.status) with an empty body where \(expected.source) sent \(expected.bodyBytes) bytes: a made-up response")
        }
        if let digest = expected.bodyDigest, response.bodyDigest != digest {
            return Verdict(.altered, "answered \(response.status) with a \(response.bodyBytes)-byte body that differs from the \(expected.bodyBytes) bytes \(expected.source) sent")
        }
        return nil
    }

    /// " (baseline 2 ms)": how long the same request took without a half-close.
    func baselineTiming() -> String {
        let reference = outcome.scenario == .body ? context.bodyBaseline : baseline
        guard let reference, let status = reference.time(of: .statusLine) else { return "" }
        return " (baseline \(ms(status - reference.actionMs)))"
    }

    func endedAfterAnswer(_ sentence: String) -> Verdict {
        switch outcome.end {
        case .rst: return Verdict(.answersThenReset, "\(sentence), \(endClause()): the response survived this time, but an RST can destroy one")
        case .timeout, .open: return Verdict(.keepsOpen, "\(sentence), \(endClause())")
        case .fin: return Verdict(.answers, "\(sentence), \(endClause())")
        }
    }

    /// No complete final response: say how the stream ended instead.
    func nothingVerdict(subject: String) -> Verdict {
        if let cut = outcome.finalResponses.first(where: { !$0.isComplete }) {
            let of = cut.expectedBodyBytes.map { " of \($0)" } ?? ""
            let how = outcome.end == .rst ? "an RST" : outcome.end == .fin ? "a FIN" : "the timeout"
            let kind: Verdict.Kind = outcome.end == .rst ? .resetDestroyedResponse : .shortResponse
            return Verdict(kind, "answered \(cut.status) but \(how) cut the body at \(cut.bodyBytes)\(of) bytes, \(endAfterAction) after the request")
        }
        switch outcome.end {
        case .fin:
            return Verdict(.abortsOnHalfClose, "treats half-close as abort: FIN without a response after \(endAfterAction)\(nginxHint)")
        case .rst:
            return Verdict(.resets, "resets \(subject): RST without a response after \(endAfterAction)")
        case .timeout, .open:
            let got = outcome.bytesReceived > 0 ? " (\(outcome.bytesReceived) bytes that are not a response)" : ""
            return Verdict(.noResponse, "no response within the timeout\(got); the connection stayed open")
        }
    }

    func pipelinedVerdict() -> Verdict {
        let complete = outcome.completeFinals
        guard complete.count >= 3 else {
            if complete.isEmpty { return nothingVerdict(subject: "half-closed clients") }
            let end = outcome.end == .fin ? "FIN" : outcome.end == .rst ? "RST" : "nothing more"
            return Verdict(.partialAnswer, "answered \(complete.count) of 3 pipelined requests, then \(end) after \(endAfterAction)")
        }
        for (index, response) in complete.prefix(3).enumerated() {
            if var wrong = mismatch(response, expected(context.origin == nil ? 0 : index)) {
                wrong.text = "pipelined answer \(index + 1): " + wrong.text
                return wrong
            }
        }
        let statuses = complete.prefix(3).map { String($0.status) }.joined(separator: ", ")
        return endedAfterAnswer("answers 3 of 3 pipelined requests after a half-close (\(statuses)), the last after \(lastStatusAfterAction())")
    }

    func lastStatusAfterAction() -> String {
        outcome.timeline.last { $0.kind == .statusLine }.map { ms($0.ms - action) } ?? ms(0)
    }

    /// Idle connections and half header blocks can't be answered with a 2xx: closing is fine, so is a 4xx.
    func unanswerableVerdict(subject: String, closes: String) -> Verdict {
        if let response = outcome.finalResponses.first {
            return endedAfterAnswer("answers \(subject) with \(response.status)")
        }
        switch outcome.end {
        case .fin: return Verdict(.closes, "\(closes): FIN without a response after \(endAfterAction)")
        case .rst: return Verdict(.resets, "resets \(subject): RST after \(endAfterAction)")
        case .timeout, .open: return Verdict(.keepsOpen, "keeps \(subject) open: no FIN within the timeout")
        }
    }

    func rejectVerdict() -> Verdict {
        let resetSeen = outcome.end == .rst || outcome.writeFailedByReset
        let write = outcome.writeError.map { " (\($0))" } ?? ""
        if let response = outcome.completeFinals.first {
            if (200...299).contains(response.status) {
                return endedAfterAnswer("accepted the 2 MiB body with \(response.status) (nothing to reject; see --path reject-body=PATH)")
            }
            if resetSeen {
                return Verdict(.answersThenReset, "answered \(response.status), then RST\(write): the response survived this time, but an RST can destroy one")
            }
            return endedAfterAnswer("rejects the 2 MiB body with \(response.status), the response arrived whole")
        }
        if let cut = outcome.finalResponses.first, resetSeen {
            return Verdict(.resetDestroyedResponse, "an RST destroyed the response: \(cut.status) cut at \(cut.bodyBytes) body bytes\(write)")
        }
        if resetSeen {
            return Verdict(.resetDestroyedResponse, "an RST destroyed the response, or there was none: RST without a response after \(endAfterAction)\(write)")
        }
        return nothingVerdict(subject: "a 2 MiB body")
    }

    /// The client's close(), on the origin's clock.
    func clientClosedMs() -> Double? { outcome.monotonicMs(of: .closed) }

    /// With the origin: did the proxy close its upstream connection once the client was gone?
    func closeVerdict() -> Verdict {
        guard let request = context.origin?.requests.first, let closed = clientClosedMs() else {
            return Verdict(.failed, "could not test: the request never reached the origin (is the proxy in front of it?)")
        }
        let due = ms(request.dueMs - closed)
        switch request.spared {
        case true?:
            let after = ms((request.upstreamEndMs ?? closed) - closed)
            let how = request.upstreamEnd == .rst ? "reset" : "closed"
            return Verdict(.sparesBackend, "spares its backend: \(how) the upstream connection \(after) after the client's close(), before the origin's answer (due \(due) after it)")
        case false?:
            let answered = ms((request.response?.sentMs ?? closed) - closed)
            let hint = isNginx ? " (nginx: proxy_ignore_client_abort on)" : ""
            return Verdict(.keepsBackendBusy, "keeps its backend busy for nobody: the upstream connection was still open when the origin answered, \(answered) after the client's close()\(hint)")
        case nil:
            return Verdict(.keepsBackendBusy, "keeps its backend busy for nobody: the upstream connection was still open and unanswered at the end of the wait")
        }
    }

    /// With the origin's TCP service, which replies only after our FIN reached it (and a delay).
    func tcpOriginVerdict() -> Verdict {
        let ours = outcome.monotonicMs(of: .shutdownWrite) ?? outcome.startMs
        guard let record = context.origin?.tcp.first else {
            let probe = tcpVerdict()
            return Verdict(probe.kind == .answers ? .madeUp : probe.kind, probe.text + "; the origin never saw the connection")
        }
        guard let eof = record.eofMs else {
            let probe = tcpVerdict()
            return Verdict(probe.kind == .answers ? .altered : probe.kind,
                           probe.text + "; the proxy never passed our FIN on (the origin saw no EOF and never replied)")
        }
        guard let reply = record.reply, let sent = record.replyMs else {
            let kind: Verdict.Kind = outcome.bytesReceived > 0 ? .altered : outcome.end == .rst ? .resets : .abortsOnHalfClose
            return Verdict(kind, "the proxy closed its upstream connection before the origin's late reply (EOF \(ms(eof - ours)) after our FIN); \(outcome.bytesReceived) bytes back, then \(outcome.end.rawValue)")
        }
        let late = ms(sent - ours)
        let got = outcome.bytesReceived
        if got == 0 {
            let kind: Verdict.Kind = outcome.end == .rst ? .resets : outcome.end == .fin ? .abortsOnHalfClose : .noResponse
            return Verdict(kind, "drops a late reply: the origin's \(reply.count) bytes, sent \(late) after our FIN, never arrived; \(outcome.end.rawValue) after \(endAfterAction)")
        }
        if got != reply.count {
            return Verdict(.altered, "\(got) bytes back where the origin sent \(reply.count), \(late) after our FIN")
        }
        switch outcome.end {
        case .fin: return Verdict(.answers, "delivers a late reply: the origin's \(got) bytes, sent \(late) after our FIN, then FIN")
        case .rst: return Verdict(.answersThenReset, "delivered the origin's late reply (\(late) after our FIN), then RST")
        case .timeout, .open: return Verdict(.keepsOpen, "delivered the origin's late reply (\(late) after our FIN), then no FIN")
        }
    }

    func tcpVerdict() -> Verdict {
        let bytes = outcome.bytesReceived
        switch outcome.end {
        case .fin where bytes > 0:
            return Verdict(.answers, "answers half-closed clients: \(bytes) bytes back, then FIN \(endAfterAction) after our FIN")
        case .fin:
            return Verdict(.abortsOnHalfClose, "treats half-close as abort: FIN without a reply after \(endAfterAction)")
        case .rst:
            return Verdict(bytes > 0 ? .resetDestroyedResponse : .resets, "RST after \(endAfterAction), \(bytes) bytes back first")
        case .timeout, .open:
            return bytes > 0
                ? Verdict(.keepsOpen, "replied \(bytes) bytes but sent no FIN within the timeout")
                : Verdict(.noResponse, "no reply and no FIN within the timeout")
        }
    }
}
