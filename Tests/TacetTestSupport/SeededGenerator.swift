/// SplitMix64: a seeded generator, so random test inputs repeat from run to run and a failure
/// replays from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `bytes` with up to three random edits (a byte replaced, inserted or deleted, or the input
    /// cut short): the fuzz tests' mutation, so every parser is fuzzed the same way.
    public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int(next() % 4) {
            let i = Int(next() % UInt64(max(bytes.count, 1)))
            switch next() % 4 {
            case 0 where !bytes.isEmpty: bytes[i] = UInt8(truncatingIfNeeded: next())
            case 1: bytes.insert(UInt8(truncatingIfNeeded: next()), at: min(i, bytes.count))
            case 2 where !bytes.isEmpty: bytes.remove(at: i)
            default: bytes = Array(bytes.prefix(i))
            }
        }
        return bytes
    }
}
