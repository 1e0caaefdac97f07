import Testing
@testable import TacetCache

@Suite("Cache-Status (RFC 9211)")
struct CacheStatusTests {
    @Test func values() {
        #expect(CacheStatus(outcome: .hit, ttl: 55).fieldValue == "Tacet; hit; ttl=55")
        #expect(CacheStatus(outcome: .miss, stored: true).fieldValue == "Tacet; fwd=miss; stored")
        #expect(CacheStatus(outcome: .revalidated, stored: true).fieldValue == "Tacet; fwd=stale; fwd-status=304; stored")
        #expect(CacheStatus(outcome: .updating, ttl: -3).fieldValue == "Tacet; hit; ttl=-3; detail=updating")
        #expect(CacheStatus(outcome: .bypass, detail: "authorization").fieldValue == "Tacet; fwd=bypass; detail=authorization")
    }
}
