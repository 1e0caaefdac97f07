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
        #expect(summaries[0].disagreement == "repetitions disagree: 2× answers, 1× abortsOnHalfClose")
        #expect(summaries[1].disagreement == nil)
        let table = ReportRenderer.table(report)
        #expect(table.contains("half-close  answers"))
        #expect(table.contains("! repetitions disagree"))
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
