/// bcrypt (Provos and Mazières, OpenBSD's `$2a$`/`$2b$`, and `$2y$` as Apache's htpasswd writes
/// it: the same as `$2b$`): the expensive key schedule of Blowfish, then "OrpheanBeholderScryDoubt"
/// encrypted 64 times. Only checking is needed here; the result is compared in constant time.
public enum Bcrypt {
    /// The costs accepted: a file with cost 31 would make every check take days.
    public static let costs = 4...17

    /// `hash` is `$2?$NN$` + 22 characters of salt + 31 of digest.
    public static func verify(_ password: [UInt8], hash: String) -> Bool {
        guard let parsed = parse(hash) else { return false }
        let computed = compute(password, salt: parsed.salt, cost: parsed.cost, minor: parsed.minor)
        return ConstantTime.equal(Array(computed.utf8), Array(hash.utf8))
    }

    /// The hash's parts, or nil when it is not a bcrypt hash Tacet accepts.
    public static func parse(_ hash: String) -> (minor: UInt8, cost: Int, salt: [UInt8])? {
        let bytes = Array(hash.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"), bytes[3] == UInt8(ascii: "$"),
              bytes[6] == UInt8(ascii: "$") else { return nil }
        let minor = bytes[2]
        guard minor == UInt8(ascii: "a") || minor == UInt8(ascii: "b") || minor == UInt8(ascii: "y") else { return nil }
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[4]), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[5]) else { return nil }
        let cost = Int(bytes[4] - 48) * 10 + Int(bytes[5] - 48)
        guard costs.contains(cost), let salt = decode(bytes[7..<29], count: 16), decode(bytes[29..<60], count: 23) != nil else { return nil }
        return (minor, cost, salt)
    }

    /// The whole hash string for `password` under `salt` (16 bytes) and `cost`.
    static func compute(_ password: [UInt8], salt: [UInt8], cost: Int, minor: UInt8) -> String {
        // The key is the password and its NUL, at most 72 bytes (`$2a$` truncated the same way
        // for any password shorter than 255 bytes, the only ones an htpasswd line holds).
        var key = Array(password.prefix(72))
        if key.count < 72 { key.append(0) }
        var state = Blowfish()
        state.expand(data: salt, key: key)
        for _ in 0..<(1 << cost) {
            state.expand(key: key)
            state.expand(key: salt)
        }
        var words: [UInt32] = [0x4F72_7068, 0x6561_6E42, 0x6568_6F6C, 0x6465_7253, 0x6372_7944, 0x6F75_6274]
        for _ in 0..<64 {
            for block in stride(from: 0, to: 6, by: 2) {
                var (left, right) = (words[block], words[block + 1])
                state.encipher(&left, &right)
                (words[block], words[block + 1]) = (left, right)
            }
        }
        var digest: [UInt8] = []
        for word in words {
            digest += [UInt8(word >> 24), UInt8((word >> 16) & 0xFF), UInt8((word >> 8) & 0xFF), UInt8(word & 0xFF)]
        }
        let costText = cost < 10 ? "0\(cost)" : "\(cost)"
        return "$2\(Character(Unicode.Scalar(minor)))$\(costText)$" + encode(salt) + encode(Array(digest.prefix(23)))
    }

    static let alphabet = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    static func encode(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index < data.count {
            var c1 = data[index]; index += 1
            out.append(alphabet[Int(c1 >> 2)])
            c1 = (c1 & 0x03) << 4
            guard index < data.count else { out.append(alphabet[Int(c1)]); break }
            var c2 = data[index]; index += 1
            c1 |= c2 >> 4
            out.append(alphabet[Int(c1)])
            c1 = (c2 & 0x0F) << 2
            guard index < data.count else { out.append(alphabet[Int(c1)]); break }
            c2 = data[index]; index += 1
            c1 |= c2 >> 6
            out.append(alphabet[Int(c1)])
            out.append(alphabet[Int(c2 & 0x3F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `count` bytes from bcrypt's base64, or nil for a character outside its alphabet.
    static func decode(_ text: ArraySlice<UInt8>, count: Int) -> [UInt8]? {
        var values: [UInt8] = []
        for byte in text {
            guard let value = alphabet.firstIndex(of: byte) else { return nil }
            values.append(UInt8(value))
        }
        var out: [UInt8] = []
        var index = 0
        while out.count < count, index + 1 < values.count {
            out.append(values[index] << 2 | values[index + 1] >> 4)
            if out.count == count || index + 2 >= values.count { break }
            out.append((values[index + 1] & 0x0F) << 4 | values[index + 2] >> 2)
            if out.count == count || index + 3 >= values.count { break }
            out.append((values[index + 2] & 0x03) << 6 | values[index + 3])
            index += 4
        }
        return out.count == count ? out : nil
    }
}

/// Blowfish's state and the two key schedules bcrypt uses.
struct Blowfish {
    var p = BlowfishTables.p
    var s = BlowfishTables.s

    @inline(__always) func f(_ x: UInt32) -> UInt32 {
        s.withUnsafeBufferPointer { s in
            ((s[Int(x >> 24)] &+ s[256 + Int((x >> 16) & 0xFF)]) ^ s[512 + Int((x >> 8) & 0xFF)]) &+ s[768 + Int(x & 0xFF)]
        }
    }

    func encipher(_ left: inout UInt32, _ right: inout UInt32) {
        var l = left ^ p[0]
        var r = right
        var round = 1
        while round <= 16 {
            r ^= f(l) ^ p[round]
            l ^= f(r) ^ p[round + 1]
            round += 2
        }
        left = r ^ p[17]
        right = l
    }

    /// The next four bytes of `data`, cyclically.
    @inline(__always) static func word(_ data: [UInt8], _ j: inout Int) -> UInt32 {
        var word: UInt32 = 0
        for _ in 0..<4 {
            word = word << 8 | UInt32(data[j])
            j = (j + 1) % data.count
        }
        return word
    }

    /// Blowfish_expandstate: the key into P, then P and S rewritten with the salt mixed in.
    mutating func expand(data: [UInt8], key: [UInt8]) {
        var j = 0
        for i in 0..<18 { p[i] ^= Self.word(key, &j) }
        j = 0
        var l: UInt32 = 0, r: UInt32 = 0
        for i in stride(from: 0, to: 18, by: 2) {
            l ^= Self.word(data, &j); r ^= Self.word(data, &j)
            encipher(&l, &r)
            p[i] = l; p[i + 1] = r
        }
        for i in stride(from: 0, to: 1024, by: 2) {
            l ^= Self.word(data, &j); r ^= Self.word(data, &j)
            encipher(&l, &r)
            s[i] = l; s[i + 1] = r
        }
    }

    /// Blowfish_expand0state: the key alone.
    mutating func expand(key: [UInt8]) {
        var j = 0
        for i in 0..<18 { p[i] ^= Self.word(key, &j) }
        var l: UInt32 = 0, r: UInt32 = 0
        for i in stride(from: 0, to: 18, by: 2) {
            encipher(&l, &r)
            p[i] = l; p[i + 1] = r
        }
        for i in stride(from: 0, to: 1024, by: 2) {
            encipher(&l, &r)
            s[i] = l; s[i + 1] = r
        }
    }
}

/// Comparison whose time does not depend on where two values first differ.
public enum ConstantTime {
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
