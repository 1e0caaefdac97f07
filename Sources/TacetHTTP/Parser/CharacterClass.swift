#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 9110 §5.6.2 token characters and §5.5 field-value characters, as lookup tables, and a
/// byte search: what every HTTP head parser here (client requests, upstream responses) reads with.
public enum CharacterClass {
    private static let tokenTable: [Bool] = (0..<256).map { b in
        switch UInt8(b) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(UInt8(b))
        }
    }

    /// uri-host characters (RFC 3986 reg-name and IP-literal) and the port's colon.
    private static let hostTable: [Bool] = (0..<256).map { b in
        switch UInt8(b) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-._~!$&'()*+,;=%:[]".utf8.contains(UInt8(b))
        }
    }

    @inline(__always) public static func isToken(_ b: UInt8) -> Bool { tokenTable[Int(b)] }

    @inline(__always) public static func isHostCharacter(_ b: UInt8) -> Bool { hostTable[Int(b)] }

    /// Visible ASCII, space, tab and obs-text; never CR, LF, NUL or other controls.
    @inline(__always) public static func isFieldValue(_ b: UInt8) -> Bool {
        b == 0x09 || (b >= 0x20 && b != 0x7F)
    }

    /// The index of the first `byte` in `bytes[start..<end]` (memchr).
    @inline(__always)
    public static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        guard start < end, let base = bytes.baseAddress,
              let p = memchr(base + start, Int32(byte), end - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(p))
    }
}
