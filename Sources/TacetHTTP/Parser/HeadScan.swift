#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the end of a request head without rescanning bytes already seen, and applies the
/// request-line (414) and header-block (431) limits while the head is still arriving.
enum HeadScan {
    case needMore(scanned: Int, requestLineEnd: Int?)
    case complete(headEnd: Int, requestLineEnd: Int)
    case failed(RequestError)

    static func scan(_ bytes: UnsafeRawBufferPointer, from scanned: Int, requestLineEnd: Int?,
                     limits: RequestParser.Limits) -> HeadScan {
        guard let base = bytes.baseAddress else {
            return .needMore(scanned: scanned, requestLineEnd: requestLineEnd)
        }
        var lineStart = scanned
        var requestLineEnd = requestLineEnd
        while lineStart < bytes.count {
            guard let lfPointer = memchr(base + lineStart, Int32(UInt8.lf), bytes.count - lineStart) else { break }
            let lf = base.distance(to: UnsafeRawPointer(lfPointer))
            if requestLineEnd == nil {
                if lf > limits.maxRequestLine { return .failed(.requestLineTooLong) }
                requestLineEnd = lf
            } else if lf == lineStart || (lf == lineStart + 1 && bytes[lineStart] == .cr) {
                if lf + 1 > limits.maxHeaderSize { return .failed(.headersTooLarge) }
                return .complete(headEnd: lf + 1, requestLineEnd: requestLineEnd ?? lf)
            }
            lineStart = lf + 1
        }
        if requestLineEnd == nil && bytes.count > limits.maxRequestLine { return .failed(.requestLineTooLong) }
        if bytes.count > limits.maxHeaderSize { return .failed(.headersTooLarge) }
        return .needMore(scanned: lineStart, requestLineEnd: requestLineEnd)
    }
}
