import NIOCore
import TacetHTTP
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An HTTP/1.x response parser for the upstream side of the proxy: bytes in, head / body / end
/// out. Pure (no channel), so it is tested without sockets.
///
/// The head's fields are copied for the client as they are parsed, as bytes (`Name: value` lines,
/// no String or HTTPHeaders per field): hop-by-hop fields (Connection and what it names,
/// Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-*), Content-Length, Server and
/// Date are left out, and `Via` is added. Strict where leniency lets a response mean two things:
/// Content-Length with Transfer-Encoding, differing Content-Lengths, obs-fold, bare CR,
/// whitespace before a colon and a lax chunk size are errors.
public struct UpstreamResponseParser: Sendable {
    public enum Framing: Sendable, Equatable {
        /// No body: 1xx, 204, 304, a response to HEAD, or `Content-Length: 0`.
        case none
        case length(Int)
        case chunked
        /// Ends when the upstream closes its side.
        case close
    }

    public struct Head: Sendable {
        public var status: HTTPResponseStatus
        public var keepAlive: Bool
        public var framing: Framing
        /// The fields for the client (see the type's comment), `Via` included, serialised as
        /// `Name: value\r\n` lines: what `ResponseHead.encodedFields` takes.
        public var fields: ByteBuffer
        /// The upstream's Content-Length, even when there is no body (HEAD).
        public var contentLength: Int?
        /// The upstream's `Upgrade` value (kept for a 101).
        public var upgrade: String?

        /// `fields` as HTTPHeaders, for the rare heads that need them (1xx, 101) and for tests.
        public var headers: HTTPHeaders {
            var headers = HTTPHeaders()
            var lines = fields
            while let (name, value) = lines.readField() { headers.add(name: String(name), value: String(value)) }
            return headers
        }
    }

    public enum Event: Sendable {
        case head(Head)
        case body(ByteBuffer)
        case end
    }

    public struct Failure: Error, Sendable, Equatable {
        public var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private enum State: Sendable {
        case head(scanned: Int)
        case body(remaining: Int)
        case closeDelimited
        case chunked(ChunkedDecoder)
        case endPending
        /// A 101 was delivered: `.end`, then `.switched`.
        case switchPending
        /// After a 101 (and its `.end`): the bytes are no longer HTTP.
        case switched
    }

    private var state: State = .head(scanned: 0)
    /// The last head's field bytes: the next head reuses their storage once the exchange has
    /// copied them into the client's buffer and let go, so a head allocates nothing.
    private var spareFields = SpareBuffer()
    /// The request being answered was HEAD: its response has no body whatever it says.
    public var requestIsHEAD = false
    public let maxHeadSize: Int

    public init(maxHeadSize: Int = 64 * 1024) {
        self.maxHeadSize = maxHeadSize
    }

    /// True after a 101: what is left in the buffer belongs to the tunnel.
    public var isSwitched: Bool {
        if case .switched = state { return true }
        return false
    }

    /// True between a response's first byte and its end.
    public func isMidResponse(pending: ByteBuffer) -> Bool {
        switch state {
        case .head: return pending.readableBytes > 0
        case .switched: return false
        default: return true
        }
    }

    /// Parses the next event from `buffer`, consuming its bytes; nil when more bytes are needed.
    public mutating func next(_ buffer: inout ByteBuffer) throws(Failure) -> Event? {
        switch state {
        case .head(let scanned):
            return try parseHead(&buffer, scanned: scanned)
        case .body(let remaining):
            guard let (slice, left) = buffer.readBodySlice(remaining: remaining) else { return nil }
            state = left == 0 ? .endPending : .body(remaining: left)
            return .body(slice)
        case .closeDelimited:
            guard buffer.readableBytes > 0, let slice = buffer.readSlice(length: buffer.readableBytes) else { return nil }
            return .body(slice)
        case .endPending:
            state = .head(scanned: 0)
            return .end
        case .chunked(var decoder):
            let event: ChunkedDecoder.Event?
            do {
                event = try decoder.next(&buffer)
            } catch {
                switch error {
                case .malformed(let why): throw Failure(why)
                case .bodyTooLarge: throw Failure("body too large")
                case .trailersTooLarge: throw Failure("trailers too large")
                }
            }
            state = .chunked(decoder)
            switch event {
            case nil:
                return nil
            case .data(let slice):
                return .body(slice)
            case .end:
                state = .head(scanned: 0)
                return .end
            }
        case .switchPending:
            state = .switched
            return .end
        case .switched:
            return nil
        }
    }

