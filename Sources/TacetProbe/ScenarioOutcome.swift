/// What one scenario saw, as plain data: the input of the verdict classifier and of the JSON output.
public struct ScenarioOutcome: Sendable, Codable {
    public var scenario: ProbeScenario
    public var timeline: [TimelineEvent]
    public var responses: [ResponseSummary]
    /// How the connection ended for us: fin, rst, timeout, or open (we stopped reading).
    public var end: StreamEnd
    public var bytesReceived: Int
    /// Received bytes that were not part of any response (unparsed, or not HTTP).
    public var trailingBytes: Int
    /// A write that failed (e.g. "EPIPE after 65536 of 2097152 bytes"), and whether it was the peer's RST.
    public var writeError: String?
    public var writeFailedByReset: Bool
    /// Set when the scenario could not connect; nothing else is meaningful then.
    public var connectError: String?
    /// Over TLS: how the probe half-closed (nil when the scenario does not, or over plain TCP).
    public var tlsEnding: TLSEnding?
    /// Over TLS: how the server ended ("close_notify", "FIN without close_notify", "RST"), if it did.
    public var serverTLSEnding: String?
    /// The scenario's tag (what the origin files its requests under); nil without an origin.
    public var tag: String?
    /// The request target sent (path and query), for the matrix.
    public var path: String?
    /// CLOCK_MONOTONIC ms at the connect: the zero of `timeline`, to place the origin's times on it.
    public var startMs: Double = 0

    public init(scenario: ProbeScenario, timeline: [TimelineEvent] = [], responses: [ResponseSummary] = [],
                end: StreamEnd, bytesReceived: Int = 0, trailingBytes: Int = 0, writeError: String? = nil,
                writeFailedByReset: Bool = false, connectError: String? = nil) {
        self.scenario = scenario
        self.timeline = timeline
        self.responses = responses
        self.end = end
        self.bytesReceived = bytesReceived
        self.trailingBytes = trailingBytes
        self.writeError = writeError
        self.writeFailedByReset = writeFailedByReset
        self.connectError = connectError
    }

    /// The scenario's name, with the TLS half-close it used: "half-close (close_notify)".
    public var name: String { tlsEnding.map { "\(scenario.rawValue) (\($0.rawValue))" } ?? scenario.rawValue }

    public var finalResponses: [ResponseSummary] { responses.filter { !$0.isInterim } }
    public var completeFinals: [ResponseSummary] { finalResponses.filter(\.isComplete) }

    /// Time of the first event of a kind, in ms since connect.
    public func time(of kind: TimelineEvent.Kind) -> Double? { timeline.first { $0.kind == kind }?.ms }

    /// When we last acted (wrote, half-closed, closed): the moment the server's behaviour is timed from.
    var actionMs: Double {
        let ours: Set<TimelineEvent.Kind> = [.connected, .written, .writeFailed, .shutdownWrite, .closed, .reset]
        return timeline.last { ours.contains($0.kind) }?.ms ?? 0
    }

    /// When we did `kind` (shutdownWrite, closed...) on the CLOCK_MONOTONIC scale the origin uses.
    func monotonicMs(of kind: TimelineEvent.Kind) -> Double? { time(of: kind).map { startMs + $0 } }

    /// When the stream ended (fin, rst or timeout), if it did.
    var endMs: Double? { timeline.last { [.fin, .rst, .timeout].contains($0.kind) }?.ms }
}

/// One response, reduced to what verdicts and reports need.
public struct ResponseSummary: Sendable, Codable, Equatable {
    public var status: Int
    public var reason: String
    public var isInterim: Bool
    public var isComplete: Bool
    public var bodyBytes: Int
    /// The Content-Length it announced, if any.
    public var expectedBodyBytes: Int?
    public var server: String?
    /// `BodyDigest` of the body received: compared with the origin's or the baseline's.
    public var bodyDigest: String?

    public init(status: Int, reason: String = "", isInterim: Bool = false, isComplete: Bool = true,
                bodyBytes: Int = 0, expectedBodyBytes: Int? = nil, server: String? = nil) {
        self.status = status
        self.reason = reason
        self.isInterim = isInterim
        self.isComplete = isComplete
        self.bodyBytes = bodyBytes
        self.expectedBodyBytes = expectedBodyBytes
        self.server = server
    }

    init(_ response: ParsedResponse) {
        self.init(status: response.status, reason: response.reason, isInterim: response.isInterim,
                  isComplete: response.isComplete, bodyBytes: response.body.count,
                  expectedBodyBytes: response.expectedBodyLength, server: response.header("server"))
        bodyDigest = BodyDigest.of(response.body)
    }
}
