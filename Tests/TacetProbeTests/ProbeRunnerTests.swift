import Dispatch
import Testing
@testable import TacetProbe
import TacetTestSupport

private let ok = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"

/// Whole scenarios against fake servers that each behave one known way.
@Suite struct ProbeRunnerTests {
    func probe(_ server: MultiServer, timeout: Double = 3) -> Probe {
        var options = ProbeOptions()
        options.timeout = timeout
        options.finWait = 0.3
        return Probe(target: .http(HTTPTarget(host: "127.0.0.1", port: server.port, path: "/")), options: options)
    }

    /// Answers every whole request at once, then FIN after the client's FIN: Tacet's promise 1.
    static func goodServer() throws -> MultiServer {
        try MultiServer { socket in
            socket.serveRequests { _ in socket.write(ok) }
            socket.shutdownWrite()
        }
    }

    @Test func aServerThatAnswersHalfClosedClientsPassesTheSuite() throws {
        let server = try Self.goodServer()
        defer { server.stop() }
        let report = try probe(server).run()
        let kinds = Dictionary(uniqueKeysWithValues: report.summaries.map { ($0.scenario, $0.verdict.kind) })
        #expect(kinds[.baseline] == .answers)
        #expect(kinds[.halfClose] == .answers)
        #expect(kinds[.pipelined] == .answers)
        #expect(kinds[.body] == .answers)
        #expect(kinds[.halfHeaders] == .closes)
        #expect(kinds[.idle] == .closes)
        #expect(kinds[.close] == .info)
        let halfClose = try #require(report.runs.first?.results.first { $0.scenario == .halfClose })
        #expect(halfClose.outcome.timeline.map(\.kind) == [.connected, .written, .shutdownWrite, .firstByte, .statusLine, .bodyComplete, .fin])
        print(ReportRenderer.table(report))
    }

    @Test func aServerThatAbortsOnFINIsCalledOut() throws {
        // Like nginx's proxy default: work takes a while, and a FIN meanwhile drops the request.
        let server = try MultiServer { socket in
            _ = socket.read(until: "\r\n\r\n")
            if socket.waitForClient(ms: 300) == .fin { return }
            socket.write(ok)
            _ = socket.readToEnd()
        }
        defer { server.stop() }
        let report = try probe(server).run(scenarios: [.halfClose])
        let verdict = try #require(report.summaries.first?.verdict)
        #expect(verdict.kind == .abortsOnHalfClose)
        #expect(verdict.text.hasPrefix("treats half-close as abort: FIN without a response after"))
        #expect(report.runs.first?.baseline?.verdict.kind == .answers)
    }

    @Test func anEmptyAnswerToAHalfClosedClientIsMadeUp() throws {
        // Like Caddy from 2.6: an empty 200 that the backend never sent.
        let server = try MultiServer { socket in
            _ = socket.read(until: "\r\n\r\n")
            if socket.waitForClient(ms: 300) == .fin {
                socket.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                return
            }
            socket.write(ok)
            _ = socket.readToEnd()
        }
        defer { server.stop() }
        let verdict = try #require(try probe(server).run(scenarios: [.halfClose]).summaries.first?.verdict)
        #expect(verdict == Verdict(.madeUp, "answered 200 with an empty body where the baseline sent 6 bytes: a made-up response"))
    }

    @Test func aRejectionFollowedByAnRSTIsReported() throws {
        let server = try MultiServer { socket in
            let head = socket.read(until: "\r\n\r\n")
            if String(decoding: head, as: UTF8.self).hasPrefix("POST") {
                socket.write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                socket.reset()
                return
            }
            socket.write(ok)
            _ = socket.readToEnd()
        }
        defer { server.stop() }
        let verdict = try #require(try probe(server).run(scenarios: [.rejectBody]).summaries.first?.verdict)
        #expect([.answersThenReset, .resetDestroyedResponse].contains(verdict.kind))
    }

    @Test func aSilentServerNeverHoldsTheProbePastItsTimeout() throws {
        // Silent even after the client's FIN: it holds the connection until the test is over.
        let release = DispatchSemaphore(value: 0)
        let server = try MultiServer { socket in
            _ = socket.readToEnd()
            _ = release.wait(timeout: .now() + 10)
            release.signal()
        }
        defer {
            release.signal()
            server.stop()
        }
        let clock = ContinuousClock()
        let start = clock.now
        let report = try probe(server, timeout: 0.4).run(scenarios: [.halfClose])
        let elapsed = clock.now - start
        #expect(report.summaries.first?.verdict.kind == .noResponse)
        #expect(report.runs.first?.baseline?.verdict.kind == .noResponse)
        #expect(elapsed < .seconds(2))
    }

    @Test func aTCPEchoThatForwardsTheHalfCloseAnswers() throws {
        let server = try MultiServer { socket in
            let (bytes, _) = socket.readToEnd()
            socket.write(bytes)
        }
        defer { server.stop() }
        var options = ProbeOptions()
        options.bodySize = 100
        let report = try Probe(target: .tcp(host: "127.0.0.1", port: server.port), options: options).run()
        let verdict = try #require(report.summaries.first?.verdict)
        #expect(verdict.kind == .answers)
        #expect(verdict.text.hasPrefix("answers half-closed clients: 100 bytes back, then FIN"))
    }

    @Test func aRefusedFirstConnectionIsAnError() {
        let probe = Probe(target: .http(HTTPTarget(host: "127.0.0.1", port: refusingPort())))
        #expect(throws: ProbeError.self) { try probe.run() }
        #expect(throws: ProbeError.self) { try Probe(target: .tcp(host: "127.0.0.1", port: refusingPort())).run() }
        #expect(throws: ProbeError.self) { try probe.run(scenarios: [.tcp]) }
    }
}
