import Testing
@testable import TacetCache

@Suite("Cache-Control: strict, a malformed field is not a permission")
struct CacheControlTests {
    @Test("Directives and arguments")
    func reads() throws {
        let cc = try #require(CacheControl(values: ["public, max-age=60", "s-maxage=\"120\", stale-while-revalidate=10"]))
        #expect(cc.isPublic && cc.maxAge == 60 && cc.sMaxAge == 120 && cc.staleWhileRevalidate == 10)
        let fields = try #require(CacheControl(values: ["no-cache=\"Set-Cookie, X-Token\", private=\"X-User\""]))
        #expect(fields.noCacheFields == ["set-cookie", "x-token"] && !fields.noCache)
        #expect(fields.privateFields == ["x-user"] && !fields.isPrivate)
        let request = try #require(CacheControl(values: ["max-stale, min-fresh=5, only-if-cached"]))
        #expect(request.maxStaleAny && request.minFresh == 5 && request.onlyIfCached)
        #expect(CacheControl(values: ["MAX-AGE=5, x-unknown=\"a,b\", ext"])?.maxAge == 5, "unknown directives ignored, names any case")
        #expect(CacheControl(values: [" , max-age=0 ,, "])?.maxAge == 0)
        #expect(CacheControl(values: ["max-age=99999999999999999999"])?.maxAge == CacheControl.deltaCap)
        #expect(CacheControl(values: ["max-age=5, max-age=5"])?.maxAge == 5, "a repeat that agrees is fine")
        #expect(CacheControl(values: []) == CacheControl())
    }

    @Test("Malformed: the whole field is refused")
    func refuses() {
        for value in ["max-age=abc", "max-age=", "max-age=-1", "max-age=1.5", "max-age=60, max-age=70", "no-store=1",
                      "max-age=60 junk", "max-age=\"60", "private=\"a b\"", "=5", "max age=5", "public;", "max-age=\"6\\\u{01}\""] {
            #expect(CacheControl(values: [value]) == nil, "\(value)")
        }
    }

    @Test("Any bytes: no crash; split into lines anywhere between members, the same reading")
    func fuzz() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["max-age=", "60", "public", ",", " ", "\"", "no-cache", "=", "s-maxage", "private", "\\", "x", "\t", ";"]
        for _ in 0..<2000 {
            let text = (0..<Int.random(in: 0...10, using: &generator)).map { _ in pieces.randomElement(using: &generator) ?? "" }.joined()
            _ = CacheControl(values: [text])
        }
        let members = ["public", "max-age=60", "no-cache=\"a, b\"", "stale-if-error=5"]
        for split in 1..<members.count {
            let whole = CacheControl(values: [members.joined(separator: ", ")])
            let lines = CacheControl(values: [members[..<split].joined(separator: ", "), members[split...].joined(separator: ", ")])
            #expect(whole == lines && whole != nil)
        }
    }
}

@Suite("Freshness and age (RFC 9111 §4.2)")
struct FreshnessTests {
    static func response(_ cc: String, status: Int = 200, date: Int? = 1000, expires: Int? = nil, modified: Int? = nil) -> Freshness.Response {
        Freshness.Response(status: status, cacheControl: CacheControl(values: [cc]) ?? CacheControl(), date: date, expires: expires, lastModified: modified)
    }

    @Test("s-maxage, then max-age, then Expires less Date; an invalid Expires is already expired")
    func explicit() {
        #expect(Freshness.lifetime(Self.response("max-age=60, s-maxage=10"), responseTime: 1000, defaultTTL: nil) == 10)
        #expect(Freshness.lifetime(Self.response("max-age=60", expires: 5000), responseTime: 1000, defaultTTL: nil) == 60)
        #expect(Freshness.lifetime(Self.response("", expires: 1300), responseTime: 1000, defaultTTL: nil) == 300)
        #expect(Freshness.lifetime(Self.response("", date: nil, expires: 1300), responseTime: 1100, defaultTTL: nil) == 200)
        var invalid = Self.response("")
        invalid.expiresInvalid = true
        #expect(Freshness.lifetime(invalid, responseTime: 1000, defaultTTL: 600) == 0)
    }

    @Test("No explicit lifetime: default_ttl for 200/301/404, else a tenth of Last-Modified's age for cacheable statuses")
    func heuristic() {
        #expect(Freshness.lifetime(Self.response(""), responseTime: 1000, defaultTTL: nil) == nil)
        #expect(Freshness.lifetime(Self.response(""), responseTime: 1000, defaultTTL: 600) == 600)
        #expect(Freshness.lifetime(Self.response("", status: 410), responseTime: 1000, defaultTTL: 600) == nil)
        #expect(Freshness.lifetime(Self.response("", modified: 0), responseTime: 1000, defaultTTL: nil) == 100)
        #expect(Freshness.lifetime(Self.response("", date: 10_000_000, modified: 0), responseTime: 0, defaultTTL: nil) == Freshness.heuristicCap)
        #expect(Freshness.lifetime(Self.response("", status: 302, modified: 0), responseTime: 1000, defaultTTL: nil) == nil)
    }

