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
                == Verdict(.madeUp, "answered 200 with an empty body where the baseline sent 6 bytes: a made-up response"))
    }

    @Test func anotherStatusThanTheBaselineIsCalledOut() {
        let bad = ResponseSummary(status: 502, reason: "Bad Gateway", bodyBytes: 10)
        let result = outcome(.halfClose, [(0, .connected), (0.2, .shutdownWrite), (5, .statusLine), (6, .fin)], responses: [bad], end: .fin)
        let verdict = Verdict.classify(result, baseline: baseline())
        #expect(verdict.kind == .altered)
        #expect(verdict.text == "answered 502 where the baseline sent 200; then FIN 1 ms later")
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
        #expect(accepted.text.contains("see --path reject-body=PATH"))
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

/// Verdicts judged on what the probe's origin saw: no sockets, observations made by hand.
@Suite struct OriginVerdictTests {
    func outcome(_ scenario: ProbeScenario, _ events: [(Double, TimelineEvent.Kind)], responses: [ResponseSummary] = [],
                 end: StreamEnd, bytes: Int = 0) -> ScenarioOutcome {
        var outcome = ScenarioOutcome(scenario: scenario, timeline: events.map { TimelineEvent(ms: $0.0, kind: $0.1) },
                                      responses: responses, end: end, bytesReceived: bytes)
        outcome.startMs = 1000
        return outcome
    }

    func answered(_ status: Int, body: String) -> ResponseSummary {
        var response = ResponseSummary(status: status, bodyBytes: body.utf8.count)
        response.bodyDigest = BodyDigest.of(Array(body.utf8))
        return response
    }

    func request(answer status: Int? = nil, body: String = "", sentAt: Double = 1500, end: StreamEnd? = nil, endAt: Double? = nil) -> OriginRequestRecord {
        var record = OriginRequestRecord(method: "GET", path: "/slow", receivedMs: 1001, dueMs: 1301)
        record.response = status.map { OriginResponse(status: $0, bodyBytes: body.utf8.count, bodyDigest: BodyDigest.of(Array(body.utf8)), sentMs: sentAt) }
        record.upstreamEnd = end
        record.upstreamEndMs = endAt
        return record
    }

    let halfClosed: [(Double, TimelineEvent.Kind)] = [(0, .connected), (0.5, .written), (1, .shutdownWrite), (301, .statusLine), (302, .fin)]

    @Test func theOriginsBytesAnswerAnythingElseIsAlteredOrMadeUp() {
        let origin = OriginObservation(requests: [request(answer: 200, body: "tacet-origin slow\n")])
        let same = outcome(.halfClose, halfClosed, responses: [answered(200, body: "tacet-origin slow\n")], end: .fin)
        #expect(Verdict.classify(same, context: VerdictContext(origin: origin)).kind == .answers)
        let other = outcome(.halfClose, halfClosed, responses: [answered(200, body: "tacet-origin fast\n")], end: .fin)
        #expect(Verdict.classify(other, context: VerdictContext(origin: origin))
                == Verdict(.altered, "answered 200 with a 18-byte body that differs from the 18 bytes the origin sent"))
        let status = outcome(.halfClose, halfClosed, responses: [answered(400, body: "tacet-origin slow\n")], end: .fin)
        #expect(Verdict.classify(status, context: VerdictContext(origin: origin)).text.hasPrefix("answered 400 where the origin sent 200"))
        let empty = outcome(.halfClose, halfClosed, responses: [answered(200, body: "")], end: .fin)
        #expect(Verdict.classify(empty, context: VerdictContext(origin: origin)).kind == .madeUp)
        // Caddy's empty 200 to a request the origin never got.
        let never = Verdict.classify(empty, context: VerdictContext(origin: OriginObservation()))
        #expect(never == Verdict(.madeUp, "answered 200 (0 bytes) but the origin never answered that request: a made-up response"))
    }

    @Test("Without an origin, an answer is compared with a baseline of the same path only")
    func baselinesSpeakForTheirOwnPath() {
        var base = outcome(.baseline, [(0, .connected), (1, .written), (3, .statusLine)], responses: [answered(200, body: "home")], end: .open)
        base.path = nil
        var other = outcome(.halfClose, halfClosed, responses: [answered(404, body: "no")], end: .fin)
        other.path = "/elsewhere"
        #expect(Verdict.classify(other, context: VerdictContext(baseline: base)).kind == .answers)
        other.path = nil
        #expect(Verdict.classify(other, context: VerdictContext(baseline: base)).kind == .altered)
    }

    @Test func eachPipelinedAnswerIsCompared() {
        let body = "tacet-origin fast\n"
        let origin = OriginObservation(requests: [request(answer: 200, body: body), request(answer: 200, body: body), request(answer: 200, body: body)])
        let events: [(Double, TimelineEvent.Kind)] = [(0, .connected), (1, .shutdownWrite), (2, .statusLine), (3, .fin)]
        let good = outcome(.pipelined, events, responses: Array(repeating: answered(200, body: body), count: 3), end: .fin)
        #expect(Verdict.classify(good, context: VerdictContext(origin: origin)).kind == .answers)
        let third = outcome(.pipelined, events, responses: [answered(200, body: body), answered(200, body: body), answered(200, body: "")], end: .fin)
        let verdict = Verdict.classify(third, context: VerdictContext(origin: origin))
        #expect(verdict.kind == .madeUp && verdict.text.hasPrefix("pipelined answer 3: "))
    }

    @Test func closeSparesOrKeepsTheBackendBusy() {
        let closed: [(Double, TimelineEvent.Kind)] = [(0, .connected), (1, .written), (2, .closed)]
        let spared = OriginObservation(requests: [request(end: .fin, endAt: 1004)])
        #expect(Verdict.classify(outcome(.close, closed, end: .open), context: VerdictContext(origin: spared))
                == Verdict(.sparesBackend, "spares its backend: closed the upstream connection 2 ms after the client's close(), before the origin's answer (due 299 ms after it)"))
        let busy = OriginObservation(requests: [request(answer: 200, body: "x", sentAt: 1302, end: .fin, endAt: 1303)])
        #expect(Verdict.classify(outcome(.close, closed, end: .open), context: VerdictContext(origin: busy))
                == Verdict(.keepsBackendBusy, "keeps its backend busy for nobody: the upstream connection was still open when the origin answered, 300 ms after the client's close()"))
        #expect(Verdict.classify(outcome(.close, closed, end: .open), context: VerdictContext(origin: OriginObservation())).kind == .failed)
        #expect(Verdict.classify(outcome(.close, closed, end: .open), baseline: nil).kind == .info)
    }

    @Test func aTCPProxyDeliversTheLateReplyOrNot() {
        let events: [(Double, TimelineEvent.Kind)] = [(0, .connected), (1, .written), (2, .shutdownWrite), (1003, .fin)]
        var record = OriginTCPRecord(bytesReceived: 1050)
        record.eofMs = 1002.5
        record.replyMs = 2002
        record.reply = Array("tacet-origin tcp t 1050 bytes\n".utf8)
        record.end = .fin
        let delivered = outcome(.tcp, events, end: .fin, bytes: 30)
        #expect(Verdict.classify(delivered, context: VerdictContext(origin: OriginObservation(tcp: [record])))
                == Verdict(.answers, "delivers a late reply: the origin's 30 bytes, sent 1000 ms after our FIN, then FIN"))
        let lost = outcome(.tcp, events, end: .fin)
        #expect(Verdict.classify(lost, context: VerdictContext(origin: OriginObservation(tcp: [record]))).kind == .abortsOnHalfClose)
        var noEOF = OriginTCPRecord(bytesReceived: 1050)
        noEOF.end = .fin
        let held = Verdict.classify(outcome(.tcp, events, end: .timeout), context: VerdictContext(origin: OriginObservation(tcp: [noEOF])))
        #expect(held.kind == .noResponse && held.text.hasSuffix("the proxy never passed our FIN on (the origin saw no EOF and never replied)"))
    }

    @Test func everyKindSaysWhetherItConforms() {
        #expect(Verdict.Kind.allCases.filter { $0.conforms == true } == [.answers, .closes, .keepsOpen, .sparesBackend, .info])
        #expect(Verdict.Kind.failed.conforms == nil)
        #expect(Verdict.Kind(rawValue: "aborts-on-half-close") == .abortsOnHalfClose)
    }
}
