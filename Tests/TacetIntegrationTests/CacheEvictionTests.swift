import Foundation
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// A zone under far more distinct keys than it holds (issue #24, must-deliver 4 and 8): 10,000
/// keys of 1 KiB through a zone of 1 MiB on disk and 256 KiB in memory. What the index counts
/// and what the directory holds both stay within `max_size`, the hot set within `memory`, and
/// the most recent keys are still hits.
@Suite("Cache eviction: 10,000 keys through a small zone")
struct CacheEvictionTests {
    @Test("Disk and memory stay within their bounds; the newest keys are kept, the oldest evicted")
    func bounded() async throws {
        let body = String(repeating: "e", count: 1024)
        let origin = try await CacheOrigin { _ in .init(["Cache-Control: max-age=600"], body: body) }
        let zone = CacheFixture.directory()
        defer { try? FileManager.default.removeItem(atPath: zone) }
        try await whileRunning(origin) {
            let yaml = CacheFixture.yaml(origin: origin.port, zone: zone, zoneExtra: ", max_size: 1m, memory: 256k")
                .replacingOccurrences(of: "max_size: 64m, memory: 8m, ", with: "") + "\nadmin: { listen: \"127.0.0.1:0\" }\n"
            try await ConfiguredServer.run(yaml: yaml) { port, server in
                // 100 pipelined requests per connection (under keepalive_requests).
                for batch in 0..<100 {
                    let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
                    defer { client.close() }
                    var requests = ""
                    for i in 0..<100 { requests += "GET /k/\(batch * 100 + i) HTTP/1.1\r\nHost: app.example.com\r\n\r\n" }
                    for _ in 0..<100 { client.requestMethods.append("GET") }
                    try await client.write(requests)
                    let read = await client.readResponses(count: 100, timeout: 30)
                    let done = read.responses().completeFinalCount
                    #expect(done == 100, "batch \(batch): \(read.bytes.count) bytes, \(read.end), \(read.string.prefix(300))")
                    if done != 100 { return }
                }
                await server.cacheWritesSettled()
                let admin = try #require(server.adminAddress?.port)
                let scrape = try await MetricsScrape.fetch(port: admin)
                let disk = try #require(scrape.value("tacet_cache_bytes{zone=\"main\",store=\"disk\"}"))
                let memory = try #require(scrape.value("tacet_cache_bytes{zone=\"main\",store=\"memory\"}"))
                #expect(disk <= 1_048_576 && disk > 500_000, "\(disk)")
                #expect(memory <= 262_144 && memory > 100_000, "\(memory)")
                #expect(Self.bytes(in: zone) <= 1_048_576, "the directory holds no more than max_size")
                #expect(origin.count == 10_000)
                let newest = try await CacheFixture.get(port, "/k/9999")
                #expect(newest.header("cache-status")?.hasPrefix("Tacet; hit") == true)
                let oldest = try await CacheFixture.get(port, "/k/0")
                #expect(oldest.header("cache-status")?.contains("fwd=miss") == true)
            }
        }
    }

    static func bytes(in zone: String) -> Int {
        let paths = (FileManager.default.enumerator(atPath: zone)?.allObjects as? [String]) ?? []
        return paths.filter { !$0.hasPrefix("tmp") && $0.split(separator: "/").count == 3 }.reduce(0) { total, path in
            total + ((try? FileManager.default.attributesOfItem(atPath: zone + "/" + path)[.size] as? Int) ?? 0)
        }
    }
}
