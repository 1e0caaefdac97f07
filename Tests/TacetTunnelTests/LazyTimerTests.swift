import NIOCore
import NIOEmbedded
import Testing
@testable import TacetTunnel

/// One task for a moving deadline: later deadlines reschedule nothing, the task re-arms itself.
@Suite("LazyTimer: a moving deadline on one scheduled task")
struct LazyTimerTests {
    /// Holds the timer and counts what it schedules and when it expires.
    final class Owner {
        let loop = EmbeddedEventLoop()
        var timer = LazyTimer()
        var scheduled = 0
        var expiries = 0

        func schedule(_ at: NIODeadline) -> Scheduled<Void> {
            scheduled += 1
            return loop.scheduleTask(deadline: at) { [self] in
                if timer.fired(now: loop.now, schedule: schedule) { expiries += 1 }
            }
        }

        func move(by seconds: Int64) { timer.move(to: loop.now + .seconds(seconds), schedule: schedule) }
    }

    @Test("Moving the deadline later schedules nothing; the early task re-arms once, then expires")
    func later() {
        let owner = Owner()
        owner.move(by: 10)
        owner.loop.advanceTime(by: .seconds(5))
        owner.move(by: 10)   // now due at 15
        owner.move(by: 10)
        #expect(owner.scheduled == 1)
        owner.loop.advanceTime(by: .seconds(5))   // the first task fires at 10: re-armed for 15
        #expect(owner.scheduled == 2 && owner.expiries == 0)
        owner.loop.advanceTime(by: .seconds(5))
        #expect(owner.expiries == 1 && owner.timer.deadline == nil)
    }

    @Test("An earlier deadline reschedules; nil or cancel means no expiry")
    func earlierAndNone() {
        let owner = Owner()
        owner.move(by: 10)
        owner.move(by: 2)
        #expect(owner.scheduled == 2)
        owner.timer.move(to: nil, schedule: owner.schedule)
        owner.loop.advanceTime(by: .seconds(20))
        #expect(owner.expiries == 0)
        owner.move(by: 1)
        owner.timer.cancel()
        owner.loop.advanceTime(by: .seconds(5))
        #expect(owner.expiries == 0)
    }
}
