/// Vary as secondary keys (RFC 9111 §4.1): a stored response answers a request only if the
/// fields its Vary names match the request that filled it. Values are normalised so requests
/// that mean the same share a variant: whitespace and line breaks between list members do not
/// count, and Accept-Encoding is reduced to the codings it accepts among those servers produce
/// (`gzip, deflate, br` and `br;q=1.0, gzip` are one variant, `gzip` another, none a third).
public enum Variant {
    /// The names a response's Vary lists, lowercased, in order, without duplicates; nil for `*`.
    public static func fields(_ vary: [String]) -> [String]? {
        var names: [String] = []
        for line in vary {
            for part in line.split(separator: ",") {
                let name = part.trimmingOWS().lowercased()
                if name.isEmpty { continue }
                if name == "*" { return nil }
                if !names.contains(name) { names.append(name) }
            }
        }
        return names
    }

    /// The secondary key: one normalised value per field, in the order Vary gave them.
    public static func key(fields: [String], request: (String) -> [String]) -> String {
        var key = ""
        for name in fields {
            let values = request(name)
            let value = name == "accept-encoding" ? acceptedCodings(values) : normalised(values)
            key += name + "=" + value + "\n"
        }
        return key
    }

    static func normalised(_ values: [String]) -> String {
        values.flatMap { $0.split(separator: ",").map { $0.trimmingOWS() } }.filter { !$0.isEmpty }.joined(separator: ",")
    }

    static let codings = ["br", "gzip", "zstd"]

    /// The codings of `codings` the field accepts (q above 0, `x-gzip` as gzip, `*` all of them), sorted.
    static func acceptedCodings(_ values: [String]) -> String {
        var accepted = Set<String>()
        var refused = Set<String>()
        var star = false
        for member in values.flatMap({ $0.split(separator: ",") }) {
            let parts = member.split(separator: ";")
            guard var coding = parts.first?.trimmingOWS().lowercased(), !coding.isEmpty else { continue }
            if coding == "x-gzip" { coding = "gzip" }
            var zero = false
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingOWS().lowercased() }
                if pair.count == 2, pair[0] == "q", let q = Double(pair[1]), q <= 0 { zero = true }
            }
            if coding == "*" { if !zero { star = true } ; continue }
            if zero { refused.insert(coding) } else { accepted.insert(coding) }
        }
        if star { accepted.formUnion(codings.filter { !refused.contains($0) }) }
        return codings.filter { accepted.contains($0) && !refused.contains($0) }.joined(separator: ",")
    }
}

extension StringProtocol {
    func trimmingOWS() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
