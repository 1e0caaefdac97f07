/// The origin's request parser: strict and bounded, since whatever sits in front of the origin
/// (the proxy under test) may send anything. A head is whole at its blank line; then the body is
/// framed by Content-Length or chunked (`ChunkedBody`), never both.
public struct OriginRequestHead: Sendable, Equatable {
    public var method: String
    /// Path and query as sent.
    public var target: String
    public var contentLength: Int
    public var chunked: Bool
    /// HTTP/1.0 without keep-alive, or `Connection: close`.
    public var closeAfter: Bool

    /// The path without its query.
    public var path: String { String(target.prefix { $0 != "?" }) }

    /// A query parameter's value (no percent-decoding: the probe's own values need none).
    public func query(_ name: String) -> String? {
        guard let mark = target.firstIndex(of: "?") else { return nil }
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, parts[0] == name { return String(parts[1]) }
        }
        return nil
    }
}

public enum OriginRequestParser {
    public static let maxHeadBytes = 16 * 1024
    public static let maxBodyBytes = 8 << 20

    public enum Result: Sendable, Equatable {
        case needMore
        case invalid(String)
        /// The head and the bytes it took.
        case head(OriginRequestHead, length: Int)
    }

    public static func parse(_ bytes: some Collection<UInt8>) -> Result {
        let buffer = Array(bytes.prefix(maxHeadBytes + 4))
        guard let end = headEnd(buffer) else {
            return buffer.count > maxHeadBytes ? .invalid("header block over \(maxHeadBytes) bytes") : .needMore
        }
        guard end <= maxHeadBytes else { return .invalid("header block over \(maxHeadBytes) bytes") }
        let lines = split(buffer[..<end])
        guard let requestLine = lines.first else { return .invalid("no request line") }
        let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, isToken(parts[0]), parts[1].first == UInt8(ascii: "/"),
              parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return .invalid("bad request line") }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { return .invalid("unsupported version") }
        var head = OriginRequestHead(method: String(decoding: parts[0], as: UTF8.self),
                                     target: String(decoding: parts[1], as: UTF8.self),
                                     contentLength: 0, chunked: false, closeAfter: version == "HTTP/1.0")
        var length: Int?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return .invalid("header line without a colon") }
            let name = line[line.startIndex..<colon]
            guard isToken(name) else { return .invalid("bad header name") }
            let value = trim(line[(colon + 1)...])
            guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { return .invalid("bad header value") }
            let text = String(decoding: value, as: UTF8.self).lowercased()
            switch String(decoding: name, as: UTF8.self).lowercased() {
            case "content-length":
                guard !value.isEmpty, value.count <= 10, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                      let n = Int(text), length == nil || length == n else { return .invalid("bad Content-Length") }
                length = n
            case "transfer-encoding":
                guard text == "chunked", !head.chunked else { return .invalid("unsupported Transfer-Encoding") }
                head.chunked = true
            case "connection":
                let options = text.split(separator: ",").map { $0.trimmingSpaces() }
                if options.contains("close") { head.closeAfter = true }
                if options.contains("keep-alive") && version == "HTTP/1.0" { head.closeAfter = false }
            default:
                break
            }
        }
        if head.chunked && length != nil { return .invalid("both Content-Length and chunked") }
        head.contentLength = length ?? 0
        guard head.contentLength <= maxBodyBytes else { return .invalid("body over \(maxBodyBytes) bytes") }
        return .head(head, length: end + 4)
    }

    /// Index of the CRLFCRLF that ends the head.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    private static func split(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 13, i + 1 < bytes.endIndex, bytes[i + 1] == 10 {
                lines.append(bytes[start..<i])
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        lines.append(bytes[start..<bytes.endIndex])
        return lines
    }

    static func isToken(_ bytes: some Collection<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private static func trim(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }
}

/// A chunked request body, decoded as bytes arrive: bounded chunk-size lines, sizes and total.
public struct ChunkedBody: Sendable {
    public enum Step: Sendable, Equatable {
        case needMore
        case invalid(String)
        /// The whole body; `consumed` bytes of the input were the body's (the rest is the next request).
        case done(consumed: Int)
    }

    private enum State { case size, data(Int), dataEnd, trailer }
    private var state = State.size
    public private(set) var body: [UInt8] = []
    private var line: [UInt8] = []

    public init() {}

    /// Feeds `bytes`; call again with the bytes that follow when it needs more.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> Step {
        var consumed = 0
        var iterator = Array(bytes)[...]
        while let byte = iterator.first {
            switch state {
            case .size, .dataEnd, .trailer:
                iterator = iterator.dropFirst()
                consumed += 1
                line.append(byte)
                guard line.count <= 1024 else { return .invalid("chunk line over 1 KiB") }
                guard byte == 10 else { continue }
                guard line.count >= 2, line[line.count - 2] == 13 else { return .invalid("bare LF") }
                let content = line.dropLast(2)
                line = []
                switch state {
                case .size:
                    let digits = content.prefix { $0 != UInt8(ascii: ";") }
                    let hex = "0123456789abcdefABCDEF".utf8
                    guard !digits.isEmpty, digits.count <= 8, digits.allSatisfy({ hex.contains($0) }),
                          let size = Int(String(decoding: digits, as: UTF8.self), radix: 16), size >= 0 else { return .invalid("bad chunk size") }
                    guard body.count + size <= OriginRequestParser.maxBodyBytes else { return .invalid("body too large") }
                    state = size == 0 ? .trailer : .data(size)
                case .dataEnd:
                    guard content.isEmpty else { return .invalid("chunk data longer than its size") }
                    state = .size
                case .trailer:
                    if content.isEmpty { return .done(consumed: consumed) }
                case .data:
                    break
                }
            case .data(let left):
                let take = min(left, iterator.count)
                body.append(contentsOf: iterator.prefix(take))
                iterator = iterator.dropFirst(take)
                consumed += take
                state = left - take == 0 ? .dataEnd : .data(left - take)
            }
        }
        return .needMore
    }
}
