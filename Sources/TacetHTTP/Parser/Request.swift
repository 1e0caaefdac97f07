import NIOHTTP1

/// How the length of a request body is known (RFC 9112 §6.3).
public enum BodyFraming: Sendable, Equatable {
    case none
    case length(Int)
    case chunked
}

/// A parsed request head, with the facts the connection and routes need already decided.
public struct Request: Sendable {
    public var method: HTTPMethod
    /// The request-target exactly as received (origin-form, usually).
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// Whether the client allows the connection to stay open after this exchange.
    public var keepAlive: Bool
    public var framing: BodyFraming
    /// `Expect: 100-continue` on an HTTP/1.1 request with a body.
    public var expectsContinue: Bool
    /// The Host header, lowercased and without its port; nil when absent (HTTP/1.0).
    public var host: String?
    /// It came over TLS (the listener's, not what the client claims): `https`.
    public var isSecure = false

    /// The path part of the target (before `?`), still percent-encoded.
    public var path: Substring {
        let utf8 = target.utf8
        if let q = utf8.firstIndex(of: UInt8(ascii: "?")) { return Substring(utf8[..<q]) }
        return target[...]
    }

    /// The query part of the target, without `?`, or nil.
    public var query: Substring? {
        let utf8 = target.utf8
        guard let q = utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        return Substring(utf8[utf8.index(after: q)...])
    }

    /// Interim (1xx) responses may only go to HTTP/1.1 and later clients (RFC 9110 §15.2).
    public var acceptsInterimResponses: Bool { version.major == 1 && version.minor >= 1 }

    public init(method: HTTPMethod, target: String, version: HTTPVersion, headers: HTTPHeaders,
                keepAlive: Bool, framing: BodyFraming, expectsContinue: Bool, host: String?) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.keepAlive = keepAlive
        self.framing = framing
        self.expectsContinue = expectsContinue
        self.host = host
    }
}
