import Testing
@testable import TacetConfig

@Suite("Config: cache zones, a route's cache, consistent_hash")
struct CacheConfigTests {
    static func yaml(zones: String = "main: { path: cache/main, max_size: 10g, memory: 256m, inactive: 7d }",
                     route: String = "cache: { zone: main }", action: String = "proxy: { upstream: app }",
                     upstream: String = "app: { servers: [\"127.0.0.1:9000\"] }") -> String {
        """
        upstreams:
          \(upstream)
        cache:
          zones:
            \(zones)
        routes:
          - match: { path: / }
            \(action)
            \(route)
        """
    }

    @Test("Zones and a route's cache: sizes, durations, the key template and the overrides")
    func parses() throws {
        let config = try parse(Self.yaml(route: "cache: { zone: main, key: \"{host}{uri}\", lock_timeout: 2s, stale_if_error: 1m, stale_while_revalidate: 10s, default_ttl: off }"),
                               base: "/srv")
        let zone = try #require(config.cacheZones.first)
        #expect(zone.name == "main" && zone.path == "/srv/cache/main" && zone.maxSize == 10 << 30 && zone.memory == 256 << 20)
        #expect(zone.inactive == 7 * 86_400 && zone.line == 5)
        let cache = try #require(config.routes.first?.cache)
        #expect(cache.zone == "main" && cache.key == [.variable(.host), .variable(.uri)] && cache.lockTimeout == .seconds(2))
        #expect(cache.staleIfError == 60 && cache.staleWhileRevalidate == 10 && cache.defaultTTL == nil)
        let plain = try parse(Self.yaml())
        #expect(plain.routes.first?.cache?.key == RouteCacheConfig.defaultKey)
    }

    @Test("Mistakes are errors at their line: an unknown zone, a cache on a static route, a key with no variable, max_object over max_size, two zones on one path")
    func errors() {
        #expect(configError(Self.yaml(route: "cache: { zone: other }"))?.description.contains("no cache zone 'other' (declared: main)") == true)
        #expect(configError(Self.yaml(action: "static: { root: /srv }"))?.description.contains("cache: goes on a proxy route") == true)
        #expect(configError(Self.yaml(route: "cache: { zone: main, key: fixed }"))?.description.contains("without a variable") == true)
        #expect(configError(Self.yaml(route: "cache: { zone: main, key: \"{nope}\" }"))?.description.contains("unknown variable '{nope}'") == true)
        #expect(configError(Self.yaml(zones: "main: { path: /c, max_size: 1m, max_object: 2m }"))?.description.contains("larger than max_size") == true)
        #expect(configError(Self.yaml(zones: "main: { path: /c }\n    other: { path: /c }"))?.description.contains("share the path") == true)
        #expect(configError(Self.yaml(zones: "main: { size: 1m }"))?.description.contains("unknown key 'size'") == true)
        #expect(configError(Self.yaml(route: "cache: { zone: main, lock_timeout: soon }")) != nil)
    }

    @Test("consistent_hash with a key template; a key without it is an error")
    func consistentHash() throws {
        let config = try parse(Self.yaml(route: "", upstream: "app: { servers: [\"127.0.0.1:9000\", \"127.0.0.1:9001\"], balance: consistent_hash, key: \"{uri}\" }"))
        let upstream = try #require(config.upstreams.first)
        #expect(upstream.balance == .consistentHash && upstream.hashKey == [.variable(.uri)])
        let error = configError(Self.yaml(route: "", upstream: "app: { servers: [\"127.0.0.1:9000\"], key: \"{uri}\" }"))
        #expect(error?.description.contains("key goes with balance: consistent_hash") == true)
    }
}
