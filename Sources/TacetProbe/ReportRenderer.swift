import Foundation

/// Renders a report for people (a table, optionally with timelines) or machines (JSON).
public enum ReportRenderer {
    /// One row per scenario: name, then the plain-words verdict; disagreements between repetitions
    /// on the line below.
    public static func table(_ report: ProbeReport, timelines: Bool = false) -> String {
        let summaries = report.summaries
        let width = max(8, summaries.map { $0.name.count }.max() ?? 8)
        let serverEnds = report.runs.first?.results.map(\.outcome.serverTLSEnding) ?? []
        var lines = ["probe \(report.target)" + (report.runs.count > 1 ? " (\(report.runs.count) repetitions)" : ""), ""]
        lines.append(pad("SCENARIO", width) + "  VERDICT")
        for (index, summary) in summaries.enumerated() {
            let tls = index < serverEnds.count ? serverEnds[index].map { " [server TLS end: \($0)]" } ?? "" : ""
            lines.append(pad(summary.name, width) + "  " + summary.verdict.text + tls)
            if let note = summary.disagreement { lines.append(pad("", width) + "  ! " + note) }
        }
        if timelines, let run = report.runs.first {
            for result in run.results {
                lines.append("")
                lines.append("\(result.outcome.name) (\(result.scenario.summary)):")
                lines.append(contentsOf: timeline(result.outcome.timeline).map { "  " + $0 })
            }
        }
        return lines.joined(separator: "\n")
    }

    /// "   1.2 ms  status line  200 OK", one line per event.
    public static func timeline(_ events: [TimelineEvent]) -> [String] {
        events.map { event in
            let ms = String(format: "%8.1f ms", event.ms)
            let name = pad(label(event.kind), 14)
            let line = "\(ms)  \(name)\(event.detail)"
            return String(line.reversed().drop { $0 == " " }.reversed())
        }
    }

    static func label(_ kind: TimelineEvent.Kind) -> String {
        switch kind {
        case .connected: return "connected"
        case .written: return "written"
        case .writeFailed: return "write failed"
        case .shutdownWrite: return "SHUT_WR sent"
        case .closed: return "close sent"
        case .reset: return "reset sent"
        case .firstByte: return "first byte"
        case .interim: return "1xx"
        case .statusLine: return "status line"
        case .bodyComplete: return "body complete"
        case .bodyShort: return "body short"
        case .fin: return "FIN"
        case .rst: return "RST"
        case .timeout: return "timeout"
        }
    }

    /// The whole report, every repetition and timeline included, with the summaries on top.
    public static func json(_ report: ProbeReport) throws -> String {
        struct Document: Encodable {
            var target: String
            var summaries: [ProbeReport.Summary]
            var runs: [ProbeRun]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(Document(target: report.target, summaries: report.summaries, runs: report.runs))
        return String(decoding: data, as: UTF8.self)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
