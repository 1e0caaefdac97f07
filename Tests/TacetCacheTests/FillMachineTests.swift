import Testing
@testable import TacetCache

@Suite("FillMachine: coalescing, and fills that a leaving client cannot spoil")
struct FillMachineTests {
    @Test("100 concurrent misses: one fill; all get the head and each piece as it comes; stored at the end")
    func coalescing() {
        var fill = FillMachine(first: 0, maxObjectSize: 1 << 20)
        for reader in 1..<100 { #expect(fill.join(reader).isEmpty) }
        #expect(fill.head(storable: true, knownLength: 10) == [.start(Array(0..<100), replay: 0)])
        #expect(fill.body(4) == [.body(Array(0..<100))])
        #expect(fill.body(6) == [.body(Array(0..<100))])
        #expect(fill.end() == [.store, .end(Array(0..<100))])
        #expect(fill.state == .complete)
    }

    @Test("The client that started the fill resets while 10 wait: the fill goes on, all 10 get it whole, it is stored")
    func leaderLeaves() {
        var fill = FillMachine(first: 0, maxObjectSize: 1 << 20)
        for reader in 1...10 { _ = fill.join(reader) }
        _ = fill.head(storable: true, knownLength: nil)
        _ = fill.body(100)
        #expect(fill.leave(0).isEmpty, "no cancel: others and the store want it")
        #expect(fill.body(100) == [.body(Array(1...10))])
        #expect(fill.end() == [.store, .end(Array(1...10))])
    }

    @Test("Everyone leaves a storable fill: it goes on for the store")
    func storeAlone() {
        var fill = FillMachine(first: 0, maxObjectSize: 1 << 20)
        _ = fill.head(storable: true, knownLength: nil)
        #expect(fill.leave(0).isEmpty)
        #expect(fill.body(10).isEmpty)
        #expect(fill.end() == [.store])
    }

    @Test("Not storable: the waiters released at once, hit-for-miss remembered; the only reader gone cancels upstream")
    func notStorable() {
        var fill = FillMachine(first: 0, maxObjectSize: 1 << 20)
        _ = fill.join(1)
        _ = fill.join(2)
        #expect(fill.head(storable: false, knownLength: nil) == [.start([0], replay: 0), .release([1, 2]), .markHitForMiss])
        #expect(fill.join(3) == [.release([3])], "a later reader goes straight upstream")
        #expect(fill.leave(0) == [.cancelUpstream], "nobody wants it: the backend is spared")
        #expect(fill.state == .cancelled)
    }

    @Test("Cut short by the upstream: never stored; every reader sees the truncation")
    func truncated() {
        var fill = FillMachine(first: 0, maxObjectSize: 1 << 20)
        _ = fill.join(1)
        _ = fill.head(storable: true, knownLength: 100)
        _ = fill.body(40)
        #expect(fill.failed() == [.truncate([0, 1]), .discard])
        #expect(fill.end().isEmpty)
        var early = FillMachine(first: 0, maxObjectSize: 1 << 20)
        _ = early.join(1)
        #expect(early.failed() == [.release([0, 1])], "no head yet: each answered as if uncached")
    }

    @Test("Before the head: the fill goes on while anyone waits; when the last leaves, the backend is spared")
    func leaveBeforeHead() {
        var fill = FillMachine(first: 0, maxObjectSize: 1 << 20)
        _ = fill.join(1)
        #expect(fill.leave(0).isEmpty)
        #expect(fill.leave(1) == [.cancelUpstream])
        #expect(fill.state == .cancelled)
    }

    @Test("Tacet's own 502 for the fill goes to every waiter; a 304 releases them to the refreshed entry")
    func errorAndRevalidated() {
        var fill = FillMachine(first: 0, maxObjectSize: 1 << 20)
        _ = fill.join(1)
        #expect(fill.error() == [.start([0, 1], replay: 0)])
        #expect(fill.end() == [.end([0, 1])])
        var again = FillMachine(first: 0, maxObjectSize: 1 << 20)
        _ = again.join(1)
        #expect(again.mismatched([1]) == [.release([1])])
        _ = again.join(2)
        #expect(again.revalidated() == [.release([0, 2])])
        #expect(again.state == .complete)
    }

    @Test("A background refresh has no reader: stored when whole")
    func background() {
        var fill = FillMachine(first: nil, maxObjectSize: 1 << 20)
        #expect(fill.head(storable: true, knownLength: 3).isEmpty)
        #expect(fill.body(3).isEmpty)
        #expect(fill.end() == [.store])
        var refused = FillMachine(first: nil, maxObjectSize: 1 << 20)
        #expect(refused.head(storable: false, knownLength: nil) == [.markHitForMiss, .cancelUpstream])
    }

    @Test("A reader that joins mid-fill gets what arrived so far, then the rest")
    func lateJoin() {
        var fill = FillMachine(first: 0, maxObjectSize: 1 << 20)
        _ = fill.head(storable: true, knownLength: nil)
        _ = fill.body(30)
        #expect(fill.join(7) == [.start([7], replay: 30)])
        #expect(fill.body(5) == [.body([0, 7])])
    }

    @Test("Larger than the zone's object bound: passed on, not stored; a known length decides at the head")
    func tooLarge() {
        var fill = FillMachine(first: 0, maxObjectSize: 50)
        _ = fill.join(1)
        _ = fill.head(storable: true, knownLength: nil)
        #expect(fill.body(40) == [.body([0, 1])])
        #expect(fill.body(20) == [.body([0, 1]), .discard])
        #expect(fill.end() == [.end([0, 1])])
        var known = FillMachine(first: 0, maxObjectSize: 50)
        _ = known.join(1)
        #expect(known.head(storable: true, knownLength: 51) == [.start([0], replay: 0), .release([1])])
    }

    @Test("lock_timeout: a waiter stops waiting and goes upstream; after the head it is too late to time out")
    func lockTimeout() {
        var fill = FillMachine(first: 0, maxObjectSize: 1 << 20)
        _ = fill.join(1)
        _ = fill.join(2)
        #expect(fill.lockTimedOut(1) == [.release([1])])
        #expect(fill.head(storable: true, knownLength: nil) == [.start([0, 2], replay: 0)])
        #expect(fill.lockTimedOut(2).isEmpty)
    }
}
