import Crypto

/// SHA-crypt (Drepper's `$5$` SHA-256 and `$6$` SHA-512, as glibc's crypt(3) and
/// `htpasswd -2`/`-5` write them): a salt of up to 16 characters, `rounds=N$` optional
/// (5000 unless said; 1000 ... 999,999,999, clamped as glibc does).
public enum SHACrypt {
    public enum Variant: Sendable { case sha256, sha512 }

    /// Rounds accepted: more would make one check take minutes.
    public static let maxRounds = 1_000_000

    public static func verify(_ password: [UInt8], hash: String) -> Bool {
        guard let parsed = parse(hash) else { return false }
        let computed = compute(password, salt: parsed.salt, rounds: parsed.rounds, explicitRounds: parsed.explicitRounds,
                               variant: parsed.variant)
        return ConstantTime.equal(Array(computed.utf8), Array(hash.utf8))
    }

    public static func parse(_ hash: String) -> (variant: Variant, salt: [UInt8], rounds: Int, explicitRounds: Bool)? {
        let variant: Variant
        if hash.hasPrefix("$5$") { variant = .sha256 } else if hash.hasPrefix("$6$") { variant = .sha512 } else { return nil }
        var rest = Substring(hash.dropFirst(3))
        var rounds = 5000
        var explicit = false
        if rest.hasPrefix("rounds=") {
            guard let end = rest.firstIndex(of: "$"), let value = Int(rest[rest.index(rest.startIndex, offsetBy: 7)..<end]),
                  value >= 1 else { return nil }
            rounds = min(max(value, 1000), 999_999_999)
            guard rounds <= maxRounds else { return nil }
            explicit = true
            rest = rest[rest.index(after: end)...]
        }
        guard let end = rest.firstIndex(of: "$") else { return nil }
        let salt = Array(rest[..<end].utf8.prefix(16))
        let digest = rest[rest.index(after: end)...]
        guard digest.utf8.count == (variant == .sha256 ? 43 : 86),
              digest.utf8.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return (variant, salt, rounds, explicit)
    }

    static func compute(_ password: [UInt8], salt: [UInt8], rounds: Int, explicitRounds: Bool, variant: Variant) -> String {
        let digest: [UInt8]
        switch variant {
        case .sha256: digest = run(SHA256.self, password, salt, rounds)
        case .sha512: digest = run(SHA512.self, password, salt, rounds)
        }
        let order: [(Int, Int, Int)] = variant == .sha256 ? sha256Order : sha512Order
        var out: [UInt8] = []
        for (a, b, c) in order { append(UInt32(digest[a]) << 16 | UInt32(digest[b]) << 8 | UInt32(digest[c]), 4, to: &out) }
        if variant == .sha256 {
            append(UInt32(digest[31]) << 8 | UInt32(digest[30]), 3, to: &out)
        } else {
            append(UInt32(digest[63]), 2, to: &out)
        }
        let prefix = (variant == .sha256 ? "$5$" : "$6$") + (explicitRounds ? "rounds=\(rounds)$" : "")
        return prefix + String(decoding: salt, as: UTF8.self) + "$" + String(decoding: out, as: UTF8.self)
    }

    private static func run<H: HashFunction>(_: H.Type, _ password: [UInt8], _ salt: [UInt8], _ rounds: Int) -> [UInt8] {
        let size = H.Digest.byteCount
        func hash(_ parts: [UInt8]...) -> [UInt8] {
            var hasher = H()
            for part in parts { hasher.update(data: part) }
            return Array(hasher.finalize())
        }
        let b = hash(password, salt, password)
        var a = H()
        a.update(data: password)
        a.update(data: salt)
        var remaining = password.count
        while remaining > size { a.update(data: b); remaining -= size }
        a.update(data: Array(b.prefix(remaining)))
        var length = password.count
        while length > 0 {
            a.update(data: length & 1 == 1 ? b : password)
            length >>= 1
        }
        var c = Array(a.finalize())
        var dp = H()
        for _ in 0..<password.count { dp.update(data: password) }
        let dpDigest = Array(dp.finalize())
        let p = repeated(dpDigest, to: password.count)
        var ds = H()
        for _ in 0..<(16 + Int(c[0])) { ds.update(data: salt) }
        let s = repeated(Array(ds.finalize()), to: salt.count)
        for round in 0..<rounds {
            var h = H()
            h.update(data: round & 1 == 1 ? p : c)
            if round % 3 != 0 { h.update(data: s) }
            if round % 7 != 0 { h.update(data: p) }
            h.update(data: round & 1 == 1 ? c : p)
            c = Array(h.finalize())
        }
        return c
    }

    private static func repeated(_ digest: [UInt8], to count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count { out += digest.prefix(count - out.count) }
        return out
    }

    static let alphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    private static func append(_ value: UInt32, _ count: Int, to out: inout [UInt8]) {
        var w = value
        for _ in 0..<count {
            out.append(alphabet[Int(w & 0x3F)])
            w >>= 6
        }
    }

    static let sha256Order: [(Int, Int, Int)] = [
        (0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14),
        (15, 25, 5), (6, 16, 26), (27, 7, 17), (18, 28, 8), (9, 19, 29),
    ]
    static let sha512Order: [(Int, Int, Int)] = [
        (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
        (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13),
        (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19), (62, 20, 41),
    ]
}
