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

    public struct Head: Sendable, Equatable {
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
        /// The upstream's Date (not among `fields`: the connection writes it, `ResponseHead.date`).
        public var date: String?

        public init(status: HTTPResponseStatus, keepAlive: Bool, framing: Framing, fields: ByteBuffer,
                    contentLength: Int?, upgrade: String?, date: String? = nil) {
            self.status = status
            self.keepAlive = keepAlive
            self.framing = framing
            self.fields = fields
            self.contentLength = contentLength
            self.upgrade = upgrade
            self.date = date
        }

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
                throw Failure(error.reason)
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
        var date: String?
        var connectionClose = false
        var connectionKeepAlive = false
        /// Fields named in Connection other than close / keep-alive / upgrade: removed at the end.
        var named: [String] = []

        var lineStart = statusLF + 1
        lines: while lineStart < bytes.count {
            guard let lf = CharacterClass.firstIndex(of: .lf, in: bytes, lineStart, bytes.count) else { break }
            let nameRange: Range<Int>
            let valueRange: Range<Int>
            switch FieldLine.read(bytes, from: lineStart, lf: lf, requireCRLF: false) {
            case .failure(let error): return .failure(Failure(error.reason))
            case .success(.end): break lines
            case .success(.field(let n, let v)): (nameRange, valueRange) = (n, v)
            }
            lineStart = lf + 1
            let name = UnsafeRawBufferPointer(rebasing: bytes[nameRange])
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueRange])
            // What this hop frames or owns is not passed on: hop-by-hop fields (read here for
            // framing, keep-alive and upgrade), and the Server and Date that Tacet writes itself.
            switch name.count {
            case 4 where FieldNames.equalsLower(name, "date"):
                // Kept aside, to be passed on in the Date line the connection writes; the first
                // one, and only of an HTTP-date's size.
                if date == nil, value.count <= Self.maxDateLength { date = String(decoding: value, as: UTF8.self) }
                continue
            case 6 where FieldNames.equalsLower(name, "server"):
                continue
            case 7 where FieldNames.equalsLower(name, "upgrade"):
                upgrade = String(decoding: value, as: UTF8.self)
            case 10 where FieldNames.equalsLower(name, "connection"):
                FieldNames.forEachMember(value) { token in
                    if FieldNames.equalsLower(token, "close") {
                        connectionClose = true
                    } else if FieldNames.equalsLower(token, "keep-alive") {
                        connectionKeepAlive = true
                    } else if !FieldNames.equalsLower(token, "upgrade") {
                        named.append(String(decoding: token, as: UTF8.self).lowercased())
                    }
                }
            case 14 where FieldNames.equalsLower(name, "content-length"):
                switch FieldNames.contentLength(value, merging: contentLength) {
                case .value(let n): contentLength = n
                case .invalid: return .failure(Failure("bad Content-Length"))
                case .conflicting: return .failure(Failure("differing Content-Lengths"))
                }
            case 17 where FieldNames.equalsLower(name, "transfer-encoding"):
                let v = String(decoding: value, as: UTF8.self)
                transferEncoding = transferEncoding.map { $0 + ", " + v } ?? v
            default:
                break
            }
            if FieldNames.isHopByHop(name) { continue }
            fields.writeBytes(name)
            fields.writeStaticString(": ")
            fields.writeBytes(value)
            fields.writeStaticString("\r\n")
        }
        if !named.isEmpty { fields = Self.removing(named, from: fields) }
        fields.writeStaticString("Via: 1.1 tacet\r\n")

        let status = HTTPResponseStatus(statusCode: code)
        var framing: Framing
        if let transferEncoding {
            if contentLength != nil { return .failure(Failure("Content-Length with Transfer-Encoding")) }
            // Tacet re-frames the body for the client and passes no Transfer-Encoding on, so any
            // coding but a single chunked would reach the client undeclared (nginx: "upstream
            // sent unknown Transfer-Encoding", 502).
            guard transferEncoding.trimmingOWS().lowercasedASCIIEquals("chunked") else {
                return .failure(Failure("unsupported transfer coding: \(transferEncoding)"))
            }
            framing = .chunked
        } else if let contentLength {
            framing = contentLength == 0 ? .none : .length(contentLength)
        } else {
            framing = .close
        }
        if requestIsHEAD || ResponseHead.forbidsBody(status: code) { framing = .none }
        let keepAlive = framing != .close && !connectionClose && (!http10 || connectionKeepAlive)
        return .success(Head(status: status, keepAlive: keepAlive, framing: framing, fields: fields,
                             contentLength: contentLength, upgrade: upgrade, date: date))
    }

    /// An IMF-fixdate is 29 bytes; a longer Date is dropped (the connection's clock stands in).
    static let maxDateLength = 40

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
