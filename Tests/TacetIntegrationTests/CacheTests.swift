import Foundation
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// The HTTP cache on real sockets through the proxy, from a config file: what is stored and
/// what is not (RFC 9111 §3), hits with Age and Cache-Status, HEAD, Range and client
/// conditionals from the stored whole, revalidation with the origin, invalidation by unsafe
/// methods, Vary variants, host isolation.
@Suite("Cache: stored, hit, revalidated, invalidated")
struct CacheTests {
    /// `settled`: after `body`, with the server still up (its zone's writes awaited, for one).
    static func withCache(_ origin: CacheOrigin, extra: String = "", zone: String? = nil, zoneExtra: String = "", threads: Int = 1,
                          _ body: (Int) async throws -> Void,
                          settled: ((TacetServer) async throws -> Void)? = nil) async throws {
        let path = zone ?? CacheFixture.directory()
        defer { if zone == nil { try? FileManager.default.removeItem(atPath: path) } }
        try await whileRunning(origin) {
            try await ConfiguredServer.run(yaml: CacheFixture.yaml(origin: origin.port, zone: path, extra: extra, zoneExtra: zoneExtra),
                                           threads: threads) { port, server in
                try await body(port)
                try await settled?(server)
            }
        }
    }

    @Test("max-age=60: the first is a miss and stored, the second a hit with Age, the origin asked once")
    func missThenHit() async throws {
        let origin = try await CacheOrigin { _ in .init(["Cache-Control: max-age=60", "ETag: \"v1\""], body: "hello cache") }
        try await Self.withCache(origin) { port in
            let first = try await CacheFixture.get(port, "/a?x=1")
            #expect(first.status == 200 && first.bodyString == "hello cache")
            #expect(first.header("cache-status") == "Tacet; fwd=miss; stored")
            let second = try await CacheFixture.get(port, "/a?x=1")
            #expect(second.status == 200 && second.bodyString == "hello cache")
            #expect(second.header("cache-status")?.hasPrefix("Tacet; hit; ttl=") == true)
            #expect(second.header("age") != nil && second.header("etag") == "\"v1\"")
            #expect(origin.count == 1)
            let other = try await CacheFixture.get(port, "/a?x=2")
            #expect(other.header("cache-status") == "Tacet; fwd=miss; stored", "the query is part of the key")
            let elsewhere = try await CacheFixture.get(port, "/a?x=1", host: "other.example.com")
            #expect(elsewhere.header("cache-status") == "Tacet; fwd=miss; stored", "never answered for another host")
            #expect(origin.count == 3)
        }
    }

    @Test("HEAD, one range, If-None-Match and If-Modified-Since are answered from the stored whole response")
    func fromTheWhole() async throws {
        let modified = "Tue, 01 Dec 2026 10:00:00 GMT"
        let origin = try await CacheOrigin { _ in .init(["Cache-Control: max-age=60", "ETag: \"v1\"", "Last-Modified: \(modified)"], body: "0123456789") }
        try await Self.withCache(origin) { port in
            _ = try await CacheFixture.get(port, "/r")
            let head = try await CacheFixture.get(port, "/r", method: "HEAD")
            #expect(head.status == 200 && head.body.isEmpty && head.header("content-length") == "10")
            let range = try await CacheFixture.get(port, "/r", extra: "Range: bytes=2-4\r\n")
            #expect(range.status == 206 && range.bodyString == "234" && range.header("content-range") == "bytes 2-4/10")
            let past = try await CacheFixture.get(port, "/r", extra: "Range: bytes=20-\r\n")
            #expect(past.status == 416 && past.header("content-range") == "bytes */10")
            let changed = try await CacheFixture.get(port, "/r", extra: "Range: bytes=2-4\r\nIf-Range: \"v0\"\r\n")
            #expect(changed.status == 200 && changed.bodyString == "0123456789", "If-Range not matching: the whole")
            let etag = try await CacheFixture.get(port, "/r", extra: "If-None-Match: W/\"v1\"\r\n")
            #expect(etag.status == 304 && etag.body.isEmpty && etag.header("etag") == "\"v1\"")
            let since = try await CacheFixture.get(port, "/r", extra: "If-Modified-Since: \(modified)\r\n")
            #expect(since.status == 304)
            let miss = try await CacheFixture.get(port, "/r", extra: "If-None-Match: \"v2\"\r\n")
            #expect(miss.status == 200 && miss.bodyString == "0123456789")
            #expect(origin.count == 1)
        }
    }

    @Test("Not stored: no-store, private, Set-Cookie, Authorization without public, Vary: *, no freshness at all, a malformed Cache-Control")
    func notStored() async throws {
        let origin = try await CacheOrigin { head in
            let path = String(head.split(separator: " ")[1])
            switch path {
            case "/no-store": return .init(["Cache-Control: no-store"])
            case "/private": return .init(["Cache-Control: private, max-age=60"])
            case "/cookie": return .init(["Cache-Control: max-age=60", "Set-Cookie: s=1"])
            case "/auth": return .init(["Cache-Control: max-age=60"])
            case "/auth-public": return .init(["Cache-Control: public, max-age=60"])
            case "/vary-star": return .init(["Cache-Control: max-age=60", "Vary: *"])
            case "/bad": return .init(["Cache-Control: max-age=\"60"])
            default: return .init([])  // a dynamic page: nothing says it may be reused
            }
        }
        try await Self.withCache(origin) { port in
            for path in ["/no-store", "/private", "/cookie", "/vary-star", "/bad", "/account/profile.css"] {
                _ = try await CacheFixture.get(port, path)
                let again = try await CacheFixture.get(port, path)
                #expect(again.header("cache-status")?.contains("fwd=") == true, "\(path) is not stored")
            }
            _ = try await CacheFixture.get(port, "/auth", extra: "Authorization: Bearer a\r\n")
            let auth = try await CacheFixture.get(port, "/auth", extra: "Authorization: Bearer a\r\n")
            #expect(auth.header("cache-status")?.contains("hit") == false)
            _ = try await CacheFixture.get(port, "/auth-public", extra: "Authorization: Bearer a\r\n")
            let open = try await CacheFixture.get(port, "/auth-public")
            #expect(open.header("cache-status")?.hasPrefix("Tacet; hit") == true, "public may be stored with Authorization")
            #expect(origin.count == 6 * 2 + 2 + 1)
        }
    }

