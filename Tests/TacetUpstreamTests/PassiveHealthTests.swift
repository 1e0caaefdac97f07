import NIOCore
import Testing
@testable import TacetUpstream

/// nginx's max_fails / fail_timeout: failures in a window take a server out, time brings it back.
@Suite struct PassiveHealthTests {
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func maxFailsWithinWindowTakesServerOut() {
        var state = BalancerState(weights: [1, 1], method: .roundRobin, maxFails: 2, failTimeout: .seconds(10))
        state.recordFailure(0, now: t0)
        #expect(state.isAvailable(0, now: t0))
        state.recordFailure(0, now: t0 + .seconds(3))
        #expect(!state.isAvailable(0, now: t0 + .seconds(3)))
        #expect(Set(state.picks(4, now: t0 + .seconds(4))) == [1])
        // Out for fail_timeout after the last failure, then back.
        #expect(!state.isAvailable(0, now: t0 + .seconds(12)))
        #expect(state.isAvailable(0, now: t0 + .seconds(13)))
        #expect(Set(state.picks(4, now: t0 + .seconds(13))) == [0, 1])
    }

    @Test func failuresOutsideTheWindowDoNotAddUp() {
        var state = BalancerState(weights: [1, 1], method: .roundRobin, maxFails: 2, failTimeout: .seconds(10))
        state.recordFailure(0, now: t0)
        state.recordFailure(0, now: t0 + .seconds(11))
        #expect(state.isAvailable(0, now: t0 + .seconds(11)))
        #expect(state.fails(0) == 1)
    }

    @Test func successClearsFailuresButNotAnOutage() {
        var state = BalancerState(weights: [1, 1], method: .roundRobin, maxFails: 2, failTimeout: .seconds(10))
        state.recordFailure(0, now: t0)
        state.recordSuccess(0, now: t0 + .seconds(1))
        state.recordFailure(0, now: t0 + .seconds(2))
        #expect(state.isAvailable(0, now: t0 + .seconds(2)))
        state.recordFailure(0, now: t0 + .seconds(3))
        // A late success from a request started earlier does not end the outage.
        state.recordSuccess(0, now: t0 + .seconds(4))
        #expect(!state.isAvailable(0, now: t0 + .seconds(4)))
    }

    @Test func maxFailsZeroDisablesPassiveHealth() {
        var state = BalancerState(weights: [1, 1], method: .roundRobin, maxFails: 0, failTimeout: .seconds(10))
        for _ in 0..<100 { state.recordFailure(0, now: t0) }
        #expect(state.isAvailable(0, now: t0))
    }

    @Test func aSingleServerIsNeverTakenOutByFailures() {
        var state = BalancerState(weights: [1], method: .roundRobin, maxFails: 1, failTimeout: .seconds(10))
        state.recordFailure(0, now: t0)
        #expect(state.picks(1, now: t0) == [0])
        state.markHealth(0, up: false)
        #expect(state.picks(1, now: t0) == [nil])
    }

    @Test func groupRecoversAfterFailTimeoutOnItsClock() {
        let clock = ManualClock()
        let group = UpstreamGroup(
            name: "app",
            servers: [UpstreamServer(host: "127.0.0.1", port: 1), UpstreamServer(host: "127.0.0.1", port: 2)],
            balance: .roundRobin, maxFails: 1, failTimeout: .seconds(10), clock: { clock.now })
        group.recordFailure(0)
        group.recordFailure(1)
        #expect(group.pick() == nil)
        #expect(group.snapshot.map(\.up) == [false, false])
        clock.advance(.seconds(10) - .milliseconds(1))
        #expect(group.pick() == nil)
        clock.advance(.milliseconds(1))
        #expect(group.pick() != nil)
        group.connectionOpened(1)
        #expect(group.snapshot == [
            ServerState(server: UpstreamServer(host: "127.0.0.1", port: 1), up: true, activeConnections: 0, fails: 1),
            ServerState(server: UpstreamServer(host: "127.0.0.1", port: 2), up: true, activeConnections: 1, fails: 1),
        ])
        group.recordSuccess(0)
        group.connectionClosed(1)
        #expect(group.snapshot.map(\.fails) == [0, 1])
        #expect(group.snapshot.map(\.activeConnections) == [0, 0])
    }

    /// A group of one (`proxy: { to: ... }`) picks without its lock: failures never take the
    /// server out, an active check does, and coming back up puts it back.
    @Test func soleServerGroupFollowsActiveChecksOnly() {
        let group = UpstreamGroup(name: "one", servers: [UpstreamServer(host: "127.0.0.1", port: 1)],
                                  balance: .roundRobin, maxFails: 1, failTimeout: .seconds(10))
        group.recordFailure(0)
        group.recordFailure(0)
        #expect(group.pick() == 0)
        #expect(group.pick(excluding: [0]) == nil)
        group.markHealth(3, up: false)
        #expect(group.pick() == 0)
        group.markHealth(0, up: false)
        #expect(group.pick() == nil)
        #expect(group.snapshot.map(\.up) == [false])
        group.markHealth(0, up: true)
        #expect(group.pick() == 0)
        #expect(group.snapshot.map(\.up) == [true])
    }

    @Test func activeCheckUpForgetsPassiveFailures() {
        var state = BalancerState(weights: [1, 1], method: .roundRobin, maxFails: 1, failTimeout: .seconds(10))
        state.markHealth(0, up: false)
        state.recordFailure(0, now: t0)
        state.markHealth(0, up: true)
        #expect(state.isAvailable(0, now: t0))
    }
}
