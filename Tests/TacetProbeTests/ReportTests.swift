import Foundation
import Testing
@testable import TacetProbe

@Suite struct ReportTests {
    func result(_ scenario: ProbeScenario, _ kind: Verdict.Kind, _ text: String) -> ScenarioResult {
        ScenarioResult(outcome: ScenarioOutcome(scenario: scenario, timeline: [TimelineEvent(ms: 0.25, kind: .connected)], end: .fin),
                       verdict: Verdict(kind, text))
    }

    @Test func repetitionsThatDisagreeAreNamed() {
        let report = ProbeReport(target: "http://x/", runs: [
            ProbeRun(baseline: nil, results: [result(.halfClose, .answers, "answers"), result(.idle, .closes, "closes")]),
            ProbeRun(baseline: nil, results: [result(.halfClose, .abortsOnHalfClose, "aborts"), result(.idle, .closes, "closes")]),
            ProbeRun(baseline: nil, results: [result(.halfClose, .answers, "answers"), result(.idle, .closes, "closes")]),
        ])
        let summaries = report.summaries
        #expect(summaries.map(\.scenario) == [.halfClose, .idle])
        // The worst repetition is the row's verdict, and each repetition is shown.
        #expect(summaries[0].verdict.kind == .abortsOnHalfClose)
        #expect(summaries[0].conforms == false)
        #expect(summaries[0].disagreement == ["1: answers, [], fin, - (answers)", "2: aborts-on-half-close, [], fin, - (aborts)",
                                              "3: answers, [], fin, - (answers)"])
        #expect(summaries[1].disagreement == nil)
        let table = ReportRenderer.table(report)
        #expect(table.contains("✗ aborts-on-half-close"))
        #expect(table.contains("! repetition 2: aborts-on-half-close"))
        #expect(table.hasSuffix("1 scenario does not conform (half-close)"))
    }

    @Test("Repetitions with the same verdict but another status, end or timing class disagree")
    func disagreementOnStatusEndAndTiming() {
        func run(_ status: Int, _ end: StreamEnd, statusAt: Double) -> ProbeRun {
            let outcome = ScenarioOutcome(scenario: .halfClose, timeline: [TimelineEvent(ms: 0, kind: .connected), TimelineEvent(ms: 1, kind: .shutdownWrite),
                                                                            TimelineEvent(ms: statusAt, kind: .statusLine)],
                                          responses: [ResponseSummary(status: status)], end: end)
            return ProbeRun(baseline: nil, results: [ScenarioResult(outcome: outcome, verdict: Verdict(.answers, "answers"))])
        }
        let same = ProbeReport(target: "x", runs: [run(200, .fin, statusAt: 3), run(200, .fin, statusAt: 5)])
        #expect(same.summaries[0].disagreement == nil)
        for other in [run(400, .fin, statusAt: 3), run(200, .rst, statusAt: 3), run(200, .fin, statusAt: 400)] {
            let report = ProbeReport(target: "x", runs: [run(200, .fin, statusAt: 3), other])
            #expect(report.summaries[0].disagreement?.count == 2)
        }
    }

    @Test("--allow must accept every repetition's deviation, not only the row's")
    func allowCoversEveryRepetition() {
        let report = ProbeReport(target: "x", runs: [
            ProbeRun(baseline: nil, results: [result(.halfClose, .resets, "resets")]),
            ProbeRun(baseline: nil, results: [result(.halfClose, .abortsOnHalfClose, "aborts")]),
        ])
        #expect(report.nonconforming(allowing: [.resets]).failing.count == 1)
        #expect(report.nonconforming(allowing: [.resets, .abortsOnHalfClose]).failing.isEmpty)
        #expect(ReportRenderer.table(report, allowing: [.resets, .abortsOnHalfClose])
                .hasSuffix("conforms: every scenario (RFC 9112 §9.6) (accepting aborts-on-half-close, resets)"))
    }

    @Test func markdownHasOneRowPerScenario() {
        let report = ProbeReport(target: "http://x/", runs: [ProbeRun(baseline: nil, results: [result(.halfClose, .answers, "answers"),
                                                                                               result(.close, .keepsBackendBusy, "busy")])])
        let markdown = ReportRenderer.markdown(report)
        #expect(markdown.contains("| scenario | sent | came back | origin saw | verdict |"))
        #expect(markdown.contains("| half-close | request + SHUT_WR | nothing, FIN | - | **answers**: answers |"))
        #expect(markdown.contains("| close | request + full close | nothing, FIN | - | ✗ **keeps-backend-busy**: busy |"))
        #expect(markdown.hasSuffix("1 scenario does not conform (close)"))
        #expect(report.nonconforming(allowing: [.keepsBackendBusy]).failing.isEmpty)
    }

    @Test func jsonCarriesSummariesAndTimelines() throws {
        let report = ProbeReport(target: "http://x/", runs: [ProbeRun(baseline: nil, results: [result(.halfClose, .answers, "answers")])])
        let json = try ReportRenderer.json(report)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let summaries = try #require(object["summaries"] as? [[String: Any]])
        #expect(summaries.first?["scenario"] as? String == "half-close")
        #expect(json.contains("\"connected\""))
    }

    @Test func timelineLinesAreAligned() {
        let lines = ReportRenderer.timeline([TimelineEvent(ms: 0.3, kind: .connected, detail: "127.0.0.1:80"),
                                             TimelineEvent(ms: 1004.5, kind: .statusLine, detail: "200 OK")])
        #expect(lines == ["     0.3 ms  connected     127.0.0.1:80", "  1004.5 ms  status line   200 OK"])
    }
}
