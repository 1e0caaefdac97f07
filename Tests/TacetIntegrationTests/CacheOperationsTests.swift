import Foundation
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// The cache as an operator runs it: purge and stats on the admin listener only, the metrics,
/// the `tacet check` error for a zone path that cannot be written, lock_timeout, hit-for-miss,
/// stale-while-revalidate, half-closed clients, and the poisoning and deception patterns.
@Suite("Cache operations: purge, stats, metrics, limits, safety")
struct CacheOperationsTests {
    static func withAdmin(_ origin: CacheOrigin, extra: String = "", _ body: (Int, Int) async throws -> Void) async throws {
        let zone = CacheFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: zone) }
        try await whileRunning(origin) {
            let yaml = CacheFixture.yaml(origin: origin.port, zone: zone, extra: extra) + "\nadmin: { listen: \"127.0.0.1:0\" }\n"
            try await ConfiguredServer.run(yaml: yaml) { port, server in
                try await body(port, try #require(server.adminAddress?.port))
            }
        }
    }

    static func admin(_ port: Int, _ method: String, _ target: String) async throws -> ParsedResponse {
        let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
        defer { client.close() }
        try await client.send("\(method) \(target) HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
        return try #require(await client.readToEnd(timeout: 10).responses().finalResponses.first)
    }

    @Test("Purge one URL (every variant) or a prefix on the admin listener; stats and metrics count what happened")
    func purgeAndStats() async throws {
        let origin = try await CacheOrigin { _ in .init(["Cache-Control: max-age=600", "Vary: Accept-Encoding"]) }
        try await Self.withAdmin(origin) { port, admin in
            _ = try await CacheFixture.get(port, "/p/a", extra: "Accept-Encoding: gzip\r\n")
            _ = try await CacheFixture.get(port, "/p/a")
            _ = try await CacheFixture.get(port, "/p/b")
            _ = try await CacheFixture.get(port, "/q")
            #expect(try await CacheFixture.get(port, "/q").header("cache-status")?.hasPrefix("Tacet; hit") == true)
            let one = try await Self.admin(admin, "PURGE", "/cache/main?url=http%3A%2F%2Fapp.example.com%2Fp%2Fa")
            #expect(one.status == 200 && one.bodyString == "{\"purged\":2}\n", "both variants")
            let prefix = try await Self.admin(admin, "DELETE", "/cache/main?prefix=http://app.example.com/p/")
            #expect(prefix.bodyString == "{\"purged\":1}\n")
            #expect(try await CacheFixture.get(port, "/p/b").header("cache-status")?.contains("fwd=miss") == true)
            #expect(try await CacheFixture.get(port, "/q").header("cache-status")?.hasPrefix("Tacet; hit") == true)
            let stats = try await Self.admin(admin, "GET", "/cache")
            #expect(stats.status == 200 && stats.bodyString.contains("\"main\":{\"entries\":2,"))
            #expect(stats.bodyString.contains("\"hit\":2") && stats.bodyString.contains("\"miss\":5"))
            let scrape = try await MetricsScrape.fetch(port: admin)
            #expect(scrape.value("tacet_cache_requests_total{zone=\"main\",status=\"hit\"}") == 2)
            #expect(scrape.value("tacet_cache_requests_total{zone=\"main\",status=\"miss\"}") == 5)
            #expect(scrape.value("tacet_cache_requests_total{zone=\"main\",status=\"expired\"}") == 0)
            #expect(scrape.value("tacet_cache_entries{zone=\"main\"}") == 2)
            #expect((scrape.value("tacet_cache_served_bytes_total{zone=\"main\"}") ?? 0) > 0)
            let publicPurge = try await CacheFixture.get(port, "/cache/main?url=x", method: "PURGE")
            #expect(publicPurge.header("cache-status")?.contains("bypass") == true, "purge is never on a public listener")
            #expect(try await Self.admin(admin, "PURGE", "/cache/none?url=x").status == 404)
            #expect(try await Self.admin(admin, "PURGE", "/cache/main").status == 400)
        }
    }

    @Test("A zone path that cannot be written is a check error with the zone's line")
    func unwritablePath() throws {
        let file = NSTemporaryDirectory() + "tacet-cache-file-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let yaml = CacheFixture.yaml(origin: 9, zone: file + "/zone")
        let config = try ConfigLoader.parse(yaml: yaml, file: "tacet.yaml", baseDirectory: "/")
        do {
            _ = try ListenerSetup.report(config)
            Issue.record("no error for a zone under a file")
        } catch {
            #expect(error.line == 5 && error.keyPath == "cache.zones.main.path" && error.message.contains("cannot create"))
        }
    }

    @Test("lock_timeout: a waiter stops waiting for a slow fill and goes upstream on its own")
    func lockTimeout() async throws {
        let origin = try await CacheOrigin { head in
            head.contains("X-First") ? .held(.init(["Cache-Control: max-age=60"], body: "slow first")) : .init(body: "own")
        }
        try await Self.withAdmin(origin, extra: "lock_timeout: 100ms") { port, _ in
            let first = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            defer { first.close() }
            try await first.send(CacheFixture.request("/l", extra: "X-First: 1\r\n"))
            try await origin.arrived(1)
            let waiter = try await CacheFixture.get(port, "/l")
            #expect(waiter.bodyString == "own" && waiter.header("cache-status") == "Tacet; fwd=miss; detail=lock-timeout")
            origin.release()
        }
    }

    @Test("Found not storable: the next requests go straight upstream (hit-for-miss), not queued behind a fill")
    func hitForMiss() async throws {
        let origin = try await CacheOrigin { _ in .init(["Cache-Control: private"]) }
        try await Self.withAdmin(origin) { port, _ in
            let first = try await CacheFixture.get(port, "/u")
            #expect(first.header("cache-status") == "Tacet; fwd=miss")
            let second = try await CacheFixture.get(port, "/u")
            #expect(second.header("cache-status") == "Tacet; fwd=miss; detail=uncacheable")
        }
    }

    @Test("stale-while-revalidate: the stale entry answers at once, and one refresh goes upstream")
    func staleWhileRevalidate() async throws {
        let version = NIOLockedBool()
        let origin = try await CacheOrigin { _ in
            .init(["Cache-Control: max-age=0, stale-while-revalidate=60"], body: version.value ? "new" : "old")
        }
        try await Self.withAdmin(origin) { port, _ in
            _ = try await CacheFixture.get(port, "/w")
            version.value = true
            let stale = try await CacheFixture.get(port, "/w")
            #expect(stale.bodyString == "old" && stale.header("cache-status")?.contains("detail=updating") == true)
            try await origin.arrived(2)
            #expect(origin.count == 2)
        }
    }

    @Test("A client that half-closes after its request is answered from the cache, hit or miss")
    func halfClosed() async throws {
        let origin = try await CacheOrigin { _ in .init(["Cache-Control: max-age=60"], body: "for a half-closed client") }
        try await Self.withAdmin(origin, extra: "") { port, _ in
            for _ in 0..<2 {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
                try await client.send(CacheFixture.request("/h"))
                try client.shutdownWrite()
                let response = try #require(await client.readToEnd(timeout: 10).responses().finalResponses.first)
                client.close()
                #expect(response.status == 200 && response.bodyString == "for a half-closed client")
            }
            #expect(origin.count == 1)
        }
    }

    @Test("Poisoning and deception: unkeyed X-Forwarded-Host is not reflected by Tacet; a static-looking path on a dynamic page is not stored")
    func poisoning() async throws {
        let origin = try await CacheOrigin { head in
            if head.contains("/account") { return .init(body: "your account") }
            return .init(["Cache-Control: max-age=60"], body: "page")
        }
        try await Self.withAdmin(origin) { port, _ in
            let evil = try await CacheFixture.get(port, "/page", extra: "X-Forwarded-Host: evil.example\r\n")
            #expect(evil.bodyString == "page" && !evil.headers.contains { $0.1.contains("evil") })
            let next = try await CacheFixture.get(port, "/page")
            #expect(next.bodyString == "page" && !next.headers.contains { $0.1.contains("evil") })
            _ = try await CacheFixture.get(port, "/account/settings/x.css")
            let deceived = try await CacheFixture.get(port, "/account/settings/x.css")
            #expect(deceived.header("cache-status")?.contains("fwd=miss") == true, "no freshness, no validator: never stored")
        }
    }
}
