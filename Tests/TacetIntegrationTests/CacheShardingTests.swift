import Foundation
import TacetProbe
import TacetTestSupport
import Testing

/// A cache tier sharded by URL (issue #24, must-deliver 7): a front Tacet balancing over two
/// caching Tacets with `balance: consistent_hash`, as nginx's `hash $request_uri consistent`
/// does. Each URL always reaches the same cache, so the origin is asked once per URL however
/// many times it is fetched, and both caches take a share.
@Suite("Cache sharding: consistent_hash over two caching instances")
struct CacheShardingTests {
    static func cacheYAML(origin: Int, zone: String, node: String) -> String {
        """
        listen: ["127.0.0.1:0"]
        access_log: off
        cache:
          zones:
            main: { path: "\(zone)" }
        upstreams:
          app: { servers: ["127.0.0.1:\(origin)"] }
        routes:
          - match: { path: / }
            proxy: { upstream: app }
            cache: { zone: main }
            headers: { response: { set: { X-Cache-Node: \(node) } } }
        """
    }

    @Test("80 fetches of 40 URLs through the front: the origin sees each URL once; a URL always meets the same cache; both caches used")
    func shardedByURL() async throws {
        let origin = try await CacheOrigin { head in .init(["Cache-Control: max-age=600"], body: String(head.prefix(40))) }
        let zones = [CacheFixture.directory(), CacheFixture.directory()]
        defer { for zone in zones { try? FileManager.default.removeItem(atPath: zone) } }
        try await whileRunning(origin) {
            try await ConfiguredServer.run(yaml: Self.cacheYAML(origin: origin.port, zone: zones[0], node: "a")) { a, _ in
                try await ConfiguredServer.run(yaml: Self.cacheYAML(origin: origin.port, zone: zones[1], node: "b")) { b, _ in
                    let front = """
                        listen: ["127.0.0.1:0"]
                        access_log: off
                        upstreams:
                          caches: { servers: ["127.0.0.1:\(a)", "127.0.0.1:\(b)"], balance: consistent_hash, key: "{uri}" }
                        routes:
                          - match: { path: / }
                            proxy: { upstream: caches }
                        """
                    try await ConfiguredServer.run(yaml: front) { port, _ in
                        var nodes: [String: String] = [:]
                        for round in 0..<2 {
                            for i in 0..<40 {
                                let response = try await CacheFixture.get(port, "/item/\(i)")
                                let node = try #require(response.header("x-cache-node"))
                                if round == 0 { nodes["/item/\(i)"] = node } else {
                                    #expect(nodes["/item/\(i)"] == node, "/item/\(i) moved")
                                    #expect(response.header("cache-status")?.hasPrefix("Tacet; hit") == true)
                                }
                            }
                        }
                        #expect(origin.count == 40)
                        #expect(Set(nodes.values) == ["a", "b"], "both caches take a share")
                    }
                }
            }
        }
    }
}
