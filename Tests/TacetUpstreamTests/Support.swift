import NIOConcurrencyHelpers
import NIOCore
@testable import TacetUpstream

/// SplitMix64: a seeded generator so `random` picks repeat from run to run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let value = NIOLockedValueBox(NIODeadline.uptimeNanoseconds(1_000_000_000))
    var now: NIODeadline { value.withLockedValue { $0 } }
    func advance(_ amount: TimeAmount) { value.withLockedValue { $0 = $0 + amount } }
}

extension BalancerState {
    /// `count` picks at `now`, as indexes.
    mutating func picks(_ count: Int, excluding: Set<Int> = [], now: NIODeadline = .uptimeNanoseconds(0)) -> [Int?] {
        var generator = SeededGenerator(seed: 1)
        return (0..<count).map { _ in pick(excluding: excluding, now: now, using: &generator) }
    }
}
