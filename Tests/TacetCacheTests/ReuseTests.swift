import Testing
@testable import TacetCache

@Suite("Reuse: fresh, stale only where allowed, revalidate, only-if-cached")
struct ReuseTests {
    static func stored(_ cc: String, lifetime: Int = 60, age: Int, validator: Bool = true) -> Reuse.Stored {
        Reuse.Stored(lifetime: lifetime, age: age, cacheControl: CacheControl(values: [cc]) ?? CacheControl(), hasValidator: validator)
    }
    static func request(_ cc: String) -> CacheControl? { CacheControl(values: [cc]) }

    @Test func decisions() {
        #expect(Reuse.decide(Self.stored("", age: 10), request: Self.request("")) == .fresh(ttl: 50))
        #expect(Reuse.decide(Self.stored("", age: 70), request: Self.request("")) == .revalidate)
        #expect(Reuse.decide(Self.stored("", age: 70, validator: false), request: Self.request("")) == .fetch)
        #expect(Reuse.decide(Self.stored("", age: 10), request: Self.request("no-cache")) == .revalidate)
        #expect(Reuse.decide(Self.stored("", age: 10), request: Self.request(""), pragmaNoCache: true) == .revalidate)
        #expect(Reuse.decide(Self.stored("no-cache", age: 10), request: Self.request("")) == .revalidate)
        #expect(Reuse.decide(Self.stored("", age: 10), request: nil) == .revalidate, "a malformed request field: ask the origin")
        #expect(Reuse.decide(Self.stored("", age: 30), request: Self.request("max-age=20")) == .revalidate)
        #expect(Reuse.decide(Self.stored("", age: 50), request: Self.request("min-fresh=20")) == .revalidate)
        #expect(Reuse.decide(Self.stored("", age: 70), request: Self.request("only-if-cached")) == .unsatisfiable)
    }

    @Test("Stale: the origin's stale-while-revalidate, the client's max-stale, the operator's override; never past must-revalidate")
    func stale() {
        let swr = Self.stored("stale-while-revalidate=30", age: 80)
        #expect(Reuse.decide(swr, request: Self.request("")) == .staleWhileRevalidate(ttl: -20))
        #expect(Reuse.decide(Self.stored("stale-while-revalidate=30", age: 100), request: Self.request("")) == .revalidate)
        #expect(Reuse.decide(swr, request: Self.request("max-age=0")) == .revalidate, "a reload asks for fresh")
        #expect(Reuse.decide(Self.stored("", age: 80), request: Self.request("max-stale=30")) == .staleWhileRevalidate(ttl: -20))
        #expect(Reuse.decide(Self.stored("", age: 80), request: Self.request("max-stale")) == .staleWhileRevalidate(ttl: -20))
        #expect(Reuse.decide(Self.stored("", age: 80), request: Self.request(""), overrides: .init(staleWhileRevalidate: 30))
            == .staleWhileRevalidate(ttl: -20))
        #expect(Reuse.decide(Self.stored("must-revalidate, stale-while-revalidate=30", age: 80), request: Self.request("max-stale")) == .revalidate)
        #expect(Reuse.decide(Self.stored("s-maxage=60", age: 80), request: Self.request("max-stale")) == .revalidate,
                "s-maxage implies proxy-revalidate for a shared cache")
    }

    @Test("stale-if-error: the origin's or the operator's window, never past must-revalidate")
    func onError() {
        #expect(Reuse.mayServeOnError(Self.stored("stale-if-error=60", age: 100)))
        #expect(!Reuse.mayServeOnError(Self.stored("stale-if-error=30", age: 100)))
        #expect(!Reuse.mayServeOnError(Self.stored("", age: 100)), "off by default")
        #expect(Reuse.mayServeOnError(Self.stored("", age: 100), overrides: .init(staleIfError: 60)))
        #expect(!Reuse.mayServeOnError(Self.stored("must-revalidate", age: 100), overrides: .init(staleIfError: 60)))
    }

    @Test("Client conditionals: If-None-Match weakly, over If-Modified-Since")
    func conditionals() {
        #expect(ClientConditional.notModified(ifNoneMatch: ["\"a\", W/\"v1\""], ifModifiedSince: nil, etag: "\"v1\"", lastModified: nil))
        #expect(ClientConditional.notModified(ifNoneMatch: ["*"], ifModifiedSince: nil, etag: "\"x\"", lastModified: nil))
        #expect(!ClientConditional.notModified(ifNoneMatch: ["\"a\""], ifModifiedSince: 2000, etag: "\"v1\"", lastModified: 1000),
                "If-None-Match decides when present")
        #expect(ClientConditional.notModified(ifNoneMatch: [], ifModifiedSince: 2000, etag: nil, lastModified: 1000))
        #expect(!ClientConditional.notModified(ifNoneMatch: [], ifModifiedSince: 500, etag: nil, lastModified: 1000))
    }
}
