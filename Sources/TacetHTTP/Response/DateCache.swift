import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `Date:` header line, formatted once a second per event-loop thread rather than per response.
final class DateCache: @unchecked Sendable {
    // @unchecked: each instance lives in a thread-specific slot and is only touched by its thread.
    private var second = -1
    private var line: [UInt8] = []

    private static let perThread = ThreadSpecificVariable<DateCache>()

    static var current: DateCache {
        if let cache = perThread.currentValue { return cache }
        let cache = DateCache()
        perThread.currentValue = cache
        return cache
    }

    /// Writes `Date: <IMF-fixdate>\r\n`.
    func write(into buffer: inout ByteBuffer) {
        let now = Int(time(nil))
        if now != second {
            second = now
            line = Array("Date: \(HTTPDate.format(epochSeconds: now))\r\n".utf8)
        }
        buffer.writeBytes(line)
    }
}
