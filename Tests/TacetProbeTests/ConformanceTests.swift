import Foundation
@testable import TacetProbe
import TacetTestSupport
import Testing

/// `tacet probe` as a conformance test against real proxies in front of its own origin: each
/// configuration's matrix asserted cell by cell (verdict, and what the origin saw).
@Suite(.serialized) struct ConformanceTests {
    /// Runs the suite through `port` (an http URL, or `--tcp`) with `origin` behind it.
    static func probe(_ origin: ProbeOrigin, http port: Int? = nil, tcp: Int? = nil) throws -> ProbeReport {
        var options = ProbeOptions()
        options.timeout = 10
        options.finWait = 10
        options.origin = LocalOrigin(origin)
        let target: ProbeTarget = tcp.map { .tcp(host: "127.0.0.1", port: $0) } ?? .http(HTTPTarget(host: "127.0.0.1", port: port ?? 0, path: "/"))
        return try Probe(target: target, options: options).run()
    }

    static func row(_ report: ProbeReport, _ scenario: ProbeScenario) -> ProbeReport.Summary? {
        report.summaries.first { $0.scenario == scenario }
    }

    static func nginxHTTP(origin: Int, ignoreClientAbort: Bool) throws -> NginxFixture {
        try NginxFixture(backendPort: origin, ignoreClientAbort: ignoreClientAbort)
    }

    @Test("nginx default: the half-closed request dropped (never forwarded, or nginx's FIN before the origin's answer), the backend spared on close()")
    func nginxDefault() throws {
        guard NginxFixture.isAvailable else { return }
        let origin = try ProbeOrigin(host: "127.0.0.1", httpPort: 0)
        defer { origin.stop() }
        let nginx = try Self.nginxHTTP(origin: origin.httpPort, ignoreClientAbort: false)
        defer { nginx.stop() }
        let report = try Self.probe(origin, http: nginx.port)
        let text = ReportRenderer.table(report)
        #expect(Self.row(report, .baseline)?.verdict.kind == .answers, "\(text)")
        let halfClose = try #require(Self.row(report, .halfClose))
        #expect(halfClose.verdict.kind == .abortsOnHalfClose, "\(text)")
        // nginx drops it before forwarding when it sees the FIN first, else closes upstream at once.
        let seen = report.runs[0].results.first { $0.scenario == .halfClose }?.origin?.requests.first
        #expect(seen == nil || seen?.spared == true, "\(text)")
        #expect(Self.row(report, .body)?.verdict.kind == .abortsOnHalfClose, "\(text)")
        #expect(Self.row(report, .close)?.verdict.kind == .sparesBackend, "\(text)")
        #expect(Self.row(report, .idle)?.verdict.kind == .closes, "\(text)")
        #expect(report.nonconforming().failing.map(\.scenario).contains(.halfClose))
        #expect(report.nonconforming(allowing: [.abortsOnHalfClose]).failing.allSatisfy { $0.verdict.kind != .abortsOnHalfClose })
    }

    @Test("nginx with proxy_ignore_client_abort on: half-closed clients answered with the origin's bytes, the backend kept busy on close()")
    func nginxIgnoreClientAbort() throws {
        guard NginxFixture.isAvailable else { return }
        let origin = try ProbeOrigin(host: "127.0.0.1", httpPort: 0)
        defer { origin.stop() }
        let nginx = try Self.nginxHTTP(origin: origin.httpPort, ignoreClientAbort: true)
        defer { nginx.stop() }
        let report = try Self.probe(origin, http: nginx.port)
        let text = ReportRenderer.table(report)
        #expect(Self.row(report, .halfClose)?.verdict.kind == .answers, "\(text)")
        #expect(Self.row(report, .body)?.verdict.kind == .answers, "\(text)")
        #expect(Self.row(report, .close)?.verdict.kind == .keepsBackendBusy, "\(text)")
        let closed = try #require(report.runs[0].results.first { $0.scenario == .close }?.origin?.requests.first)
        #expect(closed.spared == false && closed.response?.status == 200, "\(text)")
        #expect(report.nonconforming().failing.map(\.scenario) == [.close], "\(text)")
    }

    static func nginxStream(origin: Int, halfClose: Bool) throws -> NginxFixture {
        try NginxFixture { port, dir in
            """
            stream {
                server {
                    listen 127.0.0.1:\(port);
                    proxy_pass 127.0.0.1:\(origin);
                    \(halfClose ? "proxy_half_close on;" : "")
                }
            }
            """
        }
    }

    @Test("nginx stream without proxy_half_close: the origin's late reply is lost (it saw EOF, replied, and was reset); with it: delivered",
          arguments: [false, true])
    func nginxStream(halfClose: Bool) throws {
        guard NginxFixture.isAvailable else { return }
        guard NginxFixture.streamModule != nil else {
            print("skipping nginx stream test: the stream module is not installed (apt-get install -y libnginx-mod-stream)")
            return
        }
        let origin = try ProbeOrigin(host: "127.0.0.1", httpPort: 0)
        defer { origin.stop() }
        let nginx = try Self.nginxStream(origin: origin.tcpPort, halfClose: halfClose)
        defer { nginx.stop() }
        let report = try Self.probe(origin, tcp: nginx.port)
        let text = ReportRenderer.table(report)
        let row = try #require(Self.row(report, .tcp))
        let seen = try #require(report.runs[0].results.first?.origin?.tcp.first)
        #expect(seen.eofMs != nil, "\(text)")
        if halfClose {
            #expect(row.verdict.kind == .answers, "\(text)")
            #expect(seen.reply != nil && seen.end == .fin, "\(text)")
        } else {
            #expect(row.verdict.kind == .abortsOnHalfClose, "\(text)")
            #expect(row.verdict.text.contains("drops a late reply") || row.verdict.text.contains("before the origin's late reply"), "\(text)")
        }
    }

    @Test("HAProxy (mode http, defaults): half-closed clients answered with the origin's bytes, the rejection whole, the backend kept busy on close()")
    func haproxy() throws {
        guard HAProxyFixture.isAvailable else { return }
        let origin = try ProbeOrigin(host: "127.0.0.1", httpPort: 0)
        defer { origin.stop() }
        let haproxy = try HAProxyFixture(backendPort: origin.httpPort)
        defer { haproxy.stop() }
        let report = try Self.probe(origin, http: haproxy.port)
        let text = ReportRenderer.table(report)
        #expect(Self.row(report, .baseline)?.verdict.kind == .answers, "\(text)")
        #expect(Self.row(report, .halfClose)?.verdict.kind == .answers, "\(text)")
        #expect(Self.row(report, .body)?.verdict.kind == .answers, "\(text)")
        #expect(Self.row(report, .rejectBody)?.verdict.kind == .answers, "\(text)")
        #expect(Self.row(report, .close)?.verdict.kind == .keepsBackendBusy, "\(text)")
        let closed = try #require(report.runs[0].results.first { $0.scenario == .close }?.origin?.requests.first)
        #expect(closed.spared == false, "\(text)")
    }
}
