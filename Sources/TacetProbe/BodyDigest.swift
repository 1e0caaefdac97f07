/// A short fingerprint of a body (64-bit FNV-1a, hex), so an answer can be compared with the
/// origin's or the baseline's without keeping either: not cryptographic, only "the same bytes".
public enum BodyDigest {
    public static func of(_ bytes: some Sequence<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
