import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An HTTP/1.x request parser: bytes in, head / body / end out.
///
/// Strict where leniency lets a request mean two things (RFC 9112 §11): Content-Length with
/// Transfer-Encoding, differing Content-Lengths, obs-fold, bare CR and whitespace before a colon
/// are errors. It never consumes bytes past the end of the current request, so pipelined
/// requests wait in the caller's buffer until the connection is ready for them.
public struct RequestParser: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxRequestLine: Int
        public var maxHeaderSize: Int
        public var maxBodySize: Int
        public init(maxRequestLine: Int = 8192, maxHeaderSize: Int = 32768, maxBodySize: Int = 1 << 20) {
            self.maxRequestLine = maxRequestLine
            self.maxHeaderSize = maxHeaderSize
            self.maxBodySize = maxBodySize
        }
    }

    public enum Event: Sendable {
        case head(Request)
        case body(ByteBuffer)
        case end
    }

    private enum State: Sendable {
        /// `scanned`: bytes already searched for the end of the head; `lineStart`: start of the
        /// line being scanned; `requestLineEnd`: set once the request line's LF is seen.
        case head(scanned: Int, requestLineEnd: Int?)
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(seen: Int)
        case endPending
    }

    private var state: State = .head(scanned: 0, requestLineEnd: nil)
    private var bodyReceived = 0
    public let limits: Limits
    /// Whether the last head seen (parsed or refused) was a HEAD request: an error response to
    /// it must carry no body (RFC 9110 §9.3.2).
    public private(set) var lastHeadWasHEAD = false

    public init(limits: Limits) {
        self.limits = limits
    }

    /// True when part of a request has been consumed, or unconsumed bytes of one are waiting.
    public func isMidRequest(pending: ByteBuffer) -> Bool {
        if case .head = state { return pending.readableBytes > 0 }
        return true
    }

    /// True while the parser is inside a request body (head delivered, end not yet).
    public var isInBody: Bool {
        switch state {
        case .head: return false
        default: return true
        }
    }

    /// Parses the next event from `buffer`, consuming its bytes; nil when more bytes are needed.
    public mutating func next(_ buffer: inout ByteBuffer) throws(RequestError) -> Event? {
        switch state {
        case .head(let scanned, let requestLineEnd):
            return try parseHead(&buffer, scanned: scanned, requestLineEnd: requestLineEnd)
        case .body(let remaining):
            guard buffer.readableBytes > 0 else { return nil }
            let n = min(remaining, buffer.readableBytes)
            guard let slice = buffer.readSlice(length: n) else { return nil }
            state = remaining - n == 0 ? .endPending : .body(remaining: remaining - n)
            return .body(slice)
        case .endPending:
            finishMessage()
            return .end
        case .chunkSize:
            return try parseChunkSize(&buffer)
        case .chunkData(let remaining):
            guard buffer.readableBytes > 0 else { return nil }
            let n = min(remaining, buffer.readableBytes)
            guard let slice = buffer.readSlice(length: n) else { return nil }
            state = remaining - n == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - n)
            return .body(slice)
        case .chunkDataEnd:
            guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
            if first == .lf {
                buffer.moveReaderIndex(forwardBy: 1)
            } else if first == .cr {
                guard let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return nil }
                guard second == .lf else { throw .malformed("bad chunk terminator") }
                buffer.moveReaderIndex(forwardBy: 2)
            } else {
                throw .malformed("chunk longer than its size")
            }
            state = .chunkSize
            return try parseChunkSize(&buffer)
        case .trailers(let seen):
            return try parseTrailers(&buffer, seen: seen)
        }
    }

    private mutating func finishMessage() {
        state = .head(scanned: 0, requestLineEnd: nil)
        bodyReceived = 0
    }

    // MARK: head

    private mutating func parseHead(_ buffer: inout ByteBuffer, scanned: Int, requestLineEnd: Int?) throws(RequestError) -> Event? {
        // RFC 9112 §2.2: ignore empty lines before the request line.
        if scanned == 0 {
            while let b = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), b == .lf || b == .cr {
                if b == .cr {
                    guard let next = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return nil }
                    guard next == .lf else { throw .malformed("bare CR") }
                    buffer.moveReaderIndex(forwardBy: 2)
                } else {
                    buffer.moveReaderIndex(forwardBy: 1)
                }
            }
        }
        // The head starts at the reader index until it is complete.
        lastHeadWasHEAD = buffer.readableBytesView.starts(with: "HEAD ".utf8)
        let limits = self.limits
        let scan: HeadScan = buffer.withUnsafeReadableBytes { bytes in
            HeadScan.scan(bytes, from: scanned, requestLineEnd: requestLineEnd, limits: limits)
        }
        switch scan {
        case .needMore(let scanned, let requestLineEnd):
            state = .head(scanned: scanned, requestLineEnd: requestLineEnd)
            return nil
        case .failed(let error):
            throw error
        case .complete(let headEnd, let requestLineEnd):
            let parsed: Result<Request, RequestError> = buffer.withUnsafeReadableBytes { bytes in
                HeadParser.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<headEnd]), requestLineEnd: requestLineEnd, limits: limits)
            }
            buffer.moveReaderIndex(forwardBy: headEnd)
            let request = try parsed.get()
            switch request.framing {
            case .none:
                state = .endPending
            case .length(let n):
                state = n == 0 ? .endPending : .body(remaining: n)
            case .chunked:
                state = .chunkSize
            }
            return .head(request)
        }
    }

    // MARK: chunked body

    private mutating func parseChunkSize(_ buffer: inout ByteBuffer) throws(RequestError) -> Event? {
        let maxLine = 1024
        let found: Result<(size: Int, lineLength: Int), RequestError>? = buffer.withUnsafeReadableBytes { bytes in
            let window = min(bytes.count, maxLine)
            guard window > 0, let base = bytes.baseAddress,
                  let lfPointer = memchr(base, Int32(UInt8.lf), window) else {
                return bytes.count >= maxLine ? .failure(.malformed("chunk size line too long")) : nil
            }
            let lf = base.distance(to: UnsafeRawPointer(lfPointer))
            var end = lf
            if end > 0 && bytes[end - 1] == .cr { end -= 1 }
            var size = 0
            var digits = 0
            var i = 0
            while i < end, let v = hexValue(bytes[i]) {
                guard digits < 15 else { return .failure(.malformed("chunk size too large")) }
                size = size << 4 | v
                digits += 1
                i += 1
            }
            guard digits > 0 else { return .failure(.malformed("bad chunk size")) }
            // chunk-size = 1*HEXDIG, then only BWS ";" chunk-ext (RFC 9112 §7.1). Anything else
            // ("0x5", "5 junk") is a framing error: a lenient reading here is how bodies get smuggled.
            while i < end && (bytes[i] == .space || bytes[i] == .tab) { i += 1 }
            if i < end {
                guard bytes[i] == UInt8(ascii: ";") else { return .failure(.malformed("bad chunk size")) }
                while i < end {
                    let b = bytes[i]
                    if b == .cr || b == 0 || (b < 0x20 && b != .tab) || b == 0x7F {
                        return .failure(.malformed("bad chunk extension"))
                    }
                    i += 1
                }
            }
            return .success((size, lf + 1))
        }
        guard let found else { return nil }
        let (size, lineLength) = try found.get()
        buffer.moveReaderIndex(forwardBy: lineLength)
        if size == 0 {
            state = .trailers(seen: 0)
            return try parseTrailers(&buffer, seen: 0)
        }
        bodyReceived += size
        if bodyReceived > limits.maxBodySize { throw .bodyTooLarge }
        state = .chunkData(remaining: size)
        return try next(&buffer)
    }

    private mutating func parseTrailers(_ buffer: inout ByteBuffer, seen: Int) throws(RequestError) -> Event? {
        var seen = seen
        while true {
            let line: Result<(length: Int, empty: Bool), RequestError>? = buffer.withUnsafeReadableBytes { bytes in
                guard bytes.count > 0, let base = bytes.baseAddress,
                      let lfPointer = memchr(base, Int32(UInt8.lf), bytes.count) else { return nil }
                let lf = base.distance(to: UnsafeRawPointer(lfPointer))
                for i in 0..<lf where bytes[i] == .cr && i != lf - 1 {
                    return .failure(.malformed("bare CR"))
                }
                let empty = lf == 0 || (lf == 1 && bytes[0] == .cr)
                if !empty && !HeadParser.isFieldLine(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes[lf - 1] == .cr ? lf - 1 : lf)])) {
                    return .failure(.malformed("malformed trailer field"))
                }
                return .success((lf + 1, empty))
            }
            guard let line else {
                if seen + buffer.readableBytes > limits.maxHeaderSize { throw .headersTooLarge }
                state = .trailers(seen: seen)
                return nil
            }
            let (length, empty) = try line.get()
            buffer.moveReaderIndex(forwardBy: length)
            seen += length
            if seen > limits.maxHeaderSize { throw .headersTooLarge }
            if empty {
                // An empty line ends the trailer section. Trailer fields are dropped: nothing here uses them.
                finishMessage()
                return .end
            }
        }
    }
}

@inline(__always)
private func hexValue(_ b: UInt8) -> Int? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(b - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(b - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(b - UInt8(ascii: "A") + 10)
    default: return nil
    }
}

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let tab = UInt8(ascii: "\t")
    static let space = UInt8(ascii: " ")
    static let colon = UInt8(ascii: ":")
}
