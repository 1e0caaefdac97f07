import NIOCore
import TacetTestSupport
import Testing
@testable import TacetUpstream

/// Which server each method picks: by weight, by load, and never one that is excluded or down.
@Suite struct BalancerSelectionTests {
    @Test func smoothWeightedRoundRobinInterleaves() {
        // nginx's documented sequence for weights 5, 1, 1.
        var state = BalancerState(weights: [5, 1, 1], method: .roundRobin, maxFails: 1, failTimeout: .seconds(10))
        #expect(state.picks(7) == [0, 0, 1, 0, 2, 0, 0])
    }

    @Test func roundRobinDistributesByWeight() {
        var state = BalancerState(weights: [1, 2, 3], method: .roundRobin, maxFails: 1, failTimeout: .seconds(10))
        let picks = state.picks(600).compactMap { $0 }
        #expect([0, 1, 2].map { index in picks.filter { $0 == index }.count } == [100, 200, 300])
    }

    @Test func equalWeightsTakeTurns() {
        var state = BalancerState(weights: [1, 1, 1], method: .roundRobin, maxFails: 1, failTimeout: .seconds(10))
        #expect(state.picks(6) == [0, 1, 2, 0, 1, 2])
    }

    @Test func leastConnectionsPicksTheLeastLoaded() {
        var state = BalancerState(weights: [1, 1, 1], method: .leastConnections, maxFails: 1, failTimeout: .seconds(10))
        state.connectionOpened(0)
        state.connectionOpened(0)
        state.connectionOpened(2)
        #expect(state.picks(1) == [1])
        state.connectionOpened(1)
        state.connectionOpened(1)
        #expect(state.picks(1) == [2])
        state.connectionClosed(0)
        state.connectionClosed(0)
        #expect(state.picks(1) == [0])
    }

    @Test func leastConnectionsWeighsLoad() {
        // 4 active on weight 4 is less loaded than 2 on weight 1.
        var state = BalancerState(weights: [1, 4], method: .leastConnections, maxFails: 1, failTimeout: .seconds(10))
        for _ in 0..<2 { state.connectionOpened(0) }
        for _ in 0..<4 { state.connectionOpened(1) }
        #expect(state.picks(1) == [1])
    }

    @Test func leastConnectionsTiesGoRoundRobin() {
        var state = BalancerState(weights: [1, 1], method: .leastConnections, maxFails: 1, failTimeout: .seconds(10))
        #expect(state.picks(4) == [0, 1, 0, 1])
    }

    @Test func randomTwoChoicesAvoidsTheLoadedServer() {
        var state = BalancerState(weights: [1, 1], method: .randomTwoChoices, maxFails: 1, failTimeout: .seconds(10))
        state.connectionOpened(0)
        // With two servers both are drawn every time, so the idle one always wins.
        #expect(Set(state.picks(50)) == [1])
    }

    @Test func randomTwoChoicesSpreadsByWeight() {
        var state = BalancerState(weights: [1, 3], method: .randomTwoChoices, maxFails: 1, failTimeout: .seconds(10))
        var generator = SeededGenerator(seed: 7)
        var counts = [0, 0, 0]
        for _ in 0..<3000 {
            guard let index = state.pick(now: .uptimeNanoseconds(0), using: &generator) else { continue }
            counts[index] += 1
        }
        // Equal load, so the first draw (weighted 1:3) wins: about 750 and 2250.
        #expect((600...900).contains(counts[0]) && counts[0] + counts[1] == 3000)
        var three = BalancerState(weights: [1, 1, 1], method: .randomTwoChoices, maxFails: 1, failTimeout: .seconds(10))
        three.connectionOpened(0); three.connectionOpened(0); three.connectionOpened(1)
        // Server 0 is the most loaded: it can never win a draw of two.
        #expect(!three.picks(200).contains(0))
    }

    @Test func excludedServersAreSkipped() {
        var state = BalancerState(weights: [1, 1, 1], method: .roundRobin, maxFails: 1, failTimeout: .seconds(10))
        #expect(Set(state.picks(10, excluding: [0, 2])) == [1])
        #expect(state.picks(1, excluding: [0, 1, 2]) == [nil])
    }

    @Test func unhealthyServersAreSkippedAndAllDownIsNil() {
        var state = BalancerState(weights: [1, 1], method: .leastConnections, maxFails: 1, failTimeout: .seconds(10))
        state.markHealth(0, up: false)
        #expect(Set(state.picks(4)) == [1])
        state.markHealth(1, up: false)
        #expect(state.picks(1) == [nil])
        state.markHealth(0, up: true)
        #expect(state.picks(1) == [0])
    }

    @Test func outOfRangeIndexesAreIgnored() {
        var state = BalancerState(weights: [1], method: .roundRobin, maxFails: 1, failTimeout: .seconds(10))
        state.connectionOpened(5)
        state.recordFailure(-1, now: .uptimeNanoseconds(0))
        state.markHealth(9, up: false)
        #expect(!state.isAvailable(3, now: .uptimeNanoseconds(0)))
        #expect(state.picks(1) == [0])
        #expect(BalancerState(weights: [], method: .roundRobin, maxFails: 1, failTimeout: .seconds(1)).count == 0)
    }
}
