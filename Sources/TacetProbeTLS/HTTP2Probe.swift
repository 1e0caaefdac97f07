import NIOCore
import NIOHTTP2
import NIOPosix
import TacetProbe

/// `tacet probe --http2 URL`: what a server does with HTTP/2's own ends, where "done sending" and
/// "gone" are different frames. Three scenarios, each on its own connection:
/// - `h2-end-stream`: a request whose HEADERS carry END_STREAM (done sending): answered?
/// - `h2-rst-stream`: RST_STREAM while the answer is awaited (gone from that request): does the
///   connection survive it and answer the next stream? With the probe's origin behind a proxy:
///   did the proxy spare its backend (close the upstream request) or keep it busy?
/// - `h2-fin-in-flight`: the client's TCP FIN (over TLS, `close_notify`) with a stream in flight:
///   answered before the close, or dropped?
public struct HTTP2Probe: Sendable {
    public enum Scenario: String, CaseIterable, Codable, Sendable {
        case endStream = "h2-end-stream"
        case rstStream = "h2-rst-stream"
        case finInFlight = "h2-fin-in-flight"

        public var summary: String {
            switch self {
            case .endStream: return "HEADERS with END_STREAM, then wait"
            case .rstStream: return "RST_STREAM while waiting, then a second stream"
            case .finInFlight: return "a stream in flight, then TCP FIN / close_notify"
            }
        }
    }

    /// One scenario's verdict: `kind` for machines, `text` for people.
    public struct Result: Codable, Sendable {
        public var scenario: Scenario
        public var kind: String
        public var text: String
        public var status: Int?
        public var bodyBytes: Int

        /// Conforms (END_STREAM and a FIN are not aborts, RFC 9113 §8.1 and RFC 9112 §9.6; an
        /// RST_STREAM ends one stream, §5.4.2); nil when it could not be tested.
        public var conforms: Bool? {
            switch kind {
            case "answers", "survivesReset", "info": return true
            case "error": return nil
            default: return false
            }
        }
    }

    public var target: HTTPTarget
    public var trust: TLSRelay.Trust
    public var timeout: Double
    /// How long the `h2-rst-stream` scenario waits for the answer before resetting the stream.
    public var resetAfterMs: Int
    /// The probe's origin behind the proxy under test: each scenario then asks its own path
    /// (`/fast`, `/slow`), answers are compared with the origin's, and `h2-rst-stream` says
    /// whether the backend was spared.
    public var origin: (any OriginView)?
    /// With an origin: how late `/slow` answers in h2-fin-in-flight, and in h2-rst-stream.
    public var slowMs = 300
    public var resetSlowMs = 2000
    private let runID = String(UInt32.random(in: 0...UInt32.max), radix: 36)

    public init(target: HTTPTarget, trust: TLSRelay.Trust, timeout: Double = 5, resetAfterMs: Int = 100) {
        self.target = target
        self.trust = trust
        self.timeout = timeout
        self.resetAfterMs = resetAfterMs
    }

    /// Runs every scenario; throws a one-line `ProbeError` when the first connection fails (no
    /// server, no HTTP/2, a failed handshake).
    public func run(_ scenarios: [Scenario] = Scenario.allCases) throws -> [Result] {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        var results: [Result] = []
        for scenario in scenarios {
            let connection: HTTP2ProbeConnection
            do {
                connection = try HTTP2ProbeConnection.connect(target, trust: trust, group: group, timeout: timeout)
            } catch {
                if results.isEmpty { throw error }
                results.append(Result(scenario: scenario, kind: "error", text: "could not connect: \(error)", status: nil, bodyBytes: 0))
                continue
            }
            defer { connection.close() }
            results.append(try run(scenario, on: connection))
        }
        return results
    }

    private var scheme: String { target.isTLS ? "https" : "http" }

    /// The path a scenario's stream asks for, and its tag: the probed URL's without an origin;
    /// with one, the origin path under the URL's path.
    private func request(_ scenario: Scenario, _ origin: String) -> (path: String, tag: String?) {
        guard self.origin != nil else { return (target.path, nil) }
        let tag = "\(runID)-\(scenario.rawValue)-\(origin.hasPrefix("/fast") ? "next" : "1")"
        let prefix = target.path.hasSuffix("/") ? String(target.path.dropLast()) : String(target.path.prefix { $0 != "?" })
        return (prefix + origin + (origin.contains("?") ? "&" : "?") + "tacet=\(tag)", tag)
    }

