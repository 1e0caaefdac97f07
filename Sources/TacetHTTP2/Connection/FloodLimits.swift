import NIOCore

/// The rates past which a client is taken for an attacker and its connection closed with
/// GOAWAY ENHANCE_YOUR_CALM: swift-nio-http2's defaults kept as the floor (200 RST_STREAMs and
/// 200 stream errors per 30 s; one empty DATA frame in a row; 5 CONTINUATION frames in a row),
/// control frames (PING, SETTINGS, PRIORITY) tightened to 100 per 30 s, so a PING flood is
/// cut off before its answers could trip a NIOHTTP2 client's own limit of 200; each named as
/// the metric counts it.
struct FloodLimits: Sendable {
    var resets = RateLimit(maximum: 200, window: .seconds(30))
    var controlFrames = RateLimit(maximum: 100, window: .seconds(30))
    var streamErrors = RateLimit(maximum: 200, window: .seconds(30))
    /// Empty DATA frames without END_STREAM in a row (each costs a read and gives nothing).
    var sequentialEmptyData = 1
    /// CONTINUATION frames in one header block (CVE-2024-27316).
    var continuations = 5

    struct RateLimit: Sendable {
        var maximum: Int
        var window: TimeAmount
    }
}

/// Whether events come more often than `maximum` within a sliding `window`: the times of the
/// last `maximum` events in a ring, bounded whatever the client sends.
struct RateWindow {
    private var times: [NIODeadline] = []
    private var next = 0
    let limit: FloodLimits.RateLimit

    init(_ limit: FloodLimits.RateLimit) { self.limit = limit }

    /// Records one event; true when it is one too many.
    mutating func record(_ now: NIODeadline) -> Bool {
        guard limit.maximum > 0 else { return true }
        if times.count < limit.maximum {
            times.append(now)
            return false
        }
        // The oldest of the last `maximum` events: within the window, this one is over.
        let oldest = times[next]
        times[next] = now
        next = (next + 1) % limit.maximum
        return now - oldest < limit.window
    }
}
