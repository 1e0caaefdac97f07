import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Strict chunked framing (RFC 9112 §7.1): a chunk size of hex digits only, then optional
/// `;` extensions without control bytes, CRLF after each chunk's data, trailer lines that are
/// field lines. A lenient reading here is how bodies get smuggled, so anything else is an error.
/// Shared by the request parser and the proxy's upstream response parser; one per message.
public struct ChunkedDecoder: Sendable {
    public enum Event: Sendable {
        case data(ByteBuffer)
        /// The last chunk and the trailer section are read (trailer fields are dropped).
        case end
    }

    public enum Failure: Error, Equatable, Sendable {
        case malformed(String)
        case bodyTooLarge
        case trailersTooLarge

        public var reason: String {
            switch self {
            case .malformed(let why): return why
            case .bodyTooLarge: return "body too large"
            case .trailersTooLarge: return "trailers too large"
            }
        }
    }

    private enum State: Sendable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers(seen: Int)
    }

    private var state: State = .size
    private var received = 0
    private let maxBody: Int
    private let maxTrailers: Int
    /// Every line ends in CRLF (requests: strict, as their heads are); off, a bare LF is taken as
    /// a line end (upstream responses, which Tacet re-frames for the client anyway).
    private let requireCRLF: Bool

    public init(maxBody: Int = .max, maxTrailers: Int, requireCRLF: Bool = true) {
        self.maxBody = maxBody
        self.maxTrailers = maxTrailers
        self.requireCRLF = requireCRLF
    }

    /// The next piece of the body from `buffer`, consuming it; nil when more bytes are needed.
    public mutating func next(_ buffer: inout ByteBuffer) throws(Failure) -> Event? {
        while true {
            switch state {
            case .size:
                guard let size = try readSize(&buffer) else { return nil }
                if size == 0 {
                    state = .trailers(seen: 0)
                    continue
                }
                received += size
                if received > maxBody { throw .bodyTooLarge }
                state = .data(remaining: size)
            case .data(let remaining):
                guard let (slice, left) = buffer.readBodySlice(remaining: remaining) else { return nil }
                state = left == 0 ? .dataEnd : .data(remaining: left)
                return .data(slice)
            case .dataEnd:
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
                if first == .lf {
                    if requireCRLF { throw .malformed("bare LF line ending") }
                    buffer.moveReaderIndex(forwardBy: 1)
                } else if first == .cr {
                    guard let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return nil }
                    guard second == .lf else { throw .malformed("bad chunk terminator") }
                    buffer.moveReaderIndex(forwardBy: 2)
                } else {
                    throw .malformed("chunk longer than its size")
                }
                state = .size
            case .trailers(let seen):
                return try readTrailers(&buffer, seen: seen) ? .end : nil
            }
        }
    }

    /// Reads a chunk-size line; nil when it has not all arrived.
    private func readSize(_ buffer: inout ByteBuffer) throws(Failure) -> Int? {
        let maxLine = 1024
        let requireCRLF = self.requireCRLF
        let found: Result<(size: Int, lineLength: Int), Failure>? = buffer.withUnsafeReadableBytes { bytes in
            let window = min(bytes.count, maxLine)
            guard window > 0, let base = bytes.baseAddress,
                  let lfPointer = memchr(base, Int32(UInt8.lf), window) else {
                return bytes.count >= maxLine ? .failure(.malformed("chunk size line too long")) : nil
            }
            let lf = base.distance(to: UnsafeRawPointer(lfPointer))
            var end = lf
            if end > 0 && bytes[end - 1] == .cr {
                end -= 1
            } else if requireCRLF {
                return .failure(.malformed("bare LF line ending"))
            }
            var size = 0
            var digits = 0
            var i = 0
            while i < end, let v = Self.hexValue(bytes[i]) {
                guard digits < 15 else { return .failure(.malformed("chunk size too large")) }
                size = size << 4 | v
                digits += 1
                i += 1
            }
            guard digits > 0 else { return .failure(.malformed("bad chunk size")) }
            // chunk-size = 1*HEXDIG, then only BWS ";" chunk-ext: "0x5" or "5 junk" is an error.
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
        return size
    }

    /// Reads trailer lines up to the empty one; false (state saved) when more bytes are needed.
    private mutating func readTrailers(_ buffer: inout ByteBuffer, seen: Int) throws(Failure) -> Bool {
        var seen = seen
        let requireCRLF = self.requireCRLF
        while true {
            let line: Result<(length: Int, empty: Bool), Failure>? = buffer.withUnsafeReadableBytes { bytes in
                guard bytes.count > 0, let base = bytes.baseAddress,
                      let lfPointer = memchr(base, Int32(UInt8.lf), bytes.count) else { return nil }
                let lf = base.distance(to: UnsafeRawPointer(lfPointer))
                switch FieldLine.read(bytes, from: 0, lf: lf, requireCRLF: requireCRLF) {
                case .success(.end): return .success((lf + 1, true))
                case .success(.field): return .success((lf + 1, false))
                case .failure(let error): return .failure(.malformed("trailer field: " + error.reason))
                }
            }
            guard let line else {
                if seen + buffer.readableBytes > maxTrailers { throw .trailersTooLarge }
                state = .trailers(seen: seen)
                return false
            }
            let (length, empty) = try line.get()
            buffer.moveReaderIndex(forwardBy: length)
            seen += length
            if seen > maxTrailers { throw .trailersTooLarge }
            if empty { return true }
        }
    }

    @inline(__always)
    private static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