    @Test("current_age: Age and Date corrected by the delay, plus the time resident")
    func age() {
        var r = Self.response("max-age=60", date: 990)
        r.age = 5
        // apparent 10 (1000 - 990); corrected Age 5 + delay 2 = 7; the larger, plus 30 resident.
        #expect(Freshness.currentAge(r, requestTime: 998, responseTime: 1000, now: 1030) == 40)
        r.age = 50
        #expect(Freshness.currentAge(r, requestTime: 998, responseTime: 1000, now: 1000) == 52)
        #expect(Freshness.currentAge(Self.response("", date: 2000), requestTime: 1000, responseTime: 1000, now: 1000) == 0, "a Date ahead is no negative age")
    }
}

@Suite("Storability (RFC 9111 §3), nginx's and Varnish's defaults")
struct StorabilityTests {
    static func decide(method: String = "GET", request: String = "", auth: Bool = false, status: Int = 200, response: String? = "max-age=60",
                       cookie: Bool = false, varyStar: Bool = false, lifetime: Int? = 60, validator: Bool = false) -> Storability {
        Storability.decide(
            request: .init(method: method, cacheControl: CacheControl(values: [request]), hasAuthorization: auth),
            response: .init(status: status, cacheControl: response.flatMap { CacheControl(values: [$0]) }, hasSetCookie: cookie,
                            varyStar: varyStar, lifetime: lifetime, hasValidator: validator))
    }

    @Test func cases() {
        #expect(Self.decide() == .storable)
        #expect(Self.decide(method: "POST") == .notStorable(.method))
        #expect(Self.decide(method: "HEAD") == .notStorable(.method), "stored from GETs; HEAD is answered from them")
        #expect(Self.decide(response: "max-age=x") == .notStorable(.malformedCacheControl))
        #expect(Self.decide(request: "no-store") == .notStorable(.noStore))
        #expect(Self.decide(response: "no-store, max-age=60") == .notStorable(.noStore))
        #expect(Self.decide(response: "private, max-age=60") == .notStorable(.privateResponse))
        #expect(Self.decide(auth: true) == .notStorable(.authorization))
        #expect(Self.decide(auth: true, response: "public, max-age=60") == .storable)
        #expect(Self.decide(auth: true, response: "s-maxage=60") == .storable)
        #expect(Self.decide(auth: true, response: "must-revalidate, max-age=60") == .storable)
        #expect(Self.decide(cookie: true) == .notStorable(.setCookie))
        #expect(Self.decide(varyStar: true) == .notStorable(.varyStar))
        #expect(Self.decide(status: 206) == .notStorable(.partial))
        #expect(Self.decide(status: 500) == .storable, "any final status with explicit freshness")
        #expect(Self.decide(status: 599, response: "", lifetime: nil, validator: true) == .notStorable(.status),
                "an unknown status only with a lifetime")
        #expect(Self.decide(status: 304) == .notStorable(.status))
        #expect(Self.decide(status: 599, response: "max-age=60, must-understand") == .notStorable(.status))
        #expect(Self.decide(status: 200, response: "max-age=60, no-store, must-understand") == .storable,
                "must-understand overrides no-store for an understood status")
        #expect(Self.decide(response: "", lifetime: nil) == .notStorable(.noFreshness))
        #expect(Self.decide(response: "", lifetime: nil, validator: true) == .storable, "stored to be revalidated")
        #expect(Self.decide(status: 302, response: "", lifetime: nil, validator: true) == .notStorable(.noFreshness))
        #expect(Self.decide(status: 302, response: "max-age=60") == .storable)
    }
}

@Suite("Vary: secondary keys, Accept-Encoding normalised")
struct VariantTests {
    @Test func keys() {
        #expect(Variant.fields(["Accept-Encoding, accept-encoding", "Origin"]) == ["accept-encoding", "origin"])
        #expect(Variant.fields(["Origin, *"]) == nil)
        func key(_ ae: [String]) -> String { Variant.key(fields: ["accept-encoding"]) { $0 == "accept-encoding" ? ae : [] } }
        #expect(key(["gzip, deflate, br"]) == key(["br;q=1.0, gzip"]))
        #expect(key(["gzip, deflate, br"]) == key(["gzip", "br"]))
        #expect(key(["gzip"]) != key(["gzip, br"]))
        #expect(key([]) == key(["identity"]))
        #expect(key(["*"]) == key(["br, gzip, zstd"]))
        #expect(key(["*, br;q=0"]) == key(["gzip, zstd"]))
        #expect(key(["x-gzip"]) == key(["gzip;q=0.5"]))
        let origin = Variant.key(fields: ["origin"]) { _ in ["https://a.example"] }
        #expect(origin != Variant.key(fields: ["origin"]) { _ in ["https://b.example"] })
        #expect(Variant.key(fields: ["x"]) { _ in ["a,  b"] } == Variant.key(fields: ["x"]) { _ in ["a", "b"] })
    }
}
