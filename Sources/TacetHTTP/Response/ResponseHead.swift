import NIOCore
import NIOHTTP1

/// What a route says about its response; the connection adds framing, Date, Server and Connection.
public struct ResponseHead: Sendable {
    /// How the body's length is known. The connection picks Content-Length, chunked, or
    /// close-delimited (HTTP/1.0) from this, so a route never writes framing headers itself.
    public enum Body: Sendable, Equatable {
        /// No body: 204, 304, or an empty response (sent as `Content-Length: 0` where allowed).
        case empty
        case length(Int)
        /// Length unknown in advance: chunked to HTTP/1.1 clients, close-delimited to HTTP/1.0.
        case stream
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body
    /// Close the connection after this response.
    public var close: Bool
    /// `headers` already serialised (`Name: value\r\n` lines, no framing fields), for a response
    /// sent many times: the connection copies these bytes instead of encoding `headers` again.
    public var encodedFields: ByteBuffer?
    /// Tacet's own plain-text refusal (`ErrorResponse`), which an error page may replace; an
    /// upstream's error is replaced only where the route intercepts them.
    public var isRefusal = false
    /// The origin's Date, sent instead of the connection's clock: a proxy passes it on and a cache
    /// keeps it (RFC 9110 §6.6.1, RFC 9111 §4.2.3: a stored response's age starts from it).
    public var date: String?

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: Body, close: Bool = false,
                encodedFields: ByteBuffer? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.close = close
        self.encodedFields = encodedFields
    }
}

extension ResponseHead {
    /// The fields as name and value pairs, whichever form they came in: `headers`, or (a proxied
    /// response's, which arrive as bytes only) `encodedFields` read back. For protocols and rules
    /// that need the fields one by one.
    public var fields: HTTPHeaders {
        guard headers.isEmpty, let encoded = encodedFields else { return headers }
        var fields = HTTPHeaders()
        for line in String(buffer: encoded).split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            var value = line[line.index(after: colon)...]
            while let f = value.first, f == " " || f == "\t" { value = value.dropFirst() }
            while let l = value.last, l == " " || l == "\t" { value = value.dropLast() }
            fields.add(name: String(line[..<colon]), value: String(value))
        }
        return fields
    }
}

extension HTTPResponseStatus {
    /// 103 Early Hints (RFC 8297): the interim response a `probe` FIN policy sends by default.
    public static let earlyHints = HTTPResponseStatus(statusCode: 103, reasonPhrase: "Early Hints")
}

extension ResponseHead {
    /// RFC 9110 §6.4.1, §15: a 1xx, 204 or 304 response never has content (nor, but for 304,
    /// a Content-Length). The one statement of the rule, for both protocols and the proxy.
    @inlinable
    public static func forbidsBody(status: Int) -> Bool { status < 200 || status == 204 || status == 304 }

    /// Whether a response with `status` to a `method` request carries a body: never to HEAD.
    @inlinable
    public static func hasBody(status: Int, method: HTTPMethod) -> Bool { method != .HEAD && !forbidsBody(status: status) }
}
