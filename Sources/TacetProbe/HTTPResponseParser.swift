/// How a response's body is delimited (RFC 9112 §6.3).
public enum BodyFraming: Equatable, Sendable {
    /// No body: 1xx, 204, 304, or the answer to a HEAD.
    case none
    case contentLength(Int)
    case chunked
    /// Delimited by the server closing: complete only if the stream ended with a FIN.
    case toEOF
}

/// One response as it came off the wire.
public struct ParsedResponse: Sendable {
    public var version: String
    public var status: Int
    public var reason: String
    public var headers: [(String, String)]
    /// The body as received so far (chunked bodies decoded).
    public var body: [UInt8]
    /// A 1xx other than 101: an interim response that a final one follows.
    public var isInterim: Bool
    /// The body is whole per its framing; an interim response is always complete.
    public var isComplete: Bool
    public var framing: BodyFraming

    /// The first value of a header, names compared case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0.lowercased() == wanted }?.1
    }

    /// The bytes the framing promised, when it promised a number (Content-Length).
    public var expectedBodyLength: Int? {
        if case .contentLength(let n) = framing { return n }
        return nil
    }

    public var bodyString: String { String(decoding: body, as: UTF8.self) }
}

/// Every response found in a byte stream, and what could not be parsed.
public struct ParsedResponses: Sendable {
    public var responses: [ParsedResponse]
    /// Bytes after the last parsed response: an incomplete header block, or something that is not HTTP.
    public var trailingBytes: [UInt8]

    public var finalResponses: [ParsedResponse] { responses.filter { !$0.isInterim } }
    public var interimResponses: [ParsedResponse] { responses.filter { $0.isInterim } }
    public var completeFinalCount: Int { responses.count { !$0.isInterim && $0.isComplete } }
}

/// A lenient HTTP/1.x response parser for reporting what a server sent, not for serving.
///
/// Leniency is deliberate: a probe must describe odd responses (bare LF, missing reason) rather
/// than refuse them. Anything it cannot read as a response head stays in `trailingBytes`.
public enum HTTPResponseParser {
    /// Parses `bytes`. `requestMethods[i]` is the method of the request answered by the i-th final
    /// response (HEAD answers carry no body); missing entries count as GET. `endedWithFIN` says whether
    /// the stream ended with a FIN, which completes a body delimited by EOF.
    public static func parse(_ bytes: [UInt8], requestMethods: [String] = [], endedWithFIN: Bool = false) -> ParsedResponses {
        let scanned = scan(bytes, requestMethods: requestMethods, endedWithFIN: endedWithFIN)
        let responses = scanned.frames.map { frame in
            var body: [UInt8] = []
            body.reserveCapacity(frame.bodyLength)
            for range in frame.bodyRanges { body.append(contentsOf: bytes[range]) }
            return ParsedResponse(
                version: frame.version, status: frame.status, reason: frame.reason, headers: frame.headers,
                body: body, isInterim: frame.isInterim, isComplete: frame.isComplete, framing: frame.framing)
        }
        return ParsedResponses(responses: responses, trailingBytes: Array(bytes[scanned.consumed...]))
    }

    /// A response located in the buffer without copying its body: cheap enough to run after every recv.
    struct Frame {
        var version: String
        var status: Int
        var reason: String
        var headers: [(String, String)]
        var framing: BodyFraming
        var bodyRanges: [Range<Int>]
        var isInterim: Bool
        var isComplete: Bool
        var bodyLength: Int { bodyRanges.reduce(0) { $0 + $1.count } }
    }

    static func scan(_ bytes: [UInt8], requestMethods: [String], endedWithFIN: Bool) -> (frames: [Frame], consumed: Int) {
        var frames: [Frame] = []
        var pos = 0
        var finalIndex = 0
        while pos < bytes.count, let head = parseHead(bytes, from: pos) {
            let isInterim = (100...199).contains(head.status) && head.status != 101
            if isInterim {
                frames.append(Frame(version: head.version, status: head.status, reason: head.reason, headers: head.headers,
                                    framing: .none, bodyRanges: [], isInterim: true, isComplete: true))
                pos = head.end
                continue
            }
            let method = finalIndex < requestMethods.count ? requestMethods[finalIndex].uppercased() : "GET"
            finalIndex += 1
            let framing = bodyFraming(status: head.status, method: method, headers: head.headers)
            var ranges: [Range<Int>] = []
            var complete: Bool
            var end: Int
            switch framing {
            case .none:
                complete = true
                end = head.end
            case .contentLength(let n):
                let available = min(n, bytes.count - head.end)
                ranges = available > 0 ? [head.end..<(head.end + available)] : []
                complete = available == n
                end = head.end + available
            case .toEOF:
                ranges = head.end < bytes.count ? [head.end..<bytes.count] : []
                complete = endedWithFIN
                end = bytes.count
            case .chunked:
                let chunks = decodeChunked(bytes, from: head.end)
                ranges = chunks.ranges
                complete = chunks.complete
                end = chunks.end
            }
            frames.append(Frame(version: head.version, status: head.status, reason: head.reason, headers: head.headers,
                                framing: framing, bodyRanges: ranges, isInterim: false, isComplete: complete))
            pos = end
            // After 101 the bytes belong to another protocol; after a short body nothing more can be framed.
            if !complete || head.status == 101 { break }
        }
        return (frames, pos)
    }

