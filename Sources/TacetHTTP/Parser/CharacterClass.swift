#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 9110 §5.6.2 token characters and §5.5 field-value characters, as lookup tables, and a
/// byte search: what every HTTP head parser here (client requests, upstream responses) reads with.
public enum CharacterClass {
    // Bit sets over the ASCII bytes (low word 0-63, high word 64-127), as literals: they are
    // constants, read with no lazy-initialisation check per byte (a table built by a closure
    // paid swift_once on every call). Tests check them against the RFC's lists.
    /// RFC 9110 tchar: ALPHA, DIGIT and !#$%&'*+-.^_`|~
    static let tokenBits: (UInt64, UInt64) = (0x03FF_6CFA_0000_0000, 0x57FF_FFFF_C7FF_FFFE)
    /// uri-host characters (RFC 3986 reg-name and IP-literal) and the port's colon:
    /// ALPHA, DIGIT and -._~!$&'()*+,;=%:[]
    static let hostBits: (UInt64, UInt64) = (0x2FFF_7FF2_0000_0000, 0x47FF_FFFE_AFFF_FFFE)

    @inline(__always) static func contains(_ bits: (UInt64, UInt64), _ b: UInt8) -> Bool {
        if b < 64 { return bits.0 & (1 << UInt64(b)) != 0 }
        if b < 128 { return bits.1 & (1 << UInt64(b - 64)) != 0 }
        return false
    }

    @inline(__always) public static func isToken(_ b: UInt8) -> Bool { contains(tokenBits, b) }

    @inline(__always) public static func isHostCharacter(_ b: UInt8) -> Bool { contains(hostBits, b) }

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