    @Test("Stale with a validator: revalidated upstream with If-None-Match; the 304's fields merged; the client gets the stored body")
    func revalidation() async throws {
        let origin = try await CacheOrigin { head in
            if head.contains("If-None-Match: \"v1\"") { return .init(status: 304, ["ETag: \"v1\"", "Cache-Control: max-age=60", "X-Fresh: yes"]) }
            return .init(["Cache-Control: max-age=0", "ETag: \"v1\"", "X-Fresh: no"], body: "stored body")
        }
        try await Self.withCache(origin) { port in
            _ = try await CacheFixture.get(port, "/v")
            let again = try await CacheFixture.get(port, "/v")
            #expect(again.status == 200 && again.bodyString == "stored body")
            #expect(again.header("cache-status")?.contains("fwd-status=304") == true)
            #expect(again.header("x-fresh") == "yes")
            #expect(origin.heads.last?.contains("If-None-Match: \"v1\"") == true)
            let third = try await CacheFixture.get(port, "/v")
            #expect(third.header("cache-status")?.hasPrefix("Tacet; hit") == true, "fresh again for max-age=60")
            #expect(origin.count == 2)
            let noCache = try await CacheFixture.get(port, "/v", extra: "Cache-Control: no-cache\r\n")
            #expect(noCache.bodyString == "stored body" && origin.count == 3, "the client's no-cache revalidates")
        }
    }

    @Test("A POST, PUT or DELETE that succeeds invalidates the URL (and its Location); a failing one does not")
    func invalidation() async throws {
        let origin = try await CacheOrigin { head in
            if head.hasPrefix("POST /fail") { return .init(status: 500) }
            if head.hasPrefix("POST") { return .init(status: 201, ["Location: /b"]) }
            return .init(["Cache-Control: max-age=60"])
        }
        try await Self.withCache(origin) { port in
            for path in ["/a", "/b", "/fail"] { _ = try await CacheFixture.get(port, path) }
            let post = try await CacheFixture.get(port, "/a", method: "POST", extra: "Content-Length: 0\r\n")
            #expect(post.status == 201 && post.header("cache-status") == "Tacet; fwd=bypass; detail=method")
            #expect(try await CacheFixture.get(port, "/a").header("cache-status")?.contains("fwd=miss") == true)
            #expect(try await CacheFixture.get(port, "/b").header("cache-status")?.contains("fwd=miss") == true, "its Location too")
            _ = try await CacheFixture.get(port, "/fail", method: "POST", extra: "Content-Length: 0\r\n")
            #expect(try await CacheFixture.get(port, "/fail").header("cache-status")?.hasPrefix("Tacet; hit") == true)
        }
    }

    @Test("Vary: Accept-Encoding: equivalent fields share a variant, others get their own")
    func vary() async throws {
        let origin = try await CacheOrigin { head in
            .init(["Cache-Control: max-age=60", "Vary: Accept-Encoding"], body: head.contains("gzip") ? "for gzip" : "plain")
        }
        try await Self.withCache(origin) { port in
            let gzip = try await CacheFixture.get(port, "/v", extra: "Accept-Encoding: gzip, deflate\r\n")
            #expect(gzip.bodyString == "for gzip")
            let same = try await CacheFixture.get(port, "/v", extra: "Accept-Encoding: deflate,gzip;q=1.0\r\n")
            #expect(same.bodyString == "for gzip" && same.header("cache-status")?.hasPrefix("Tacet; hit") == true)
            let plain = try await CacheFixture.get(port, "/v")
            #expect(plain.bodyString == "plain" && plain.header("cache-status")?.contains("fwd=miss") == true)
            #expect(try await CacheFixture.get(port, "/v").bodyString == "plain")
            #expect(origin.count == 2)
        }
    }

    @Test("only-if-cached with nothing stored is 504; stale-if-error serves the stale entry when the origin fails")
    func staleAndOnlyIfCached() async throws {
        let failing = NIOLockedBool()
        let origin = try await CacheOrigin { _ in
            failing.value ? .init(status: 503) : .init(["Cache-Control: max-age=0", "ETag: \"e\""], body: "old but good")
        }
        try await Self.withCache(origin, extra: "stale_if_error: 1m") { port in
            let none = try await CacheFixture.get(port, "/x", extra: "Cache-Control: only-if-cached\r\n")
            #expect(none.status == 504)
            _ = try await CacheFixture.get(port, "/s")
            failing.value = true
            let stale = try await CacheFixture.get(port, "/s")
            #expect(stale.status == 200 && stale.bodyString == "old but good")
            #expect(stale.header("cache-status") == "Tacet; hit; detail=stale")
        }
    }
}