    private static func bodyFraming(status: Int, method: String, headers: [(String, String)]) -> BodyFraming {
        if method == "HEAD" || status == 204 || status == 304 || status == 101 || (100...199).contains(status) {
            return .none
        }
        if method == "CONNECT" && (200...299).contains(status) { return .none }
        let lowered = headers.map { ($0.0.lowercased(), $0.1) }
        if let te = lowered.last(where: { $0.0 == "transfer-encoding" })?.1 {
            let last = te.split(separator: ",").last.map { $0.trimmingSpaces().lowercased() }
            return last == "chunked" ? .chunked : .toEOF
        }
        if let cl = lowered.first(where: { $0.0 == "content-length" })?.1,
           let first = cl.split(separator: ",").first, let n = Int(first.trimmingSpaces()), n >= 0 {
            return .contentLength(n)
        }
        return .toEOF
    }

    private struct Head {
        var version: String
        var status: Int
        var reason: String
        var headers: [(String, String)]
        var end: Int
    }

    private static let httpPrefix: [UInt8] = Array("HTTP/".utf8)

    /// Reads a status line and header fields; nil if incomplete or not an HTTP response head.
    private static func parseHead(_ bytes: [UInt8], from start: Int) -> Head? {
        guard bytes.count - start >= httpPrefix.count,
              bytes[start..<(start + httpPrefix.count)].elementsEqual(httpPrefix) else { return nil }
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = start
        var i = start
        var end: Int?
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\n") {
                var line = bytes[lineStart..<i]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                if line.isEmpty && !lines.isEmpty { end = i + 1; break }
                lines.append(line)
                lineStart = i + 1
            }
            i += 1
        }
        guard let end, let statusLine = lines.first else { return nil }
        let text = String(decoding: statusLine, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[1].count == 3, let status = Int(parts[1]) else { return nil }
        let reason = parts.count > 2 ? String(parts[2]) : ""
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces()
            headers.append((name, value))
        }
        return Head(version: String(parts[0]), status: status, reason: reason, headers: headers, end: end)
    }

    /// Walks chunk-size lines and data without copying; stops at the first malformed or missing byte.
    private static func decodeChunked(_ bytes: [UInt8], from start: Int) -> (ranges: [Range<Int>], complete: Bool, end: Int) {
        var ranges: [Range<Int>] = []
        var p = start
        func nextLine() -> (line: ArraySlice<UInt8>, next: Int)? {
            guard let nl = bytes[p...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            var line = bytes[p..<nl]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            return (line, nl + 1)
        }
        while true {
            guard let (line, next) = nextLine() else { return (ranges, false, bytes.count) }
            let sizeText = String(decoding: line.prefix { $0 != UInt8(ascii: ";") }, as: UTF8.self).trimmingSpaces()
            guard !sizeText.isEmpty, sizeText.count <= 15, let size = Int(sizeText, radix: 16) else {
                return (ranges, false, bytes.count)
            }
            p = next
            if size == 0 {
                while true {
                    guard let (trailer, after) = nextLine() else { return (ranges, false, bytes.count) }
                    p = after
                    if trailer.isEmpty { return (ranges, true, p) }
                }
            }
            let available = min(size, bytes.count - p)
            if available > 0 { ranges.append(p..<(p + available)) }
            guard available == size else { return (ranges, false, bytes.count) }
            p += size
            if p + 1 < bytes.count, bytes[p] == UInt8(ascii: "\r"), bytes[p + 1] == UInt8(ascii: "\n") {
                p += 2
            } else if p < bytes.count, bytes[p] == UInt8(ascii: "\n") {
                p += 1
            } else {
                return (ranges, false, bytes.count)
            }
        }
    }
}

extension StringProtocol {
    /// Trims spaces and tabs (HTTP's optional whitespace) without Foundation.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
