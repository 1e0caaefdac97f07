/// A scenario's verdict: a behaviour name for machines and one plain sentence for people.
public struct Verdict: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Gave the expected response(s) whole.
        case answers
        /// Answered, but with another status than the baseline.
        case differentAnswer
        /// A response whose body is empty where the baseline's was not: not what the backend sent.
        case madeUpResponse
        /// FIN without any response: the half-close was taken as "the client is gone".
        case abortsOnHalfClose
        /// RST without any response.
        case resets
        /// An RST came while a response was due or arriving: the response was lost or cut.
        case resetDestroyedResponse
        /// A response arrived whole, then an RST instead of a FIN.
        case answersThenReset
        /// A response was cut short by a FIN or the timeout.
        case shortResponse
        /// Fewer pipelined responses than requests.
        case partialAnswer
        /// Nothing within the timeout, connection still open.
        case noResponse
        /// For requests that cannot be answered (idle, half a header block): a clean FIN.
        case closes
        /// The connection stayed open with no FIN after what was expected.
        case keepsOpen
        /// Nothing to judge from the client side.
        case info
        /// The scenario could not run (connection failed).
        case failed
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
        if let error = outcome.connectError { return Verdict(.failed, "could not connect: \(error)") }
        let facts = Facts(outcome: outcome, baseline: baseline)
        switch outcome.scenario {
        case .baseline: return facts.baselineVerdict()
        case .halfClose, .body: return facts.answerVerdict(subject: "half-closed clients", sameRequestAsBaseline: outcome.scenario == .halfClose)
        case .pipelined: return facts.pipelinedVerdict()
        case .halfHeaders: return facts.unanswerableVerdict(subject: "half a header block", closes: "closes on half a header block")
        case .idle: return facts.unanswerableVerdict(subject: "an idle half-closed connection", closes: "closes an idle half-closed connection")
        case .rejectBody: return facts.rejectVerdict()
        case .close:
            return Verdict(.info, "sent the request and closed: nothing can come back to a closed socket; "
                + "whether the server kept its backend busy for nobody can only be seen on the backend")
        case .tcp: return facts.tcpVerdict()
        }
    }
}

/// The numbers a verdict sentence is made of.
private struct Facts {
    let outcome: ScenarioOutcome
    let baseline: ScenarioOutcome?

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
        let after = statusAfterAction() ?? ms(0)
        let tail: String
        switch outcome.end {
        case .open, .timeout: tail = "connection kept open"
        case .fin: tail = "then FIN"
        case .rst: tail = "then RST"
        }
        return Verdict(.answers, "answers: \(response.status) with \(response.bodyBytes) bytes after \(after); \(tail)")
    }

    func answerVerdict(subject: String, sameRequestAsBaseline: Bool) -> Verdict {
        guard let response = outcome.completeFinals.first else { return nothingVerdict(subject: subject) }
        if sameRequestAsBaseline, let base = baselineFinal {
            if base.status == response.status, base.bodyBytes > 0, response.bodyBytes == 0 {
                return Verdict(.madeUpResponse, "answered \(response.status) with an empty body where the baseline had \(base.bodyBytes) bytes: a made-up response")
            }
            if base.status != response.status {
                return Verdict(.differentAnswer, "answers \(subject) with \(response.status) where the baseline had \(base.status); \(endClause())")
            }
        }
        return endedAfterAnswer("answers \(subject): \(response.status) after \(statusAfterAction() ?? ms(0))\(sameRequestAsBaseline ? baselineTiming() : "")")
    }

    /// " (baseline 2 ms)": how long the same request took without a half-close.
    func baselineTiming() -> String {
        guard let baseline, let status = baseline.time(of: .statusLine) else { return "" }
        return " (baseline \(ms(status - baseline.actionMs)))"
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
                let sentence = "accepted the 2 MiB body with \(response.status) (nothing to reject; see --reject-path)"
                // This scenario never half-closes: a connection kept open is plain keep-alive.
                if outcome.end == .open || outcome.end == .timeout {
                    return Verdict(.answers, "\(sentence); the connection stayed open (keep-alive)")
                }
                return endedAfterAnswer(sentence)
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
