import NIOCore
import Testing
@testable import TacetHTTP

/// Per-client limits without sockets: connections counted and released, the token bucket with a
/// clock the test moves, and the table's bound.
@Suite("ClientLimiter")
struct ClientLimiterTests {
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    static func at(_ seconds: Double) -> NIODeadline { t0 + .nanoseconds(Int64(seconds * 1_000_000_000)) }

    @Test func connectionsPerClient() {
        let limiter = ClientLimiter(.init(connectionsPerClient: 2))
        #expect(limiter.acquireConnection("10.0.0.1"))
        #expect(limiter.acquireConnection("10.0.0.1"))
        #expect(!limiter.acquireConnection("10.0.0.1"))
        #expect(limiter.acquireConnection("10.0.0.2"))
        limiter.releaseConnection("10.0.0.1")
        #expect(limiter.acquireConnection("10.0.0.1"))
        limiter.releaseConnection("10.0.0.1")
        limiter.releaseConnection("10.0.0.1")
        limiter.releaseConnection("10.0.0.2")
        #expect(limiter.trackedClients == 0)
    }

    @Test func requestsPerSecondWithBurst() {
        let limiter = ClientLimiter(.init(requestsPerSecond: 2, burst: 2))
        // A full bucket: the burst plus one.
        for _ in 0..<3 { #expect(limiter.admitRequest("a", now: Self.at(0)) == nil) }
        #expect(limiter.admitRequest("a", now: Self.at(0)) == 1)
        #expect(limiter.admitRequest("b", now: Self.at(0)) == nil)
        // Half a second at 2/s: one more.
        #expect(limiter.admitRequest("a", now: Self.at(0.5)) == nil)
        #expect(limiter.admitRequest("a", now: Self.at(0.5)) != nil)
    }

    @Test func idleClientsAreForgottenAndTheTableIsBounded() {
        let limiter = ClientLimiter(.init(requestsPerSecond: 1, burst: 0, maxClients: 160))
        for i in 0..<1000 { _ = limiter.admitRequest("2001:db8::\(String(i, radix: 16))", now: Self.at(0)) }
        #expect(limiter.trackedClients <= 160)
        #expect(limiter.untrackedAdmissions > 0)
        // A second later every bucket is full again: new clients find room (16 spread over 16
        // shards of 10 places each: all fit).
        let before = limiter.untrackedAdmissions
        for i in 0..<16 { _ = limiter.admitRequest("192.0.2.\(i)", now: Self.at(2)) }
        #expect(limiter.untrackedAdmissions == before)
    }
}
