import NIOCore

/// The few HPACK representations Tacet writes (RFC 7541): indexed `:status` codes of the
/// static table, and literal fields without indexing, names from the static table where the
/// field is a fixed one, values as plain octets (no Huffman). No dynamic table is used, so no
/// encoder state is kept and nothing is looked up per field: a peer's table size is moot.
enum HPACKLiteral {
    /// Static table indexes (Appendix A) of the names Tacet writes itself.
    enum Name: Int {
        case contentLength = 28
        case contentType = 31
        case date = 33
        case location = 46
        case server = 54
    }

    /// `:status`: one byte for the seven codes the static table has, else a literal.
    static func status(_ code: Int, into out: inout ByteBuffer) {
        switch code {
        case 200: out.writeInteger(UInt8(0x80 | 8))
        case 204: out.writeInteger(UInt8(0x80 | 9))
        case 206: out.writeInteger(UInt8(0x80 | 10))
        case 304: out.writeInteger(UInt8(0x80 | 11))
        case 400: out.writeInteger(UInt8(0x80 | 12))
        case 404: out.writeInteger(UInt8(0x80 | 13))
        case 500: out.writeInteger(UInt8(0x80 | 14))
        default:
            integer(8, prefixBits: 4, flags: 0x00, into: &out)  // :status's name index
            let digits = (UInt8(ascii: "0") + UInt8(code / 100 % 10), UInt8(ascii: "0") + UInt8(code / 10 % 10),
                          UInt8(ascii: "0") + UInt8(code % 10))
            out.writeMultipleIntegers(UInt8(3), digits.0, digits.1, digits.2)
        }
    }

    /// A literal without indexing whose name is a static table entry (§6.2.2).
    static func field(_ name: Name, value: some Collection<UInt8>, into out: inout ByteBuffer) {
        integer(name.rawValue, prefixBits: 4, flags: 0x00, into: &out)
        string(value, into: &out)
    }

    static func field(_ name: Name, value: String, into out: inout ByteBuffer) {
        field(name, value: value.utf8, into: &out)
    }

    /// A decimal value (Content-Length) without a String.
    static func field(_ name: Name, decimal: Int, into out: inout ByteBuffer) {
        integer(name.rawValue, prefixBits: 4, flags: 0x00, into: &out)
        var digits = 1
        var rest = decimal / 10
        while rest > 0 { digits += 1; rest /= 10 }
        integer(digits, prefixBits: 7, flags: 0x00, into: &out)
        var value = max(decimal, 0)
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: digits) { bytes in
            for i in stride(from: digits - 1, through: 0, by: -1) {
                bytes[i] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            return digits
        }
    }

    /// A literal without indexing with a new name, lowercased as HTTP/2 requires (§8.2).
    static func field(name: some Collection<UInt8>, value: some Collection<UInt8>, into out: inout ByteBuffer) {
        out.writeInteger(UInt8(0x00))
        integer(name.count, prefixBits: 7, flags: 0x00, into: &out)
        for byte in name { out.writeInteger(byte &+ (byte >= 0x41 && byte <= 0x5A ? 0x20 : 0)) }
        string(value, into: &out)
    }

    /// A string literal, not Huffman-coded (§5.2).
    static func string(_ value: some Collection<UInt8>, into out: inout ByteBuffer) {
        integer(value.count, prefixBits: 7, flags: 0x00, into: &out)
        out.writeBytes(value)
    }

    /// An integer with an N-bit prefix (§5.1); `flags` fills the bits above the prefix.
    static func integer(_ value: Int, prefixBits: Int, flags: UInt8, into out: inout ByteBuffer) {
        let limit = (1 << prefixBits) - 1
        guard value >= limit else {
            out.writeInteger(flags | UInt8(value))
            return
        }
        out.writeInteger(flags | UInt8(limit))
        var rest = value - limit
        while rest >= 128 {
            out.writeInteger(UInt8(rest & 0x7F | 0x80))
            rest >>= 7
        }
        out.writeInteger(UInt8(rest))
    }
}
