#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Time on CLOCK_MONOTONIC: a timeline must not bend when the wall clock is adjusted.
struct Stopwatch: Sendable {
    let startNs: UInt64

    init() { startNs = Stopwatch.nowNs() }

    static func nowNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Milliseconds since this stopwatch was made.
    var elapsedMs: Double { Double(Stopwatch.nowNs() &- startNs) / 1_000_000 }
}

/// A point in monotonic time after which a blocking step must give up: the probe never runs past its timeout.
struct Deadline: Sendable {
    private let atNs: UInt64

    init(seconds: Double) {
        let clamped = max(0, min(seconds, 86_400))
        atNs = Stopwatch.nowNs() &+ UInt64(clamped * 1_000_000_000)
    }

    var isExpired: Bool { Stopwatch.nowNs() >= atNs }

    /// Milliseconds left, rounded up so poll(2) never wakes just before the deadline; 0 when expired.
    var pollMs: Int32 {
        let now = Stopwatch.nowNs()
        guard now < atNs else { return 0 }
        let ms = (atNs - now + 999_999) / 1_000_000
        return Int32(min(ms, UInt64(Int32.max)))
    }
}