    /// The upstream closed its side: `.end` for a close-delimited body, nil between responses
    /// (or after a 101); a failure when a response was cut short.
    public mutating func inputClosed(pending: ByteBuffer) throws(Failure) -> Event? {
        switch state {
        case .closeDelimited, .endPending:
            state = .head(scanned: 0)
            return .end
        case .switchPending:
            state = .switched
            return .end
        case .switched:
            return nil
        case .head:
            if pending.readableBytes == 0 { return nil }
            throw Failure("closed in the response head")
        default:
            throw Failure("closed in the response body")
        }
    }

    // MARK: head

    private mutating func parseHead(_ buffer: inout ByteBuffer, scanned: Int) throws(Failure) -> Event? {
        let maxHeadSize = self.maxHeadSize
        let requestIsHEAD = self.requestIsHEAD
        // Moved out, not copied (a copy would share the storage, and `take` would allocate).
        var spare = spareFields
        spareFields = SpareBuffer()
        let result: Result<(Head, Int)?, Failure>
        var newScanned = scanned
        result = buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return .success(nil) }
            // Find the empty line ending the head, from where the last scan stopped.
            var lineStart = scanned
            var headEnd: Int?
            while lineStart < bytes.count {
                guard let lfPointer = memchr(base + lineStart, Int32(UInt8.lf), bytes.count - lineStart) else { break }
                let lf = base.distance(to: UnsafeRawPointer(lfPointer))
                if lineStart > 0 && (lf == lineStart || (lf == lineStart + 1 && bytes[lineStart] == .cr)) {
                    headEnd = lf + 1
                    break
                }
                lineStart = lf + 1
            }
            guard let headEnd else {
                if bytes.count > maxHeadSize { return .failure(Failure("response head too large")) }
                newScanned = lineStart
                return .success(nil)
            }
            if headEnd > maxHeadSize { return .failure(Failure("response head too large")) }
            // Only for a whole head: a call that finds none must leave the spare untouched.
            var fields = spare.take(capacity: 256, allocator: ByteBufferAllocator())
            return Self.parseHeadBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<headEnd]), requestIsHEAD: requestIsHEAD,
                                       fields: &fields)
                .map { ($0, headEnd) }
        }
        guard let (head, headEnd) = try result.get() else {
            state = .head(scanned: newScanned)
            spareFields = spare
            return nil
        }
        buffer.moveReaderIndex(forwardBy: headEnd)
        spare.keep(head.fields)
        spareFields = spare
        let code = head.status.code
        if code == 101 {
            // `.end` comes next; after it the parser stops.
            state = .switchPending
            return .head(head)
        }
        if code >= 100 && code < 200 {
            state = .head(scanned: 0)  // interim: the final response follows
            return .head(head)
        }
        switch head.framing {
        case .none: state = .endPending
        case .length(let n): state = n == 0 ? .endPending : .body(remaining: n)
        case .chunked: state = .chunked(ChunkedDecoder(maxTrailers: maxHeadSize, requireCRLF: false))
        case .close: state = .closeDelimited
        }
        return .head(head)
    }

    private static func parseHeadBytes(_ bytes: UnsafeRawBufferPointer, requestIsHEAD: Bool,
                                       fields: inout ByteBuffer) -> Result<Head, Failure> {
        // Status line: HTTP/1.x SP 3DIGIT [SP reason]
        guard let statusLF = CharacterClass.firstIndex(of: .lf, in: bytes, 0, bytes.count) else { return .failure(Failure("no status line")) }
        var lineEnd = statusLF
        if lineEnd > 0 && bytes[lineEnd - 1] == .cr { lineEnd -= 1 }
        guard lineEnd >= 12, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"), bytes[2] == UInt8(ascii: "T"),
              bytes[3] == UInt8(ascii: "P"), bytes[4] == UInt8(ascii: "/"), bytes[5] == UInt8(ascii: "1"),
              bytes[6] == UInt8(ascii: "."), isDigit(bytes[7]), bytes[8] == .space,
              isDigit(bytes[9]), isDigit(bytes[10]), isDigit(bytes[11]),
              lineEnd == 12 || bytes[12] == .space else {
            return .failure(Failure("malformed status line"))
        }
        for i in 12..<lineEnd where !CharacterClass.isFieldValue(bytes[i]) { return .failure(Failure("bad reason phrase")) }
        let http10 = bytes[7] == UInt8(ascii: "0")
        let code = Int(bytes[9] &- 0x30) * 100 + Int(bytes[10] &- 0x30) * 10 + Int(bytes[11] &- 0x30)
        guard code >= 100 else { return .failure(Failure("bad status code")) }

        var contentLength: Int?
        var transferEncoding: String?
        var upgrade: String?
        var connectionClose = false
        var connectionKeepAlive = false
        /// Fields named in Connection other than close / keep-alive / upgrade: removed at the end.
        var named: [String] = []

        var lineStart = statusLF + 1
        while lineStart < bytes.count {
            guard let lf = CharacterClass.firstIndex(of: .lf, in: bytes, lineStart, bytes.count) else { break }
            var end = lf
            if end > lineStart && bytes[end - 1] == .cr { end -= 1 }
            if end == lineStart { break }
            let first = bytes[lineStart]
            if first == .space || first == .tab { return .failure(Failure("obsolete line folding")) }
            guard let colon = CharacterClass.firstIndex(of: .colon, in: bytes, lineStart, end), colon > lineStart else {
                return .failure(Failure("malformed header line"))
            }
            for i in lineStart..<colon where !CharacterClass.isToken(bytes[i]) { return .failure(Failure("bad header name")) }
            var valueStart = colon + 1
            var valueEnd = end
            while valueStart < valueEnd && (bytes[valueStart] == .space || bytes[valueStart] == .tab) { valueStart += 1 }
            while valueEnd > valueStart && (bytes[valueEnd - 1] == .space || bytes[valueEnd - 1] == .tab) { valueEnd -= 1 }
            for i in valueStart..<valueEnd where !CharacterClass.isFieldValue(bytes[i]) {
                return .failure(Failure("bad character in header value"))
            }
            let name = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<colon])
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            var keep = true
            switch name.count {
            case 2:
                keep = !equalsLower(name, "te")
            case 4:
                keep = !equalsLower(name, "date")
            case 6:
                keep = !equalsLower(name, "server")
            case 7:
                if equalsLower(name, "upgrade") {
                    keep = false
                    upgrade = String(decoding: value, as: UTF8.self)
                } else if equalsLower(name, "trailer") {
                    keep = false
                }
            case 10:
                if equalsLower(name, "connection") {
                    keep = false
                    var tokenStart = 0
                    for i in 0...value.count where i == value.count || value[i] == UInt8(ascii: ",") {
                        var s = tokenStart
                        var e = i
                        while s < e && (value[s] == .space || value[s] == .tab) { s += 1 }
                        while e > s && (value[e - 1] == .space || value[e - 1] == .tab) { e -= 1 }
                        let token = UnsafeRawBufferPointer(rebasing: value[s..<e])
                        if equalsLower(token, "close") {
                            connectionClose = true
                        } else if equalsLower(token, "keep-alive") {
                            connectionKeepAlive = true
                        } else if !token.isEmpty && !equalsLower(token, "upgrade") {
                            named.append(String(decoding: token, as: UTF8.self).lowercased())
                        }
                        tokenStart = i + 1
                    }
                } else if equalsLower(name, "keep-alive") {
                    keep = false
                }
            case 14:
                if equalsLower(name, "content-length") {
                    keep = false
                    guard let n = parseLength(value) else { return .failure(Failure("bad Content-Length")) }
                    if let contentLength, contentLength != n { return .failure(Failure("differing Content-Lengths")) }
                    contentLength = n
                }
            case 17:
                if equalsLower(name, "transfer-encoding") {
                    keep = false
                    let v = String(decoding: value, as: UTF8.self)
                    transferEncoding = transferEncoding.map { $0 + ", " + v } ?? v
                }
            default:
                break
            }
            if keep && name.count > 6 && equalsLower(UnsafeRawBufferPointer(rebasing: name[0..<6]), "proxy-") { keep = false }
            if keep {
                fields.writeBytes(name)
                fields.writeStaticString(": ")
                fields.writeBytes(value)
                fields.writeStaticString("\r\n")
            }
            lineStart = lf + 1
        }
        if !named.isEmpty { fields = Self.removing(named, from: fields) }
        fields.writeStaticString("Via: 1.1 tacet\r\n")

        let status = HTTPResponseStatus(statusCode: code)
        var framing: Framing
        if let transferEncoding {
            if contentLength != nil { return .failure(Failure("Content-Length with Transfer-Encoding")) }
            let last = transferEncoding.split(separator: ",").last.map { $0.trimmingOWS().lowercased() }
            framing = last == "chunked" ? .chunked : .close
            if framing == .chunked {
                // chunked applied twice is not HTTP (RFC 9112 §6.1).
                let count = transferEncoding.split(separator: ",").filter { $0.trimmingOWS().lowercased() == "chunked" }.count
                if count > 1 { return .failure(Failure("chunked twice")) }
            }
        } else if let contentLength {
            framing = contentLength == 0 ? .none : .length(contentLength)
        } else {
            framing = .close
        }
        if requestIsHEAD || code < 200 || code == 204 || code == 304 { framing = .none }
        let keepAlive = framing != .close && !connectionClose && (!http10 || connectionKeepAlive)
        return .success(Head(status: status, keepAlive: keepAlive, framing: framing, fields: fields,
                             contentLength: contentLength, upgrade: upgrade))
    }

    /// `fields` without the lines whose name is in `names` (lowercased): the fields a Connection
    /// header named, which may come before it. Rare, so it builds a new buffer.
    private static func removing(_ names: [String], from fields: ByteBuffer) -> ByteBuffer {
        var kept = ByteBuffer()
        var lines = fields
        while let (name, value) = lines.readField() {
            if names.contains(where: { name.lowercasedASCIIEquals($0) }) { continue }
            kept.writeSubstring(name)
            kept.writeStaticString(": ")
            kept.writeSubstring(value)
            kept.writeStaticString("\r\n")
        }
        return kept
    }

    // MARK: bytes

    @inline(__always) private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// ASCII case-insensitive comparison with a lowercase literal.
    private static func equalsLower(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        let l = lower.utf8Start
        for i in 0..<bytes.count {
            let b = bytes[i]
            let lb = (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
            if lb != l[i] { return false }
        }
        return true
    }

    private static func parseLength(_ value: UnsafeRawBufferPointer) -> Int? {
        guard !value.isEmpty, value.count <= 18 else { return nil }
        var n = 0
        for b in value {
            guard isDigit(b) else { return nil }
            n = n * 10 + Int(b - 0x30)
        }
        return n
    }
}


extension ByteBuffer {
    /// The next `Name: value\r\n` line this parser wrote, split at its first colon.
    fileprivate mutating func readField() -> (name: Substring, value: Substring)? {
        guard let end = readableBytesView.firstIndex(of: UInt8(ascii: "\n")), end > readerIndex,
              let line = readString(length: end - readerIndex - 1) else { return nil }
        moveReaderIndex(forwardBy: 2)
        guard let colon = line.firstIndex(of: ":") else { return (line[...], "") }
        return (line[..<colon], line[line.index(after: colon)...].dropFirst())
    }
}

extension UInt8 {
    fileprivate static let cr = UInt8(ascii: "\r")
    fileprivate static let lf = UInt8(ascii: "\n")
    fileprivate static let tab = UInt8(ascii: "\t")
    fileprivate static let space = UInt8(ascii: " ")
    fileprivate static let colon = UInt8(ascii: ":")
}
