import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `Date:` header line, formatted once a second per event-loop thread rather than per response.
final class DateCache: @unchecked Sendable, PerThreadCache {
    // @unchecked: each instance lives in a thread-specific slot and is only touched by its thread.
    private var second = -1
    /// The line's bytes in place (37 of the 40), so writing it costs a copy and no reference counting.
    private var line: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    private var count = 0

    static let perThread = ThreadSpecificVariable<DateCache>()
    private var valueSecond = -1
    private var valueText = ""

    /// The date as a field value (IMF-fixdate), for protocols that take fields as strings.
    var value: String {
        let now = Int(time(nil))
        if now != valueSecond {
            valueSecond = now
            valueText = HTTPDate.format(epochSeconds: now)
        }
        return valueText
    }

    /// Writes `Date: <IMF-fixdate>\r\n`.
    func write(into buffer: inout ByteBuffer) {
        let now = Int(time(nil))
        if now != second {
            second = now
            let text = Array("Date: \(HTTPDate.format(epochSeconds: now))\r\n".utf8)
            let length = min(text.count, MemoryLayout.size(ofValue: line))
            count = length
            withUnsafeMutableBytes(of: &line) { space in
                space.copyBytes(from: text.prefix(length))
            }
        }
        let length = count
        withUnsafeBytes(of: &line) { bytes in
            _ = buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes.prefix(length)))
        }
    }
}
