/// What Tacet knows about field names and values, once, for both directions of the proxy and
/// for the responses it writes itself: which fields belong to one connection (RFC 9110 §7.6.1),
/// how a Content-Length reads, how a token list splits. On bytes, without allocating: these run
/// for every field of every message.
public enum FieldNames {
    /// A Host value (or an HTTP/2 `:authority`) lowercased and without its port; nil when it has
    /// a byte a host cannot have. The HTTP/1.1 parser's own reading, for other protocols.
    public static func hostWithoutPort(_ value: String) -> String? {
        Array(value.utf8).withUnsafeBytes { HeadParser.hostWithoutPort($0) }
    }

    /// Fields for one connection only, that a proxy never passes on and a route may not set:
    /// Connection, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade and Proxy-* (RFC 9110
    /// §7.6.1 and the de-facto Proxy-Connection), and Content-Length, which each hop frames itself.
    /// (Fields a Connection header names are the caller's to add.)
    @inlinable
    public static func isHopByHop<Name: Collection>(_ name: Name) -> Bool where Name.Element == UInt8 {
        switch name.count {
        case 2: return equalsLower(name, "te")
        case 7: return equalsLower(name, "trailer") || equalsLower(name, "upgrade")
        case 10: return equalsLower(name, "connection") || equalsLower(name, "keep-alive")
        case 14: return equalsLower(name, "content-length")
        case 17: return equalsLower(name, "transfer-encoding")
        default: return name.count > 6 && equalsLower(name.prefix(6), "proxy-")
        }
    }

    @inlinable
    public static func isHopByHop(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { isHopByHop($0) }
    }

    /// ASCII case-insensitive equality with a lowercase literal.
    @inlinable
    public static func equalsLower<Bytes: Collection>(_ bytes: Bytes, _ lower: StaticString) -> Bool where Bytes.Element == UInt8 {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        let l = lower.utf8Start
        var i = 0
        for b in bytes {
            let lb = (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
            if lb != l[i] { return false }
            i += 1
        }
        return true
    }

    public enum Length: Equatable, Sendable {
        case value(Int)
        /// Not digits, or too large.
        case invalid
        /// A list whose members differ.
        case conflicting
    }

    /// A Content-Length value, merged with one seen before on the same message. A list of equal
    /// values ("5, 5", what a proxy that joined two fields sends) is that value (RFC 9110 §8.6);
    /// differing values are never guessed between.
    @inlinable
    public static func contentLength<Bytes: Collection>(_ value: Bytes, merging previous: Int?) -> Length
    where Bytes.Element == UInt8 {
        var result = previous
        var n = 0
        var digits = 0
        var sawDigitsInMember = false
        var afterMember = false  // OWS after a member's digits
        func close() -> Length? {
            guard sawDigitsInMember else { return .invalid }
            if let r = result, r != n { return .conflicting }
            result = n
            n = 0
            digits = 0
            sawDigitsInMember = false
            afterMember = false
            return nil
        }
        for b in value {
            if b >= 0x30 && b <= 0x39 {
                guard !afterMember, digits < 18 else { return .invalid }
                n = n * 10 + Int(b - 0x30)
                digits += 1
                sawDigitsInMember = true
            } else if b == UInt8(ascii: ",") {
                if let failed = close() { return failed }
            } else if FieldLine.isOWS(b) {
                if sawDigitsInMember { afterMember = true }
            } else {
                return .invalid
            }
        }
        if let failed = close() { return failed }
        return result.map { .value($0) } ?? .invalid
    }

    /// Calls `body` with each member of a comma-separated list, OWS trimmed, empty ones skipped.
    @inlinable
    public static func forEachMember(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        for i in 0...value.count where i == value.count || value[i] == UInt8(ascii: ",") {
            var s = start
            var e = i
            while s < e && FieldLine.isOWS(value[s]) { s += 1 }
            while e > s && FieldLine.isOWS(value[e - 1]) { e -= 1 }
            if e > s { body(UnsafeRawBufferPointer(rebasing: value[s..<e])) }
            start = i + 1
        }
    }
}
