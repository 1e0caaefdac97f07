import Testing
@testable import TacetConfig

/// `compression:` at the top level and on routes, and `static: { precompressed }`.
@Suite struct CompressionConfigTests {
    @Test func topLevelAndRoutes() throws {
        let config = try parse("""
            compression:
              encodings: [br, gzip]
              min_size: 1k
              types: [text/*, Application/JSON]
              level: { gzip: 6 }
            routes:
              - match: { path: /account/ }
                respond: { status: 200 }
                compression: off
              - match: { path: /api/ }
                respond: { status: 200 }
                compression: { level: { br: 5 } }
              - match: { path: / }
                respond: { status: 200 }
            """)
        let top = try #require(config.compression)
        #expect(top.encodings == ["br", "gzip"])
        #expect(top.minSize == 1024)
        #expect(top.types == ["text/*", "application/json"])
        #expect(top.levels == ["gzip": 6, "br": 4, "zstd": 3])
        #expect(config.routes[0].compression(defaultingTo: top) == nil)
        let api = try #require(config.routes[1].compression(defaultingTo: top))
        #expect(api.levels["br"] == 5 && api.levels["gzip"] == 6 && api.encodings == ["br", "gzip"], "a route's keys override the top level's")
        #expect(config.routes[2].compression(defaultingTo: top) == top)
        #expect(try parse("routes: []\n").compression == nil, "off unless configured")
        #expect(try parse("compression: on\n").compression == CompressionConfig(), "on: the defaults")
        #expect(try parse("compression: { min_size: 0 }\n").compression?.minSize == 0)
    }

    @Test func refusals() {
        let cases: [(String, String)] = [
            ("compression: { encodings: [gzip, deflate] }\n",
             "tacet.yaml:1:34: compression.encodings[1]: unknown encoding 'deflate' (expected one of: zstd, br, gzip)"),
            ("compression: { encodings: [gzip, gzip] }\n",
             "tacet.yaml:1:34: compression.encodings[1]: 'gzip' is listed twice"),
            ("compression: { encodings: [] }\n",
             "tacet.yaml:1:27: compression.encodings: must list at least one encoding (or say compression: off)"),
            ("compression: { level: { gzip: 10 } }\n",
             "tacet.yaml:1:31: compression.level.gzip: must be in 1...9, got 10"),
            ("compression: { level: { zstd: 22 } }\n",
             "tacet.yaml:1:31: compression.level.zstd: must be in 1...19, got 22"),
            ("compression: { level: { lz4: 1 } }\n",
             "tacet.yaml:1:25: compression.level: unknown key 'lz4' (expected one of: zstd, br, gzip)"),
            ("compression: { types: [text] }\n",
             "tacet.yaml:1:24: compression.types[0]: 'text' is not a media type (type/subtype or type/*)"),
            ("compression: { types: [\"*/*\"] }\n",
             "tacet.yaml:1:24: compression.types[0]: '*/*' is not a media type (type/subtype or type/*)"),
            ("compression: maybe\n",
             "tacet.yaml:1:14: compression: must be off, on, or a mapping, not 'maybe'"),
            ("compression: { window: 15 }\n",
             "tacet.yaml:1:16: compression: unknown key 'window' (expected one of: encodings, min_size, types, level)"),
            ("routes:\n  - match: { path: / }\n    static: { root: /, precompressed: [br, lzma] }\n",
             "tacet.yaml:3:44: routes[0].static.precompressed[1]: unknown encoding 'lzma' (expected one of: zstd, br, gzip)"),
        ]
        for (yaml, expected) in cases {
            #expect(configError(yaml)?.description == expected, "\(yaml)")
        }
    }

    @Test func precompressed() throws {
        let config = try parse("routes:\n  - match: { path: / }\n    static: { root: /, precompressed: [br, zstd, gzip] }\n")
        guard case .staticFiles(let files) = config.routes.first?.action else {
            Issue.record("not a static route")
            return
        }
        #expect(files.precompressed == ["br", "zstd", "gzip"])
    }
}
