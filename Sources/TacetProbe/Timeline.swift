/// One thing that happened on a probed connection, in milliseconds since `RawClient.connect` began.
///
/// The timeline is what makes a verdict checkable: "FIN after 3 ms" is read off these events.
public struct TimelineEvent: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, Equatable {
        case connected, written, writeFailed, shutdownWrite, closed, reset
        case firstByte, interim, statusLine, bodyComplete, bodyShort
        case fin, rst, timeout
    }

    public var ms: Double
    public var kind: Kind
    /// Plain words: byte counts, status codes, errno names.
    public var detail: String

    public init(ms: Double, kind: Kind, detail: String = "") {
        self.ms = ms
        self.kind = kind
        self.detail = detail
    }
}

/// How a read ended.
public enum StreamEnd: String, Equatable, Sendable, Codable {
    /// The peer sent a FIN: recv(2) returned 0.
    case fin
    /// The peer sent an RST: recv(2) or send(2) failed with ECONNRESET (or EPIPE after it).
    case rst
    /// Nothing ended the stream before the read's deadline.
    case timeout
    /// The read stopped because its condition was met; the connection is still up.
    case open
}

/// What one read call collected, and why it stopped.
public struct ReadResult: Sendable {
    public var bytes: [UInt8]
    public var end: StreamEnd
    /// Milliseconds since connect when the read returned.
    public var elapsedMs: Double

    public init(bytes: [UInt8], end: StreamEnd, elapsedMs: Double) {
        self.bytes = bytes
        self.end = end
        self.elapsedMs = elapsedMs
    }

    /// The bytes as UTF-8, invalid sequences replaced.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// The bytes parsed as HTTP responses; a body delimited by EOF counts as complete only after a FIN.
    public func responses(requestMethods: [String] = []) -> ParsedResponses {
        HTTPResponseParser.parse(bytes, requestMethods: requestMethods, endedWithFIN: end == .fin)
    }
}
