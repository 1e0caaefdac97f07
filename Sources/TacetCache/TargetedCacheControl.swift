/// `CDN-Cache-Control` (RFC 9213): Cache-Control directives aimed at caches like this one, as a
/// Structured Field Dictionary (RFC 8941). When present and valid it replaces Cache-Control for
/// this cache's decisions (and is passed on, for caches further down); when it does not parse it
/// is ignored and Cache-Control applies, as §2.1 says. A directive of the wrong type (a string
/// for `max-age`) is ignored on its own.
extension CacheControl {
    /// nil when `values` (the field's lines) are absent or not a valid Dictionary.
    public init?(targeted values: [String]) {
        guard !values.isEmpty, let members = StructuredDictionary.parse(values.joined(separator: ", ")) else { return nil }
        self.init()
        for (key, item) in members {
            switch (key, item) {
            case ("max-age", .integer(let n)) where n >= 0: maxAge = min(n, Self.deltaCap)
            case ("s-maxage", .integer(let n)) where n >= 0: sMaxAge = min(n, Self.deltaCap)
            case ("stale-while-revalidate", .integer(let n)) where n >= 0: staleWhileRevalidate = min(n, Self.deltaCap)
            case ("stale-if-error", .integer(let n)) where n >= 0: staleIfError = min(n, Self.deltaCap)
            case ("no-store", .boolean(true)): noStore = true
            case ("no-cache", .boolean(true)): noCache = true
            case ("private", .boolean(true)): isPrivate = true
            case ("public", .boolean(true)): isPublic = true
            case ("must-revalidate", .boolean(true)): mustRevalidate = true
            case ("proxy-revalidate", .boolean(true)): proxyRevalidate = true
            case ("must-understand", .boolean(true)): mustUnderstand = true
            case ("immutable", .boolean(true)): immutable = true
            case ("no-transform", .boolean(true)): noTransform = true
            default: break
            }
        }
    }

    /// The directives this cache follows: `CDN-Cache-Control`'s when it is valid, else
    /// `Cache-Control`'s (nil: malformed).
    public static func effective(cacheControl: [String], targeted: [String]) -> CacheControl? {
        CacheControl(targeted: targeted) ?? CacheControl(values: cacheControl)
    }
}

/// The part of RFC 8941 a targeted cache field needs: a Dictionary whose members are bare items
/// (parameters are parsed and dropped, inner lists make a member that no directive matches).
/// Strict: anything outside the grammar fails the whole field.
enum StructuredDictionary {
    enum Item: Equatable {
        case integer(Int)
        case decimal
        case string
        case token
        case bytes
        case boolean(Bool)
        case innerList
    }

    /// Members in order; a key given twice keeps its last value (§4.2.2).
    static func parse(_ text: String) -> [(String, Item)]? {
        var s = Scanner(Array(text.utf8))
        var members: [(String, Item)] = []
        skipSP(&s)
        if s.atEnd { return nil }
        while true {
            guard let key = key(&s) else { return nil }
            var item = Item.boolean(true)
            if s.peek == UInt8(ascii: "=") {
                s.index += 1
                if s.peek == UInt8(ascii: "(") {
                    guard innerList(&s) else { return nil }
                    item = .innerList
                } else {
                    guard let bare = bareItem(&s) else { return nil }
                    item = bare
                }
            }
            guard parameters(&s) else { return nil }
            members.removeAll { $0.0 == key }
            members.append((key, item))
            s.skipOWS()
            if s.atEnd { return members }
            guard s.peek == UInt8(ascii: ",") else { return nil }
            s.index += 1
            s.skipOWS()
            if s.atEnd { return nil }
        }
    }

    private static func skipSP(_ s: inout Scanner) {
        while s.peek == 0x20 { s.index += 1 }
    }

    private static func isLCAlpha(_ b: UInt8) -> Bool { b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    private static func isAlpha(_ b: UInt8) -> Bool { isLCAlpha(b | 0x20) }

    private static func key(_ s: inout Scanner) -> String? {
        guard let first = s.peek, isLCAlpha(first) || first == UInt8(ascii: "*") else { return nil }
        let start = s.index
        while let b = s.peek, isLCAlpha(b) || isDigit(b) || "_-.*".utf8.contains(b) { s.index += 1 }
        return String(decoding: s.bytes[start..<s.index], as: UTF8.self)
    }

    private static func bareItem(_ s: inout Scanner) -> Item? {
        guard let b = s.peek else { return nil }
        switch b {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number(&s)
        case UInt8(ascii: "\""):
            s.index += 1
            while let c = s.peek {
                s.index += 1
                switch c {
                case UInt8(ascii: "\""): return .string
                case UInt8(ascii: "\\"):
                    guard let next = s.peek, next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") else { return nil }
                    s.index += 1
                case 0x20...0x7E: continue
                default: return nil
                }
            }
            return nil
        case UInt8(ascii: ":"):
            s.index += 1
            while let c = s.peek, isAlpha(c) || isDigit(c) || "+/=".utf8.contains(c) { s.index += 1 }
            guard s.peek == UInt8(ascii: ":") else { return nil }
            s.index += 1
            return .bytes
        case UInt8(ascii: "?"):
            s.index += 1
            guard let v = s.peek, v == UInt8(ascii: "0") || v == UInt8(ascii: "1") else { return nil }
            s.index += 1
            return .boolean(v == UInt8(ascii: "1"))
        default:
            guard isAlpha(b) || b == UInt8(ascii: "*") else { return nil }
            while let c = s.peek, Scanner.isToken(c) || c == UInt8(ascii: ":") || c == UInt8(ascii: "/") { s.index += 1 }
            return .token
        }
    }

    /// sf-integer (at most 15 digits) or sf-decimal (at most 12 and 3).
    private static func number(_ s: inout Scanner) -> Item? {
        var negative = false
        if s.peek == UInt8(ascii: "-") { negative = true; s.index += 1 }
        var digits = 0
        var value = 0
        while let c = s.peek, isDigit(c) {
            digits += 1
            guard digits <= 15 else { return nil }
            value = value * 10 + Int(c - UInt8(ascii: "0"))
            s.index += 1
        }
        guard digits > 0 else { return nil }
        if s.peek == UInt8(ascii: ".") {
            guard digits <= 12 else { return nil }
            s.index += 1
            var fraction = 0
            while let c = s.peek, isDigit(c) { fraction += 1; s.index += 1 }
            guard (1...3).contains(fraction) else { return nil }
            return .decimal
        }
        return .integer(negative ? -value : value)
    }

    private static func parameters(_ s: inout Scanner) -> Bool {
        while s.peek == UInt8(ascii: ";") {
            s.index += 1
            skipSP(&s)
            guard key(&s) != nil else { return false }
            if s.peek == UInt8(ascii: "=") {
                s.index += 1
                guard bareItem(&s) != nil else { return false }
            }
        }
        return true
    }

    private static func innerList(_ s: inout Scanner) -> Bool {
        s.index += 1
        while true {
            skipSP(&s)
            if s.peek == UInt8(ascii: ")") {
                s.index += 1
                return parameters(&s)
            }
            guard bareItem(&s) != nil, parameters(&s) else { return false }
            guard let next = s.peek, next == 0x20 || next == UInt8(ascii: ")") else { return false }
        }
    }
}
