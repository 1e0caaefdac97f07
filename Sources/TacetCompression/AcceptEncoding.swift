import NIOHTTP1
import TacetHTTP

/// A request's Accept-Encoding (RFC 9110 §12.5.3), parsed strictly: a field that does not
/// follow the grammar is treated as absent (the response goes out as it is), never refused.
/// Parsed on every request of a compressing route, so over the bytes, without allocating: only
/// the weights of the codings Tacet can act on are kept.
public struct AcceptEncoding: Sendable, Equatable {
    /// Weights in thousandths (q=0.5 is 500); -1 where the field does not name the coding.
    var gzip: Int16 = -1
    var br: Int16 = -1
    var zstd: Int16 = -1
    var identity: Int16 = -1
    var star: Int16 = -1

    /// Parses every Accept-Encoding field line of a request. nil for no field, or a malformed
    /// one; an empty field is valid and accepts identity only.
    public init?(fields: some Sequence<String>) {
        var present = false
        for field in fields {
            present = true
            guard parse(field) else { return nil }
        }
        guard present else { return nil }
    }

    /// The request's Accept-Encoding lines, read from its fields.
    public init?(headers: HTTPHeaders) {
        var present = false
        for (name, value) in headers where name.lowercasedASCIIEquals("accept-encoding") {
            present = true
            guard parse(value) else { return nil }
        }
        guard present else { return nil }
    }

    /// The weight of `coding` for this client: its own entry, else the wildcard's, else 0.
    public func weight(of coding: ContentCoding) -> Int {
        let own: Int16 = switch coding {
        case .gzip: gzip
        case .br: br
        case .zstd: zstd
        }
        return Int(own >= 0 ? own : max(star, 0))
    }

    /// Identity is acceptable unless `identity;q=0`, or `*;q=0` with no entry for identity.
    public var identityWeight: Int {
        if identity >= 0 { return Int(identity) }
        if star >= 0 { return star == 0 ? 0 : 1000 }
        return 1000
    }

    /// How identity ranks against the codings: only as the client weighs it (its own entry or the
    /// wildcard's); unlisted, it is the acceptable fallback and outranks nothing.
    var identityPreference: Int { Int(identity >= 0 ? identity : max(star, 0)) }

    /// The coding to send among `available` (the server's order of preference): the highest
    /// weight wins, ties go to the server's order; nil when identity is preferred or nothing
    /// else is acceptable.
    public func choose(from available: [ContentCoding]) -> ContentCoding? {
        var best: (coding: ContentCoding, weight: Int)?
        for coding in available {
            let weight = self.weight(of: coding)
            if weight > 0, weight > (best?.weight ?? 0) { best = (coding, weight) }
        }
        guard let best, best.weight >= identityPreference else { return nil }
        return best.coding
    }

    private mutating func parse(_ field: String) -> Bool {
        var field = field
        return field.withUTF8 { parse($0) }
    }

    /// `#( codings [ OWS ";" OWS "q=" qvalue ] )`, empty list elements allowed.
    private mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = bytes.count
        func skipWhitespace() { while i < n, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 } }
        while true {
            skipWhitespace()
            if i == n { return true }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            let start = i
            while i < n, Self.isTokenCharacter(bytes[i]) { i += 1 }
            guard i > start else { return false }
            let token = UnsafeBufferPointer(rebasing: bytes[start..<i])
            skipWhitespace()
            var weight: Int16 = 1000
            if i < n, bytes[i] == UInt8(ascii: ";") {
                i += 1
                skipWhitespace()
                guard i + 2 < n, bytes[i] | 0x20 == UInt8(ascii: "q"), bytes[i + 1] == UInt8(ascii: "=") else { return false }
                i += 2
                guard let q = Self.qvalue(bytes, &i) else { return false }
                weight = q
                skipWhitespace()
            }
            guard i == n || bytes[i] == UInt8(ascii: ",") else { return false }
            record(token, weight)
        }
    }

    /// A coding listed twice keeps its highest weight: the field is the client's, and its
    /// mistake should not turn compression off. Codings Tacet cannot produce are not kept.
    private mutating func record(_ token: UnsafeBufferPointer<UInt8>, _ weight: Int16) {
        func named(_ lower: StaticString) -> Bool {
            guard token.count == lower.utf8CodeUnitCount else { return false }
            for k in 0..<token.count {
                let c = token[k]
                if (c >= 0x41 && c <= 0x5A ? c | 0x20 : c) != lower.utf8Start[k] { return false }
            }
            return true
        }
        if named("gzip") || named("x-gzip") { gzip = max(gzip, weight) }
        else if named("br") { br = max(br, weight) }
        else if named("zstd") { zstd = max(zstd, weight) }
        else if named("identity") { identity = max(identity, weight) }
        else if named("*") { star = max(star, weight) }
    }

    /// `0[.ddd]` or `1[.000]`, in thousandths; advances `i` past it.
    private static func qvalue(_ bytes: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Int16? {
        let n = bytes.count
        guard i < n, bytes[i] == UInt8(ascii: "0") || bytes[i] == UInt8(ascii: "1") else { return nil }
        let one = bytes[i] == UInt8(ascii: "1")
        i += 1
        var thousandths: Int16 = 0
        if i < n, bytes[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int16 = 100
            var digits = 0
            while i < n, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                digits += 1
                guard digits <= 3 else { return nil }
                thousandths += Int16(bytes[i] - UInt8(ascii: "0")) * scale
                scale /= 10
                i += 1
            }
        }
        if one {
            guard thousandths == 0 else { return nil }
            return 1000
        }
        return thousandths
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
