/// A Cache-Control field (RFC 9111 §5.2), read strictly: a list of directives, each a token
/// with an optional `=` and a token or quoted-string argument. Anything else, a delta-seconds
/// that is not digits, or one directive given twice with different arguments, makes the whole
/// field malformed: the caller treats that as "not storable", never as "cache forever".
public struct CacheControl: Sendable, Equatable {
    /// Directives with a delta-seconds argument, in seconds (capped at 2^31, §1.2.2).
    public var maxAge: Int?
    public var sMaxAge: Int?
    public var maxStale: Int?
    /// `max-stale` without an argument: any staleness.
    public var maxStaleAny = false
    public var minFresh: Int?
    public var staleWhileRevalidate: Int?
    public var staleIfError: Int?
    public var noCache = false
    /// `no-cache="Set-Cookie"`: the response may be stored and reused with these fields left out.
    public var noCacheFields: [String] = []
    public var noStore = false
    public var noTransform = false
    public var onlyIfCached = false
    public var mustRevalidate = false
    public var proxyRevalidate = false
    public var mustUnderstand = false
    public var isPublic = false
    public var isPrivate = false
    /// `private="X"`: only these fields are private (a shared cache stores the rest).
    public var privateFields: [String] = []
    public var immutable = false

    public init() {}

    static let deltaCap = 2_147_483_648

    /// nil when any of `values` (the field's lines) is malformed.
    public init?(values: [String]) {
        var seen: [String: String?] = [:]
        for value in values {
            var scanner = Scanner(Array(value.utf8))
            while true {
                scanner.skipOWS()
                if scanner.atEnd { break }
                if scanner.peek == UInt8(ascii: ",") { scanner.index += 1; continue }
                guard let name = scanner.token()?.lowercased() else { return nil }
                var argument: String?
                scanner.skipOWS()
                if scanner.peek == UInt8(ascii: "=") {
                    scanner.index += 1
                    scanner.skipOWS()
                    if scanner.peek == UInt8(ascii: "\"") {
                        guard let quoted = scanner.quotedString() else { return nil }
                        argument = quoted
                    } else {
                        guard let token = scanner.token() else { return nil }
                        argument = token
                    }
                    scanner.skipOWS()
                }
                guard scanner.atEnd || scanner.peek == UInt8(ascii: ",") else { return nil }
                if let previous = seen[name] {
                    guard previous == argument else { return nil }
                    continue
                }
                seen[name] = argument
                guard apply(name, argument) else { return nil }
            }
        }
    }

    /// False for a known directive with a bad argument; unknown directives are ignored (§5.2.3).
    private mutating func apply(_ name: String, _ argument: String?) -> Bool {
        func seconds() -> Int? {
            guard let argument, !argument.isEmpty, argument.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            // Digits only: a value past the cap is the cap.
            let trimmed = argument.drop { $0 == "0" }
            if trimmed.count > 10 { return Self.deltaCap }
            return min(Int(trimmed) ?? 0, Self.deltaCap)
        }
        func fields() -> [String]? {
            guard let argument else { return [] }
            let names = argument.split(separator: ",").map { $0.trimmingOWS().lowercased() }
            guard names.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(Scanner.isToken) }) else { return nil }
            return names
        }
        switch name {
        case "max-age": guard let s = seconds() else { return false }; maxAge = s
        case "s-maxage": guard let s = seconds() else { return false }; sMaxAge = s
        case "min-fresh": guard let s = seconds() else { return false }; minFresh = s
        case "stale-while-revalidate": guard let s = seconds() else { return false }; staleWhileRevalidate = s
        case "stale-if-error": guard let s = seconds() else { return false }; staleIfError = s
        case "max-stale":
            if argument == nil { maxStaleAny = true } else { guard let s = seconds() else { return false }; maxStale = s }
        case "no-cache":
            guard let names = fields() else { return false }
            if names.isEmpty { noCache = true } else { noCacheFields = names }
        case "private":
            guard let names = fields() else { return false }
            if names.isEmpty { isPrivate = true } else { privateFields = names }
        case "no-store": guard argument == nil else { return false }; noStore = true
        case "no-transform": guard argument == nil else { return false }; noTransform = true
        case "only-if-cached": guard argument == nil else { return false }; onlyIfCached = true
        case "must-revalidate": guard argument == nil else { return false }; mustRevalidate = true
        case "proxy-revalidate": guard argument == nil else { return false }; proxyRevalidate = true
        case "must-understand": guard argument == nil else { return false }; mustUnderstand = true
        case "public": guard argument == nil else { return false }; isPublic = true
        case "immutable": guard argument == nil else { return false }; immutable = true
        default: break
        }
        return true
    }
}

/// Bytes of one field value, read left to right.
struct Scanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8? { atEnd ? nil : bytes[index] }

    mutating func skipOWS() {
        while let b = peek, b == 0x20 || b == 0x09 { index += 1 }
    }

    static func isToken(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }

    mutating func token() -> String? {
        let start = index
        while let b = peek, Self.isToken(b) { index += 1 }
        guard index > start else { return nil }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// RFC 9110 §5.6.4, unescaped; nil if unterminated or holding a control character.
    mutating func quotedString() -> String? {
        guard peek == UInt8(ascii: "\"") else { return nil }
        index += 1
        var out: [UInt8] = []
        while let b = peek {
            index += 1
            switch b {
            case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let next = peek, next == 0x09 || (next >= 0x20 && next != 0x7F) else { return nil }
                out.append(next)
                index += 1
            case 0x09, 0x20...0x7E, 0x80...0xFF: out.append(b)
            default: return nil
            }
        }
        return nil
    }
}
