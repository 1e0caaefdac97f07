import Foundation

/// Renders a report for people (a table, optionally with timelines) or machines (JSON).
public enum ReportRenderer {
    /// The matrix for people: one row per scenario (what was sent, what came back, what the
    /// origin saw when there is one, the verdict), each verdict's sentence below its row, every
    /// repetition when they disagree, and the non-conforming rows counted at the end.
    public static func table(_ report: ProbeReport, timelines: Bool = false, allowing allowed: Set<Verdict.Kind> = []) -> String {
        let rows = report.summaries
        let withOrigin = rows.contains { $0.originSaw != "-" }
        var header = ["SCENARIO", "SENT", "CAME BACK"]
        if withOrigin { header.append("ORIGIN SAW") }
        header.append("VERDICT")
        let cells = rows.map { row -> [String] in
            var line = [row.name, row.sent, row.cameBack]
            if withOrigin { line.append(row.originSaw) }
            line.append(mark(row) + row.verdict.kind.rawValue)
            return line
        }
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        func format(_ line: [String]) -> String {
            let padded = line.enumerated().map { $0.offset == line.count - 1 ? $0.element : pad($0.element, widths[$0.offset]) }
            return padded.joined(separator: "  ")
        }
        var lines = ["probe \(report.target)" + (report.runs.count > 1 ? " (\(report.runs.count) repetitions)" : ""), ""]
        lines.append(format(header))
        for (row, line) in zip(rows, cells) {
            lines.append(format(line))
            lines.append("    " + row.verdict.text)
            for repetition in row.disagreement ?? [] { lines.append("    ! repetition " + repetition) }
        }
        lines.append("")
        lines.append(conclusion(report, allowing: allowed))
        if timelines, let run = report.runs.first {
            for result in run.results {
                lines.append("")
                lines.append("\(result.outcome.name) (\(result.scenario.summary)):")
                lines.append(contentsOf: timeline(result.outcome.timeline).map { "  " + $0 })
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The same matrix as a Markdown table (for a CI summary or an issue).
    public static func markdown(_ report: ProbeReport, allowing allowed: Set<Verdict.Kind> = []) -> String {
        let rows = report.summaries
        var lines = ["**tacet probe** `\(report.target)`" + (report.runs.count > 1 ? " (\(report.runs.count) repetitions)" : ""), "",
                     "| scenario | sent | came back | origin saw | verdict |", "| --- | --- | --- | --- | --- |"]
        for row in rows {
            var verdict = "\(mark(row))**\(row.verdict.kind.rawValue)**: \(row.verdict.text)"
            if let reps = row.disagreement { verdict += "<br>repetitions disagree: " + reps.joined(separator: "<br>") }
            let cells = [row.name, row.sent, row.cameBack, row.originSaw, verdict].map { $0.replacingOccurrences(of: "|", with: "\\|") }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines.append("")
        lines.append(conclusion(report, allowing: allowed))
        return lines.joined(separator: "\n")
    }

    /// "✗ " for a row that does not conform, "? " for one not tested.
    static func mark(_ row: ProbeReport.Summary) -> String {
        row.conforms == false ? "✗ " : row.conforms == nil ? "? " : ""
    }

    static func conclusion(_ report: ProbeReport, allowing allowed: Set<Verdict.Kind>) -> String {
        let (failing, untested) = report.nonconforming(allowing: allowed)
        let accepted = allowed.isEmpty ? "" : " (accepting \(allowed.map(\.rawValue).sorted().joined(separator: ", ")))"
        if failing.isEmpty && untested.isEmpty { return "conforms: every scenario (RFC 9112 §9.6)" + accepted }
        var parts: [String] = []
        if !failing.isEmpty { parts.append("\(failing.count) scenario\(failing.count == 1 ? " does" : "s do") not conform (\(failing.map(\.name).joined(separator: ", ")))") }
        if !untested.isEmpty { parts.append("\(untested.count) could not be tested (\(untested.map(\.name).joined(separator: ", ")))") }
        return parts.joined(separator: "; ")
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
