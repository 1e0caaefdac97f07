import Foundation
import NIOHPACK
import TacetProbe
import TacetTestSupport
import Testing

/// Fills and the clients' ends (issue #24's must-deliver 2, 3, 4 and 8): concurrent misses
/// coalesced into one upstream request and answered as the bytes arrive; the client that
/// started a fill resetting while others wait; a response cut short never stored; a zone found
/// again after a restart; eviction keeping the disk under its bound; HTTP/2 clients alike.
@Suite("Cache fills: coalesced, kept when a client leaves, never stored cut short")
struct CacheFillTests {
    @Test("100 concurrent misses for one key, on two event loops: the origin sees one request; all get the whole body")
    func coalescing() async throws {
        let origin = try await CacheOrigin { _ in .init(["Cache-Control: max-age=60"], body: String(repeating: "c", count: 10_000), gated: true) }
        try await CacheTests.withCache(origin, threads: 2) { port in
            var clients: [OffPoolClient] = []
            for _ in 0..<100 {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
                try await client.send(CacheFixture.request("/hot"))
                clients.append(client)
            }
            try await origin.arrived(1)
            // The first half reaches every client before the rest is released: answered as it comes.
            var early: [[UInt8]] = []
            for client in clients {
                let half = await client.read(until: { $0.count > 5_000 }, timeout: 10)
                #expect(half.end == .open, "the first half arrives before the origin sends the rest")
                early.append(half.bytes)
            }
            origin.release()
            for (client, first) in zip(clients, early) {
                let response = try #require(await Self.rest(of: first, client).finalResponses.first)
                #expect(response.status == 200 && response.body.count == 10_000)
                client.close()
            }
            #expect(origin.count == 1)
            #expect(try await CacheFixture.get(port, "/hot").header("cache-status")?.hasPrefix("Tacet; hit") == true)
        }
    }

    @Test("The client that started the fill resets while 10 wait: all 10 get the whole body, and it is stored")
    func leaderResets() async throws {
        let body = String(repeating: "r", count: 8_000)
        let origin = try await CacheOrigin { _ in .init(["Cache-Control: max-age=60"], body: body, gated: true) }
        try await CacheTests.withCache(origin) { port in
            let leader = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await leader.send(CacheFixture.request("/big"))
            try await origin.arrived(1)
            _ = await leader.read(until: { $0.count >= 4_000 }, timeout: 10)
            var waiters: [(OffPoolClient, [UInt8])] = []
            for _ in 0..<10 {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
                try await client.send(CacheFixture.request("/big"))
                waiters.append((client, await client.read(until: { $0.count >= 4_000 }, timeout: 10).bytes))
            }
            leader.reset()
            origin.release()
            for (client, first) in waiters {
                let response = try #require(await Self.rest(of: first, client).finalResponses.first)
                #expect(response.status == 200 && response.bodyString == body)
                client.close()
            }
            let after = try await CacheFixture.get(port, "/big")
            #expect(after.header("cache-status")?.hasPrefix("Tacet; hit") == true && after.bodyString == body)
            #expect(origin.count == 1)
        }
    }

    @Test("Cut short by the origin (Content-Length not reached; no last chunk): the client sees it, nothing is stored")
    func truncatedNotStored() async throws {
        let origin = try await CacheOrigin { head in
            .init(["Cache-Control: max-age=60"], body: "0123456789", cutShort: true, chunked: head.contains("/chunked"))
        }
        try await CacheTests.withCache(origin) { port in
            for path in ["/length", "/chunked"] {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
                try await client.send(CacheFixture.request(path))
                let result = await client.readToEnd(timeout: 10)
                client.close()
                let response = try #require(result.responses().finalResponses.first)
                #expect(response.status == 200 && !response.isComplete, "\(path): the truncation shows")
                let again = try await CacheFixture.get(port, path)
                #expect(again.header("cache-status")?.contains("fwd=miss") == true, "\(path): not stored")
            }
            #expect(origin.count == 4)
        }
    }

    @Test("A restart finds the zone's entries and serves them without asking the origin")
    func restart() async throws {
        let zone = CacheFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: zone) }
        let origin = try await CacheOrigin { _ in .init(["Cache-Control: max-age=600", "Vary: Accept-Encoding"], body: "kept across restarts") }
        try await CacheTests.withCache(origin, zone: zone) { port in
            _ = try await CacheFixture.get(port, "/keep", extra: "Accept-Encoding: gzip\r\n")
            _ = try await CacheFixture.get(port, "/keep2")
        } settled: { server in
            await server.cacheWritesSettled()
            #expect(CacheFillTests.files(in: zone) == 2)
        }
        let again = try await CacheOrigin { _ in .init(status: 500) }
        try await CacheTests.withCache(again, zone: zone) { port in
            let kept = try await CacheFixture.get(port, "/keep", extra: "Accept-Encoding: gzip\r\n")
            #expect(kept.bodyString == "kept across restarts" && kept.header("cache-status")?.hasPrefix("Tacet; hit") == true)
            let other = try await CacheFixture.get(port, "/keep")
            #expect(other.status == 500, "another variant was never stored")
            #expect(try await CacheFixture.get(port, "/keep2").bodyString == "kept across restarts")
            #expect(again.count == 1)
        }
    }

    @Test("HTTP/2 clients: a miss then a hit, with Cache-Status and Age")
    func http2() async throws {
        let origin = try await CacheOrigin { _ in .init(["Cache-Control: max-age=60"], body: "over h2") }
        try await CacheTests.withCache(origin) { port in
            let client = try await HTTP2TestClient.connect(port: port)
            try await client.request(1, "/h2", authority: "app.example.com")
            let first = await client.waitForEnd(1)
            try await client.request(3, "/h2", authority: "app.example.com")
            let second = await client.waitForEnd(3)
            await client.close()
            #expect(first.status == 200 && first.body == "over h2")
            #expect(second.status == 200 && second.body == "over h2")
            let fields = second.headerBlocks.first ?? HPACKHeaders()
            #expect(fields.first(name: "cache-status")?.hasPrefix("Tacet; hit") == true && fields.first(name: "age") != nil)
            #expect(origin.count == 1)
        }
    }

    /// The responses in `first` (read earlier) and the rest of the connection.
    static func rest(of first: [UInt8], _ client: OffPoolClient) async -> ParsedResponses {
        let rest = await client.readToEnd(timeout: 10)
        return HTTPResponseParser.parse(first + rest.bytes, requestMethods: ["GET"], endedWithFIN: rest.end == .fin)
    }

    static func files(in zone: String) -> Int {
        let paths = (FileManager.default.enumerator(atPath: zone)?.allObjects as? [String]) ?? []
        return paths.filter { !$0.hasPrefix("tmp") && $0.split(separator: "/").count == 3 }.count
    }
}
