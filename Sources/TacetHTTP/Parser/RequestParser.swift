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
        case chunked(ChunkedDecoder)
        case endPending
    }

    private var state: State = .head(scanned: 0, requestLineEnd: nil)
    public let limits: Limits
    /// Whether the last head seen (parsed or refused) was a HEAD request: an error response to
    /// it must carry no body (RFC 9110 §9.3.2).
    public private(set) var lastHeadWasHEAD = false
    /// The request line of the head just refused, when it was whole and looked like one: what
    /// the access line names instead of `"-"`.
    public private(set) var refusedLine: RefusedRequestLine?

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
            guard let (slice, left) = buffer.readBodySlice(remaining: remaining) else { return nil }
            state = left == 0 ? .endPending : .body(remaining: left)
            return .body(slice)
        case .endPending:
            finishMessage()
            return .end
        case .chunked(var decoder):
            let event: ChunkedDecoder.Event?
            do {
                event = try decoder.next(&buffer)
            } catch {
                throw RequestError(error)
            }
            state = .chunked(decoder)
            switch event {
            case nil:
                return nil
            case .data(let slice):
                return .body(slice)
            case .end:
                finishMessage()
                return .end
            }
        }
    }

    private mutating func finishMessage() {
        state = .head(scanned: 0, requestLineEnd: nil)
    }

    // MARK: head

    private mutating func noteRefusedLine(_ buffer: ByteBuffer) {
        let limit = limits.maxRequestLine
        refusedLine = buffer.withUnsafeReadableBytes { bytes in
            guard let lf = CharacterClass.firstIndex(of: .lf, in: bytes, 0, min(bytes.count, limit + 1)) else { return nil }
            return RefusedRequestLine.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<lf]))
        }
    }

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
        lastHeadWasHEAD = buffer.withUnsafeReadableBytes { bytes in
            bytes.count >= 5 && bytes[0] == 0x48 && bytes[1] == 0x45 && bytes[2] == 0x41 && bytes[3] == 0x44
                && bytes[4] == .space  // "HEAD "
        }
        let limits = self.limits
        let scan: HeadScan = buffer.withUnsafeReadableBytes { bytes in
            HeadScan.scan(bytes, from: scanned, requestLineEnd: requestLineEnd, limits: limits)
        }
        switch scan {
        case .needMore(let scanned, let requestLineEnd):
            state = .head(scanned: scanned, requestLineEnd: requestLineEnd)
            return nil
        case .failed(let error):
            noteRefusedLine(buffer)
            throw error
        case .complete(let headEnd, let requestLineEnd):
            let parsed: Result<Request, RequestError> = buffer.withUnsafeReadableBytes { bytes in
                HeadParser.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<headEnd]), requestLineEnd: requestLineEnd, limits: limits)
            }
            if case .failure = parsed { noteRefusedLine(buffer) }
            buffer.moveReaderIndex(forwardBy: headEnd)
            let request = try parsed.get()
            switch request.framing {
            case .none:
                state = .endPending
            case .length(let n):
                state = n == 0 ? .endPending : .body(remaining: n)
            case .chunked:
                state = .chunked(ChunkedDecoder(maxBody: limits.maxBodySize, maxTrailers: limits.maxHeaderSize))
            }
            return .head(request)
        }
    }

}

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let tab = UInt8(ascii: "\t")
    static let space = UInt8(ascii: " ")
    static let colon = UInt8(ascii: ":")
}
