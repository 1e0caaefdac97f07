import Testing
@testable import TacetProbe

/// The classifier on synthetic outcomes: no sockets, every sentence checked.
@Suite struct VerdictTests {
    typealias K = TimelineEvent.Kind

    func outcome(_ scenario: ProbeScenario, _ events: [(Double, K)], responses: [ResponseSummary] = [], end: StreamEnd,
                 bytes: Int = 0, writeError: String? = nil, byReset: Bool = false) -> ScenarioOutcome {
        ScenarioOutcome(scenario: scenario, timeline: events.map { TimelineEvent(ms: $0.0, kind: $0.1) },
                        responses: responses, end: end, bytesReceived: bytes, writeError: writeError, writeFailedByReset: byReset)
    }

    var ok: ResponseSummary { ResponseSummary(status: 200, reason: "OK", bodyBytes: 6, expectedBodyBytes: 6) }

    func baseline(server: String? = nil, status: Int = 200, body: Int = 6) -> ScenarioOutcome {
        var response = ResponseSummary(status: status, reason: "OK", bodyBytes: body, expectedBodyBytes: body)
        response.server = server
        return outcome(.baseline, [(0.1, .connected), (0.2, .written), (2.4, .statusLine), (2.4, .bodyComplete)],
                       responses: [response], end: .open)
    }

    @Test func baselineSaysWhatCameBack() {
        let verdict = Verdict.classify(baseline(), baseline: nil)
        #expect(verdict == Verdict(.answers, "answers: 200 with 6 bytes after 2 ms; connection kept open"))
    }

    @Test func finWithoutResponseIsAbortAndNamesNginx() {
        let aborted = outcome(.halfClose, [(0.1, .connected), (0.3, .written), (0.4, .shutdownWrite), (0.9, .fin)], end: .fin)
        let plain = Verdict.classify(aborted, baseline: baseline())
        #expect(plain == Verdict(.abortsOnHalfClose, "treats half-close as abort: FIN without a response after 1 ms"))
        let nginx = Verdict.classify(aborted, baseline: baseline(server: "nginx/1.22.1"))
        #expect(nginx.text == "treats half-close as abort: FIN without a response after 1 ms (nginx's proxy default; see proxy_ignore_client_abort)")
    }