    /// With an origin: an answer that is not what the origin sent is altered or made up.
    private func checked(_ result: Result, _ answer: StreamAnswer, tag: String?) -> Result {
        guard result.kind == "answers", let tag, let origin else { return result }
        let seen = origin.wait(tag: tag, timeout: timeout) { $0.requests.first?.response != nil }
        guard let sent = seen.requests.first?.response else {
            return Result(scenario: result.scenario, kind: "madeUp",
                          text: "answered \(answer.status ?? 0) but the origin never answered that request: a made-up response",
                          status: answer.status, bodyBytes: answer.bodyBytes)
        }
        if sent.status != answer.status || sent.bodyDigest != BodyDigest.of(answer.body) {
            return Result(scenario: result.scenario, kind: sent.bodyBytes > 0 && answer.bodyBytes == 0 ? "madeUp" : "altered",
                          text: "answered \(answer.status ?? 0) with \(answer.bodyBytes) bytes where the origin sent \(sent.status) with \(sent.bodyBytes)",
                          status: answer.status, bodyBytes: answer.bodyBytes)
        }
        return Result(scenario: result.scenario, kind: "answers", text: result.text + " (the origin's answer, byte for byte)",
                      status: answer.status, bodyBytes: answer.bodyBytes)
    }

    private func run(_ scenario: Scenario, on connection: HTTP2ProbeConnection) throws -> Result {
        switch scenario {
        case .endStream:
            let (path, tag) = request(scenario, "/fast")
            try connection.request(stream: 1, method: "GET", path: path, scheme: scheme)
            connection.wait(timeout: timeout) { StreamAnswer($0, stream: 1).ended }
            let answer = StreamAnswer(connection.snapshot, stream: 1)
            return checked(verdict(scenario, answer, connection.snapshot, answered: "answers a request whose HEADERS carried END_STREAM"),
                           answer, tag: tag)

        case .rstStream:
            let (path, tag) = request(scenario, "/slow?ms=\(resetSlowMs)")
            try connection.request(stream: 1, method: "GET", path: path, scheme: scheme)
            if let tag, let origin {
                // Reset once the proxy has passed the request on: the question is what it does then.
                _ = origin.wait(tag: tag, timeout: timeout) { !$0.requests.isEmpty }
            }
            let early = connection.wait(timeout: Double(resetAfterMs) / 1000) { StreamAnswer($0, stream: 1).ended }
            if early {
                let answer = StreamAnswer(connection.snapshot, stream: 1)
                return Result(scenario: scenario, kind: "info",
                              text: "answered (\(answer.status.map(String.init) ?? "-")) within \(resetAfterMs) ms, before the reset: probe a slower path",
                              status: answer.status, bodyBytes: answer.bodyBytes)
            }
            try connection.reset(stream: 1)
            let resetAt = monotonicMs()
            try connection.request(stream: 3, method: "GET", path: request(scenario, "/fast").path, scheme: scheme)
            connection.wait(timeout: timeout) { StreamAnswer($0, stream: 3).ended }
            let next = StreamAnswer(connection.snapshot, stream: 3)
            if next.endedCleanly, let status = next.status {
                guard let tag, let origin else {
                    return Result(scenario: scenario, kind: "survivesReset",
                                  text: "took the RST_STREAM as that request's end and answered the next stream (\(status)); whether the backend was spared only the backend can see (run with --origin)",
                                  status: status, bodyBytes: next.bodyBytes)
                }
                let seen = origin.wait(tag: tag, timeout: Double(resetSlowMs) / 1000 + timeout) { $0.requests.first?.isSettled == true }
                return spared(seen.requests.first, resetAt: resetAt, next: status, bodyBytes: next.bodyBytes)
            }
            if connection.snapshot.closed || connection.snapshot.goAway != nil {
                return Result(scenario: scenario, kind: "closesOnReset",
                              text: "closed the connection after a stream reset\(connection.snapshot.goAway.map { " (GOAWAY \($0))" } ?? "")",
                              status: nil, bodyBytes: 0)
            }
            return Result(scenario: scenario, kind: "noResponse", text: "no answer on the next stream within \(timeout) s",
                          status: nil, bodyBytes: 0)

        case .finInFlight:
            let (path, tag) = request(scenario, "/slow?ms=\(slowMs)")
            try connection.request(stream: 1, method: "GET", path: path, scheme: scheme)
            try connection.finish()
            connection.wait(timeout: timeout) { StreamAnswer($0, stream: 1).ended }
            let answer = StreamAnswer(connection.snapshot, stream: 1)
            return checked(verdict(scenario, answer, connection.snapshot,
                                   answered: "answers the stream in flight after the client's \(target.isTLS ? "close_notify" : "FIN")"),
                           answer, tag: tag)
        }
    }

