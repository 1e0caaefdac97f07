import NIOHTTP1
@testable import TacetCompression
import TacetHTTP
import Testing

@Suite("What is compressed")
struct CompressionChoiceTests {
    static let settings = CompressionSettings()

    static func decide(status: Int = 200, type: String? = "text/html; charset=utf-8", encoded: Bool = false, noTransform: Bool = false,
                       body: ResponseHead.Body = .length(10_000), accept: String? = "gzip", hasRange: Bool = false) -> CompressionChoice {
        let parsed = accept.flatMap { AcceptEncoding(fields: [$0]) }
        let coding = parsed?.choose(from: [.gzip])
        return CompressionChoice.decide(coding: coding, accept: parsed, hasRange: hasRange,
                                        response: .init(status: status, contentType: type, isEncoded: encoded, noTransform: noTransform, body: body),
                                        settings: settings)
    }

    @Test("A compressible response to a client that accepts gzip is compressed; streams too")
    func compressed() {
        #expect(Self.decide() == .compress(.gzip))
        #expect(Self.decide(body: .stream) == .compress(.gzip))
        #expect(Self.decide(status: 404) == .compress(.gzip))
        #expect(Self.decide(type: "application/json") == .compress(.gzip))
        #expect(Self.decide(type: "Application/JSON ; charset=utf-8") == .compress(.gzip), "media type matched without its parameters")
        #expect(Self.decide(type: "image/svg+xml") == .compress(.gzip))
    }

    @Test("Never touched: no body ever, already encoded, no-transform, a type off the list, no type")
    func untouched() {
        #expect(Self.decide(status: 204) == .untouched)
        #expect(Self.decide(status: 101) == .untouched)
        #expect(Self.decide(encoded: true) == .untouched)
        #expect(Self.decide(noTransform: true) == .untouched)
        #expect(Self.decide(type: "image/png") == .untouched)
        #expect(Self.decide(type: nil) == .untouched)
        #expect(Self.decide(type: "text") == .untouched)
    }

    @Test("Identity with Vary: client, size, range, 206, 304")
    func identity() {
        #expect(Self.decide(accept: nil) == .identity)
        #expect(Self.decide(accept: "br") == .identity)
        #expect(Self.decide(body: .length(255)) == .identity, "min_size 256")
        #expect(Self.decide(body: .length(256)) == .compress(.gzip))
        #expect(Self.decide(body: .empty) == .identity)
        #expect(Self.decide(hasRange: true) == .identity)
        #expect(Self.decide(status: 206) == .identity)
        #expect(Self.decide(status: 304, type: nil) == .identity)
    }

    @Test("406 only when identity is refused and nothing else is acceptable, for a 2xx")
    func notAcceptable() {
        #expect(Self.decide(accept: "br, identity;q=0") == .notAcceptable)
        #expect(Self.decide(accept: "*;q=0") == .notAcceptable)
        #expect(Self.decide(accept: "gzip, identity;q=0") == .compress(.gzip))
        #expect(Self.decide(status: 404, accept: "identity;q=0") == .identity, "an error is sent as it is")
        #expect(Self.decide(type: "image/png", accept: "identity;q=0") == .untouched)
    }
}

@Suite("Variant fields: Vary and ETag")
struct VariantFieldsTests {
    @Test("Vary: added once, merged with the upstream's, never beside *")
    func vary() {
        var fields = HTTPHeaders()
        VariantFields.addVary(&fields)
        VariantFields.addVary(&fields)
        #expect(fields[canonicalForm: "vary"] == ["Accept-Encoding"])
        var upstream = HTTPHeaders([("Vary", "Origin, accept-encoding")])
        VariantFields.addVary(&upstream)
        #expect(upstream[canonicalForm: "vary"].count == 2)
        var other = HTTPHeaders([("Vary", "Origin")])
        VariantFields.addVary(&other)
        #expect(other[canonicalForm: "vary"] == ["Origin", "Accept-Encoding"])
        var star = HTTPHeaders([("Vary", "*")])
        VariantFields.addVary(&star)
        #expect(star[canonicalForm: "vary"] == ["*"])
    }

    @Test("ETag suffixes, strong and weak; If-None-Match stripped, commas inside tags kept")
    func etags() throws {
        #expect(VariantFields.suffixed(etag: "\"abc\"", .gzip) == "\"abc-gzip\"")
        #expect(VariantFields.suffixed(etag: "W/\"abc\"", .br) == "W/\"abc-br\"")
        #expect(VariantFields.suffixed(etag: "abc", .br) == "abc")
        let stripped = try #require(VariantFields.stripSuffix("\"a,b-gzip\", W/\"x-gzip\", \"y\", \"z-br\"", .gzip))
        #expect(stripped.value == "\"a,b\", W/\"x\", \"y\", \"z-br\"")
        #expect(stripped.stripped == ["\"a,b\"", "W/\"x\""])
        #expect(VariantFields.stripSuffix("\"y\", *", .gzip) == nil)
        #expect(VariantFields.stripSuffix("\"unterminated-gzip", .gzip) == nil)
        #expect(VariantFields.stripSuffix("\"-gzip\"", .gzip)?.value == "\"\"")
    }
}
