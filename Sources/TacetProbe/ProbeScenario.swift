/// One way of ending or shaping a request, run on its own connection. The raw value is the name
/// `--scenario` takes.
public enum ProbeScenario: String, CaseIterable, Codable, Sendable {
    /// A request, no shutdown: what every other scenario is compared with.
    case baseline
    /// The body scenario's request (POST and a body), no shutdown: what `body` is compared with.
    case baselineBody = "baseline-body"
    /// A request, then SHUT_WR: does the server still answer?
    case halfClose = "half-close"
    /// Three requests in one write, then SHUT_WR: are all three answered?
    case pipelined
    /// A request with a body (POST unless --method names another body method), then SHUT_WR.
    case body
    /// Half a header block, then SHUT_WR: a request that can never complete.
    case halfHeaders = "half-headers"
    /// Connect, send nothing, SHUT_WR.
    case idle
    /// A 2 MiB body to a path that rejects it, then SHUT_WR: is the rejection destroyed by an RST?
    case rejectBody = "reject-body"
    /// A request, then a full close(): nothing can come back.
    case close
    /// TCP proxy: N bytes, SHUT_WR, read the reply.
    case tcp

    /// The suite run against an HTTP URL, baseline first.
    public static let httpSuite: [ProbeScenario] = [.baseline, .halfClose, .pipelined, .baselineBody, .body, .halfHeaders, .idle, .rejectBody, .close]
    /// The suite run with --tcp.
    public static let tcpSuite: [ProbeScenario] = [.tcp]

    public var isTCP: Bool { self == .tcp }

    /// What a conforming server does, and the clause: for `tacet probe explain`.
    public var conforming: String {
        switch self {
        case .baseline, .baselineBody: return "answers; the reference for the scenarios that half-close"
        case .halfClose, .body:
            return "answers in full (the origin's status and body), then FIN: a half-close \"does not imply that the client is no longer interested in a response\" (RFC 9112 §9.6)"
        case .pipelined: return "answers all three in order, then FIN (RFC 9112 §9.3.2, §9.6)"
        case .halfHeaders: return "FIN (or a 400): the request can never complete; no RST"
        case .idle: return "FIN: nothing to answer; no RST"
        case .rejectBody:
            return "the rejection arrives whole, then FIN: a server closing with unread data must close in stages, not reset (RFC 9112 §9.6)"
        case .close: return "with an origin: the proxy closes its upstream connection instead of working for a client that is gone"
        case .tcp: return "passes the FIN on and delivers the reply that comes after it, however late, then FIN"
        }
    }

    /// Scenarios that half-close: over TLS each runs twice, with `close_notify` and with a bare FIN.
    public var halfCloses: Bool {
        switch self {
        case .halfClose, .pipelined, .body, .halfHeaders, .idle, .rejectBody, .tcp: return true
        case .baseline, .baselineBody, .close: return false
        }
    }

    /// How many complete final responses the scenario hopes for.
    var expectedResponses: Int {
        switch self {
        case .baseline, .baselineBody, .halfClose, .body, .rejectBody: return 1
        case .pipelined: return 3
        case .halfHeaders, .idle, .close, .tcp: return 0
        }
    }

    /// One line for `--help` and the table legend.
    public var summary: String {
        switch self {
        case .baseline: return "request, no shutdown"
        case .baselineBody: return "request with a body, no shutdown"
        case .halfClose: return "request + SHUT_WR"
        case .pipelined: return "3 pipelined requests + SHUT_WR"
        case .body: return "request with a body + SHUT_WR"
        case .halfHeaders: return "half a header block + SHUT_WR"
        case .idle: return "idle connection + SHUT_WR"
        case .rejectBody: return "2 MiB body to a path that rejects it + SHUT_WR"
        case .close: return "request + full close"
        case .tcp: return "N bytes + SHUT_WR through a TCP proxy"
        }
    }
}
