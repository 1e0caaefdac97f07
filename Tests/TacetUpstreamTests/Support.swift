import NIOConcurrencyHelpers
import NIOCore
import TacetTestSupport
@testable import TacetUpstream

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
