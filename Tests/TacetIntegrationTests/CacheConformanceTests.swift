import Foundation
import TacetProbe
import TacetTestSupport
import Testing

/// RFC 9111 cases the http-tests/cache-tests suite found, as tests of their own: the origin's
/// Date kept and counted from, one Age (the first of a list), any final status stored when the
/// origin gave it a lifetime, `must-understand`, and CDN-Cache-Control (RFC 9213).
@Suite("Cache conformance: Date, Age lists, statuses, CDN-Cache-Control")
struct CacheConformanceTests {
    static func httpDate(_ offset: TimeInterval) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date().addingTimeInterval(offset))
    }

    static func twice(_ port: Int, _ path: String) async throws -> (first: ParsedResponse, second: ParsedResponse) {
        let first = try await CacheFixture.get(port, path)
        return (first, try await CacheFixture.get(port, path))
    }

    static func hitAgain(_ port: Int, _ path: String) async throws -> Bool {
        isHit(try await twice(port, path).second)
    }

    static func isHit(_ response: ParsedResponse) -> Bool {
        response.header("cache-status")?.hasPrefix("Tacet; hit") == true
    }

    @Test("The origin's Date is passed on and kept on hits; ages count from it; Expires is measured against it")
    func originDate() async throws {
        let date = Self.httpDate(-5)
        let early = Self.httpDate(300)
        let late = Self.httpDate(400)
        let origin = try await CacheOrigin { head in
            switch String(head.split(separator: " ")[1]) {
            case "/dated": return .init(["Cache-Control: max-age=3600", "Date: \(date)"])
            case "/expires-before-date": return .init(["Expires: \(early)", "Date: \(late)"])
            default: return .init([])
            }
        }
        try await CacheTests.withCache(origin) { port in
            let dated = try await Self.twice(port, "/dated")
            #expect(dated.first.header("date") == date, "a miss passes the origin's Date on")
            #expect(Self.isHit(dated.second) && dated.second.header("date") == date, "a hit sends the stored Date")
            #expect((dated.second.header("age").flatMap { Int($0) } ?? 0) >= 5, "the age counts from the origin's Date")
            let expires = try await Self.twice(port, "/expires-before-date")
            #expect(!Self.isHit(expires.second), "Expires before Date: no lifetime, whatever the local clock says")
            #expect(origin.count == 3)
        }
    }

    @Test("Age: of a list, or of several lines, the first counts")
    func ageList() async throws {
        let origin = try await CacheOrigin { head in
            switch String(head.split(separator: " ")[1]) {
            case "/suffix": return .init(["Cache-Control: max-age=3600", "Age: 7200, 0"])
            case "/prefix": return .init(["Cache-Control: max-age=3600", "Age: 0, 7200"])
            case "/lines": return .init(["Cache-Control: max-age=3600", "Age: 7200", "Age: 0"])
            default: return .init([])
            }
        }
        try await CacheTests.withCache(origin) { port in
            let hit1 = try await Self.hitAgain(port, "/suffix")
            #expect(!hit1)
            let hit2 = try await Self.hitAgain(port, "/prefix")
            #expect(hit2)
            let hit3 = try await Self.hitAgain(port, "/lines")
            #expect(!hit3)
        }
    }

    @Test("Any final status with a lifetime is stored (a 500 with max-age too); must-understand only for known statuses, over no-store")
    func statuses() async throws {
        let origin = try await CacheOrigin { head in
            switch String(head.split(separator: " ")[1]) {
            case "/500-fresh": return .init(status: 500, ["Cache-Control: max-age=60"], body: "down")
            case "/500": return .init(status: 500, [], body: "down")
            case "/599": return .init(status: 599, ["Cache-Control: max-age=60"])
            case "/599-mu": return .init(status: 599, ["Cache-Control: max-age=60, no-store, must-understand"])
            case "/200-mu": return .init(["Cache-Control: max-age=60, no-store, must-understand"])
            default: return .init([])
            }
        }
        try await CacheTests.withCache(origin) { port in
            let fresh = try await Self.twice(port, "/500-fresh")
            #expect(Self.isHit(fresh.second) && fresh.second.status == 500 && fresh.second.bodyString == "down")
            let hit4 = try await Self.hitAgain(port, "/500")
            #expect(!hit4)
            let hit5 = try await Self.hitAgain(port, "/599")
            #expect(hit5)
            let hit6 = try await Self.hitAgain(port, "/599-mu")
            #expect(!hit6)
            let hit7 = try await Self.hitAgain(port, "/200-mu")
            #expect(hit7)
        }
    }

    @Test("CDN-Cache-Control replaces Cache-Control when it parses, and is ignored when it does not")
    func targeted() async throws {
        let origin = try await CacheOrigin { head in
            switch String(head.split(separator: " ")[1]) {
            case "/cdn-fresh": return .init(["Cache-Control: no-store", "CDN-Cache-Control: max-age=60"])
            case "/cdn-private": return .init(["Cache-Control: max-age=60", "CDN-Cache-Control: private"])
            case "/cdn-no-cache": return .init(["Cache-Control: max-age=60", "CDN-Cache-Control: no-cache", "ETag: \"a\""])
            case "/cdn-invalid": return .init(["Cache-Control: no-store", "CDN-Cache-Control: max-age=60, &&&"])
            case "/cdn-wrong-type": return .init(["Cache-Control: max-age=60", "CDN-Cache-Control: max-age=\"60\""])
            default: return .init([])
            }
        }
        try await CacheTests.withCache(origin) { port in
            let fresh = try await Self.twice(port, "/cdn-fresh")
            #expect(Self.isHit(fresh.second) && fresh.second.header("cdn-cache-control") == "max-age=60", "passed on, for caches below")
            let hit8 = try await Self.hitAgain(port, "/cdn-private")
            #expect(!hit8)
            let hit9 = try await Self.hitAgain(port, "/cdn-no-cache")
            #expect(!hit9)
            let hit10 = try await Self.hitAgain(port, "/cdn-invalid")
            #expect(!hit10)
            let hit11 = try await Self.hitAgain(port, "/cdn-wrong-type")
            #expect(!hit11, "valid but without freshness: Cache-Control is still set aside")
        }
    }
}
