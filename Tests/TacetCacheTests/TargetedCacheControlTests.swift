import Testing
@testable import TacetCache

@Suite("CDN-Cache-Control (RFC 9213): a Structured Dictionary that replaces Cache-Control when valid")
struct TargetedCacheControlTests {
    @Test("Directives as Dictionary members; a wrong type ignores that directive only")
    func directives() throws {
        let cc = try #require(CacheControl(targeted: ["max-age=3600, no-cache, s-maxage=10;foo=bar"]))
        #expect(cc.maxAge == 3600 && cc.noCache && cc.sMaxAge == 10)
        #expect(CacheControl(targeted: ["max-age=99999999999"])?.maxAge == CacheControl.deltaCap)
        #expect(CacheControl(targeted: ["private"])?.isPrivate == true)
        #expect(CacheControl(targeted: ["no-store"])?.noStore == true)
        let wrong = try #require(CacheControl(targeted: ["max-age=\"10000\""]))
        #expect(wrong.maxAge == nil)
        #expect(CacheControl(targeted: ["foobar, max-age=60"])?.maxAge == 60, "unknown members are ignored")
        #expect(CacheControl(targeted: ["max-age=60", "public"])?.isPublic == true, "lines join into one Dictionary")
    }

    @Test("Not a Dictionary: the field is ignored and Cache-Control applies")
    func invalid() {
        for text in ["max-age=10000, &&&&&", "MaX-aGe=3600", "max-age =100", "max-age= 100", "", ",", "max-age=60,",
                     "a=\"unterminated", "a=1.2345", "a=1234567890123456", "a=(1 2", "a=?2", "a=:abc"] {
            #expect(CacheControl(targeted: [text]) == nil, "\(text)")
        }
        #expect(CacheControl(targeted: []) == nil)
        #expect(CacheControl.effective(cacheControl: ["no-store"], targeted: ["max-age=10000, &&&&&"])?.noStore == true)
        #expect(CacheControl.effective(cacheControl: ["no-store"], targeted: ["max-age=10000"])?.noStore == false)
        #expect(CacheControl(targeted: ["a=(1 \"x\");p, b=?0, c=:aGk=:, d=-1.5, e=tok/en:x"]) != nil)
    }

    @Test("Any bytes: no crash")
    func fuzz() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("max-ge=0123456789,; \"()?:*._/\\&".utf8)
        for _ in 0..<5000 {
            let bytes = (0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
            _ = CacheControl(targeted: [String(decoding: bytes, as: UTF8.self)])
        }
    }
}
