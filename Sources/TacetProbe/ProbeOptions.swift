/// Knobs for a probe run; the defaults are what `tacet probe URL` uses.
public struct ProbeOptions: Sendable {
    /// Seconds each blocking step of a scenario (connect, a write, a read) may take: no step waits
    /// longer, so a scenario ends within a few timeouts plus `finWait`, whatever the server does.
    public var timeout: Double = 5
    /// Seconds to wait for a FIN once the expected responses are in, before calling it "kept open".
    public var finWait: Double = 1
    /// Method of the plain requests (baseline, half-close, pipelined, close).
    public var method: String = "GET"
    /// Extra header fields, added to every HTTP request; a Host given here replaces the default one.
    public var headers: [(String, String)] = []
    /// Body bytes in the `body` scenario, and bytes sent in the `tcp` scenario.
    public var bodySize: Int = 1024
    /// Where the `reject-body` scenario sends its 2 MiB: by default the probed URL, with POST.
    public var rejectTarget: HTTPTarget?
    public var rejectMethod: String = "POST"
    public var rejectBodySize: Int = 2 << 20
    /// Opens the connections of an `https://` target; a probe of one without it cannot test.
    public var tls: (any ProbeTLSConnector)?
    /// The probe's own origin behind the proxy under test: scenarios then use its paths, tag
    /// their requests, and are judged on what it saw too.
    public var origin: (any OriginView)?
    /// `--path SCENARIO=PATH`: a scenario's own path (with an origin, its tag is added to the query).
    public var paths: [ProbeScenario: String] = [:]
    /// With an origin: how late `/slow` and `/echo` answer in half-close and body (so the FIN
    /// reaches the proxy while it waits), and in close (time enough to see the proxy give up).
    public var slowMs = 300
    public var closeMs = 2000
    /// With an origin: how long after our FIN its TCP service replies (socat gives up after 500 ms).
    public var lateReplyMs = 1000

    public init() {}

    /// The method for the `body` scenario: --method when it is one that carries a body, else POST.
    var bodyMethod: String {
        ["GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"].contains(method.uppercased()) ? "POST" : method
    }
}