    /// With an origin, after an RST_STREAM: the proxy closed the reset request's upstream
    /// connection before the origin answered (spared), or left it working for nobody.
    private func spared(_ record: OriginRequestRecord?, resetAt: Double, next: Int, bodyBytes: Int) -> Result {
        func ms(_ value: Double) -> String { "\(Int(max(0, value).rounded())) ms" }
        guard let record else {
            return Result(scenario: .rstStream, kind: "error", text: "could not test: the reset request never reached the origin",
                          status: next, bodyBytes: bodyBytes)
        }
        if record.spared == true {
            let how = record.upstreamEnd == .rst ? "reset" : "closed"
            return Result(scenario: .rstStream, kind: "survivesReset",
                          text: "took the RST_STREAM as that request's end, answered the next stream (\(next)), and spared its backend: \(how) the upstream connection \(ms((record.upstreamEndMs ?? resetAt) - resetAt)) after the RST_STREAM",
                          status: next, bodyBytes: bodyBytes)
        }
        let answered = record.response.map { " (the origin answered \(ms($0.sentMs - resetAt)) after the RST_STREAM)" } ?? ""
        return Result(scenario: .rstStream, kind: "keepsBackendBusy",
                      text: "answered the next stream (\(next)) but kept its backend busy for the reset request\(answered)",
                      status: next, bodyBytes: bodyBytes)
    }

    private func verdict(_ scenario: Scenario, _ answer: StreamAnswer, _ snapshot: ProbeFrameRecorder.Snapshot,
                         answered: String) -> Result {
        if answer.endedCleanly, let status = answer.status {
            return Result(scenario: scenario, kind: "answers",
                          text: "\(answered): \(status) with \(answer.bodyBytes) bytes after \(Int(answer.endMs ?? 0)) ms",
                          status: status, bodyBytes: answer.bodyBytes)
        }
        if let code = answer.reset {
            return Result(scenario: scenario, kind: "resets", text: "reset the stream (\(code)) instead of answering",
                          status: answer.status, bodyBytes: answer.bodyBytes)
        }
        if let status = answer.status {
            // After its FIN the client can send no WINDOW_UPDATE: an answer longer than the
            // stream's window (64 KiB unless the client said otherwise) cannot finish then.
            let hint = scenario == .finInFlight && answer.bodyBytes >= 65_535
                ? "; a client that has sent its FIN can open no flow-control window, so probe a path with an answer under 64 KiB" : ""
            let why = snapshot.closed ? "the connection closed" : "the wait ended"
            return Result(scenario: scenario, kind: "shortAnswer",
                          text: "began answering (\(status), \(answer.bodyBytes) bytes) but \(why) before its end\(hint)",
                          status: status, bodyBytes: answer.bodyBytes)
        }
        if snapshot.closed || snapshot.goAway != nil {
            return Result(scenario: scenario, kind: "drops",
                          text: "closed the connection without an answer\(snapshot.goAway.map { " (GOAWAY \($0))" } ?? "")",
                          status: answer.status, bodyBytes: answer.bodyBytes)
        }
        return Result(scenario: scenario, kind: "noResponse", text: "no answer within \(timeout) s; the connection stayed open",
                      status: nil, bodyBytes: 0)
    }

    /// The table `tacet probe --http2` prints.
    public static func table(_ results: [Result], target: HTTPTarget) -> String {
        let width = Scenario.allCases.map(\.rawValue.count).max() ?? 16
        var lines = ["probe --http2 \(target)", "", "SCENARIO".padding(toLength: width, withPad: " ", startingAt: 0) + "  VERDICT"]
        for result in results {
            let mark = result.conforms == false ? "✗ " : result.conforms == nil ? "? " : ""
            lines.append(result.scenario.rawValue.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + mark + result.kind + ": " + result.text)
        }
        return lines.joined(separator: "\n")
    }
}

/// One stream's frames read as an answer.
struct StreamAnswer {
    var status: Int?
    var bodyBytes = 0
    /// The body, kept up to 1 MiB (to compare with the origin's).
    var body: [UInt8] = []
    var endedCleanly = false
    var reset: HTTP2ErrorCode?
    var endMs: Double?
    var ended: Bool { endedCleanly || reset != nil }

    init(_ snapshot: ProbeFrameRecorder.Snapshot, stream: Int) {
        for (ms, frame) in snapshot.stream(stream) {
            switch frame.payload {
            case .headers(let headers):
                if let code = headers.headers.first(name: ":status").flatMap(Int.init), code >= 200 { status = code }
                if headers.endStream { endedCleanly = true; endMs = ms }
            case .data(let data):
                bodyBytes += data.data.readableBytes
                if case .byteBuffer(let buffer) = data.data, body.count < 1 << 20 { body += buffer.readableBytesView }
                if data.endStream { endedCleanly = true; endMs = ms }
            case .rstStream(let code):
                reset = code
                endMs = ms
            default:
                break
            }
        }
    }
}

extension ProbeFrameRecorder.Snapshot {
    /// The error code of the server's GOAWAY, if it sent one.
    var goAway: HTTP2ErrorCode? {
        for (_, frame) in frames {
            if case .goAway(_, let code, _) = frame.payload { return code }
        }
        return nil
    }
}