    @Test func answerThenFINComparesTimingWithTheBaseline() {
        let answered = outcome(.halfClose, [(0.1, .connected), (0.3, .written), (0.4, .shutdownWrite),
                                            (1004.6, .statusLine), (1004.6, .bodyComplete), (1007.6, .fin)],
                               responses: [ok], end: .fin)
        #expect(Verdict.classify(answered, baseline: baseline())
                == Verdict(.answers, "answers half-closed clients: 200 after 1004 ms (baseline 2 ms), then FIN 3 ms later"))
    }

    @Test func emptyBodyWhereTheBaselineHadOneIsMadeUp() {
        let empty = ResponseSummary(status: 200, reason: "OK", bodyBytes: 0, expectedBodyBytes: 0)
        let madeUp = outcome(.halfClose, [(0, .connected), (0.1, .written), (0.2, .shutdownWrite), (0.5, .statusLine), (0.6, .fin)],
                             responses: [empty], end: .fin)
        #expect(Verdict.classify(madeUp, baseline: baseline())
                == Verdict(.madeUpResponse, "answered 200 with an empty body where the baseline had 6 bytes: a made-up response"))
    }

    @Test func anotherStatusThanTheBaselineIsCalledOut() {
        let bad = ResponseSummary(status: 502, reason: "Bad Gateway", bodyBytes: 10)
        let result = outcome(.halfClose, [(0, .connected), (0.2, .shutdownWrite), (5, .statusLine), (6, .fin)], responses: [bad], end: .fin)
        let verdict = Verdict.classify(result, baseline: baseline())
        #expect(verdict.kind == .differentAnswer)
        #expect(verdict.text == "answers half-closed clients with 502 where the baseline had 200; then FIN 1 ms later")
    }

    @Test func answerWithoutFINIsKeptOpenAndRSTAfterAnswerIsFlagged() {
        let events: [(Double, K)] = [(0, .connected), (0.2, .shutdownWrite), (3, .statusLine), (3, .bodyComplete)]
        let open = Verdict.classify(outcome(.halfClose, events + [(1003, .timeout)], responses: [ok], end: .timeout), baseline: nil)
        #expect(open.kind == .keepsOpen)
        #expect(open.text.hasSuffix("then no FIN: the connection stayed open"))
        let reset = Verdict.classify(outcome(.halfClose, events + [(4, .rst)], responses: [ok], end: .rst), baseline: nil)
        #expect(reset.kind == .answersThenReset)
    }

    @Test func cutBodiesAreShortOrDestroyed() {
        let cut = ResponseSummary(status: 200, reason: "OK", isComplete: false, bodyBytes: 3, expectedBodyBytes: 10)
        let events: [(Double, K)] = [(0, .connected), (0.2, .shutdownWrite), (3, .statusLine), (4, .bodyShort)]
        let short = Verdict.classify(outcome(.halfClose, events + [(4, .fin)], responses: [cut], end: .fin), baseline: nil)
        #expect(short == Verdict(.shortResponse, "answered 200 but a FIN cut the body at 3 of 10 bytes, 4 ms after the request"))
        let reset = Verdict.classify(outcome(.halfClose, events + [(4, .rst)], responses: [cut], end: .rst), baseline: nil)
        #expect(reset.kind == .resetDestroyedResponse)
    }

    @Test func fewerPipelinedAnswersThanRequestsArePartial() {
        let result = outcome(.pipelined, [(0, .connected), (0.2, .shutdownWrite), (2, .statusLine), (2, .bodyComplete), (5.2, .fin)],
                             responses: [ok], end: .fin)
        #expect(Verdict.classify(result, baseline: nil) == Verdict(.partialAnswer, "answered 1 of 3 pipelined requests, then FIN after 5 ms"))
        let all = outcome(.pipelined, [(0, .connected), (0.2, .shutdownWrite), (2, .statusLine), (3, .statusLine), (4, .statusLine), (5, .fin)],
                          responses: [ok, ok, ok], end: .fin)
        #expect(Verdict.classify(all, baseline: nil).kind == .answers)
    }

    @Test func idleAndHalfHeadersCloseResetOrStayOpen() {
        let base: [(Double, K)] = [(0, .connected), (0.1, .shutdownWrite)]
        #expect(Verdict.classify(outcome(.idle, base + [(0.4, .fin)], end: .fin), baseline: nil)
                == Verdict(.closes, "closes an idle half-closed connection: FIN without a response after 0 ms"))
        #expect(Verdict.classify(outcome(.idle, base + [(0.4, .rst)], end: .rst), baseline: nil).kind == .resets)
        #expect(Verdict.classify(outcome(.halfHeaders, base + [(5000, .timeout)], end: .timeout), baseline: nil)
                == Verdict(.keepsOpen, "keeps half a header block open: no FIN within the timeout"))
        let bad = ResponseSummary(status: 400, reason: "Bad Request", bodyBytes: 10, expectedBodyBytes: 10)
        let answered = outcome(.halfHeaders, base + [(1, .statusLine), (1, .bodyComplete), (1, .fin)], responses: [bad], end: .fin)
        #expect(Verdict.classify(answered, baseline: nil).text == "answers half a header block with 400, then FIN 0 ms later")
    }

    @Test func rejectedBodyVerdicts() {
        let rejected = ResponseSummary(status: 413, reason: "Payload Too Large", bodyBytes: 0, expectedBodyBytes: 0)
        let events: [(Double, K)] = [(0, .connected), (0.1, .written), (2, .written), (2.1, .statusLine)]
        let clean = Verdict.classify(outcome(.rejectBody, events + [(2.2, .fin)], responses: [rejected], end: .fin), baseline: nil)
        #expect(clean == Verdict(.answers, "rejects the 2 MiB body with 413, the response arrived whole, then FIN 0 ms later"))
        let destroyed = Verdict.classify(outcome(.rejectBody, [(0, .connected), (0.1, .written), (1, .writeFailed), (1, .rst)],
                                                 end: .rst, writeError: "write failed: RST from peer after 65536 of 2097152 bytes", byReset: true),
                                         baseline: nil)
        #expect(destroyed.kind == .resetDestroyedResponse)
        #expect(destroyed.text == "an RST destroyed the response, or there was none: RST without a response after 0 ms"
                + " (write failed: RST from peer after 65536 of 2097152 bytes)")
        let survived = Verdict.classify(outcome(.rejectBody, events + [(2.2, .rst)], responses: [rejected], end: .rst), baseline: nil)
        #expect(survived.kind == .answersThenReset)
        let accepted = Verdict.classify(outcome(.rejectBody, events + [(2.2, .fin)], responses: [ok], end: .fin), baseline: nil)
        #expect(accepted.text.contains("see --reject-path"))
    }

    @Test func closeIsInformationOnly() {
        let verdict = Verdict.classify(outcome(.close, [(0, .connected), (0.1, .written), (0.1, .closed)], end: .open), baseline: nil)
        #expect(verdict.kind == .info)
        #expect(verdict.text.contains("can only be seen on the backend"))
    }

    @Test func tcpVerdicts() {
        let base: [(Double, K)] = [(0, .connected), (0.1, .written), (0.2, .shutdownWrite)]
        #expect(Verdict.classify(outcome(.tcp, base + [(3.2, .fin)], end: .fin, bytes: 10), baseline: nil)
                == Verdict(.answers, "answers half-closed clients: 10 bytes back, then FIN 3 ms after our FIN"))
        #expect(Verdict.classify(outcome(.tcp, base + [(0.3, .fin)], end: .fin), baseline: nil).kind == .abortsOnHalfClose)
        #expect(Verdict.classify(outcome(.tcp, base + [(0.3, .rst)], end: .rst), baseline: nil).kind == .resets)
        #expect(Verdict.classify(outcome(.tcp, base + [(5000, .timeout)], end: .timeout), baseline: nil).kind == .noResponse)
    }

    @Test func connectFailureIsReported() {
        let failed = ScenarioOutcome(scenario: .halfClose, end: .timeout, connectError: "connection refused by 127.0.0.1:1")
        #expect(Verdict.classify(failed, baseline: nil) == Verdict(.failed, "could not connect: connection refused by 127.0.0.1:1"))
    }
}
