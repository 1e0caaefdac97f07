import Testing
@testable import TacetProbe

/// The probe against a real nginx proxying to a slow backend: it must report that nginx drops a
/// half-closed client's request by default, and answers it with proxy_ignore_client_abort on.
@Suite(.serialized, .enabled(if: NginxFixture.isAvailable, Comment(rawValue: NginxFixture.skipReason)))
struct NginxTests {
    func probe(_ nginx: NginxFixture) -> Probe {
        var options = ProbeOptions()
        options.timeout = 5
        return Probe(target: .http(HTTPTarget(host: "127.0.0.1", port: nginx.port, path: "/")), options: options)
    }

    @Test func nginxDropsAHalfClosedClientsRequestByDefault() throws {
        let backend = try SlowBackend()
        defer { backend.stop() }
        let nginx = try NginxFixture(backendPort: backend.port, ignoreClientAbort: false)
        defer { nginx.stop() }
        let report = try probe(nginx).run()
        print(ReportRenderer.table(report, timelines: true))
        let summaries = Dictionary(uniqueKeysWithValues: report.summaries.map { ($0.scenario, $0.verdict) })
        #expect(summaries[.baseline]?.kind == .answers)
        let halfClose = try #require(summaries[.halfClose])
        #expect(halfClose.kind == .abortsOnHalfClose)
        #expect(halfClose.text.contains("proxy_ignore_client_abort"))
        #expect(summaries[.pipelined]?.kind == .abortsOnHalfClose)
        #expect(summaries[.body]?.kind == .abortsOnHalfClose)
        #expect(nginx.accessLog.contains(" 499 "))
    }

    @Test func nginxAnswersWithProxyIgnoreClientAbortOn() throws {
        let backend = try SlowBackend()
        defer { backend.stop() }
        let nginx = try NginxFixture(backendPort: backend.port, ignoreClientAbort: true)
        defer { nginx.stop() }
        let report = try probe(nginx).run(scenarios: [.halfClose, .pipelined])
        print(ReportRenderer.table(report, timelines: true))
        let halfClose = try #require(report.runs.first?.results.first)
        #expect(halfClose.verdict.kind == .answers)
        #expect(halfClose.verdict.text.hasPrefix("answers half-closed clients: 200 after"))
        #expect(halfClose.outcome.completeFinals.first?.bodyBytes == 6)
        #expect(report.summaries.last?.verdict.kind == .answers)
        #expect(!backend.events.contains(.abandoned))
    }
}
