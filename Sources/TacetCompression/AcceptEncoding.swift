/// A request's Accept-Encoding (RFC 9110 §12.5.3), parsed strictly: a field that does not
/// follow the grammar is treated as absent (the response goes out as it is), never refused.
public struct AcceptEncoding: Sendable, Equatable {
    /// Weights in thousandths (q=0.5 is 500), by lowercased coding; `*` is the wildcard.
    var weights: [String: Int]

    /// Parses every Accept-Encoding field line of a request. nil for no field, or a malformed
    /// one; an empty field is valid and accepts identity only.
    public init?(fields: some Sequence<String>) {
        var weights: [String: Int] = [:]
        var present = false
        for field in fields {
            present = true
            guard Self.parse(field, into: &weights) else { return nil }
        }
        guard present else { return nil }
        self.weights = weights
    }

    /// The weight of `coding` for this client: its own entry, else the wildcard's, else 0.
    public func weight(of coding: ContentCoding) -> Int {
        if let own = weights[coding.token] { return own }
        if coding == .gzip, let alias = weights["x-gzip"] { return alias }  // §8.4.1.3
        return weights["*"] ?? 0
    }

    /// Identity is acceptable unless `identity;q=0`, or `*;q=0` with no entry for identity.
    public var identityWeight: Int { weights["identity"] ?? weights["*"].map { $0 == 0 ? 0 : 1000 } ?? 1000 }

    /// How identity ranks against the codings: only as the client weighs it (its own entry or the
    /// wildcard's); unlisted, it is the acceptable fallback and outranks nothing.
    var identityPreference: Int { weights["identity"] ?? weights["*"] ?? 0 }

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

    /// `#( codings [ OWS ";" OWS "q=" qvalue ] )`, empty list elements allowed.
    private static func parse(_ field: String, into weights: inout [String: Int]) -> Bool {
        for element in field.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            let parts = element.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
            let coding = trimmed(parts[0])
            if coding.isEmpty {
                // An empty list element (", ,") is allowed; a weight with no coding is not.
                guard parts.count == 1 else { return false }
                continue
            }
            guard coding.allSatisfy(isTokenCharacter) else { return false }  // `*` is a token character
            var weight = 1000
            if parts.count == 2 {
                guard let q = qvalue(trimmed(parts[1])) else { return false }
                weight = q
            } else if parts.count > 2 {
                return false
            }
            let name = String(decoding: coding, as: UTF8.self).lowercased()
            // A coding listed twice keeps its highest weight: the field is the client's, and
            // its mistake should not turn compression off.
            weights[name] = max(weights[name] ?? 0, weight)
        }
        return true
    }

    /// `q=` then `0[.ddd]` or `1[.000]`, in thousandths.
    private static func qvalue(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.count >= 3, bytes.first == UInt8(ascii: "q") || bytes.first == UInt8(ascii: "Q"),
              bytes[bytes.startIndex + 1] == UInt8(ascii: "=") else { return nil }
        let value = bytes.dropFirst(2)
        guard let lead = value.first, lead == UInt8(ascii: "0") || lead == UInt8(ascii: "1") else { return nil }
        var digits = value.dropFirst()
        var thousandths = 0
        if !digits.isEmpty {
            guard digits.first == UInt8(ascii: "."), digits.count <= 4 else { return nil }
            digits = digits.dropFirst()
            var scale = 100
            for digit in digits {
                guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
                thousandths += Int(digit - UInt8(ascii: "0")) * scale
                scale /= 10
            }
        }
        if lead == UInt8(ascii: "1") {
            guard thousandths == 0 else { return nil }
            return 1000
        }
        return thousandths
    }

    private static func trimmed(_ bytes: some Collection<UInt8>) -> ArraySlice<UInt8> {
        var slice = ArraySlice(bytes)
        while let first = slice.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { slice = slice.dropFirst() }
        while let last = slice.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { slice = slice.dropLast() }
        return slice
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
