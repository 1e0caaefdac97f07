import TacetCompression
import Testing

@Suite("Accept-Encoding (RFC 9110 §12.5.3)")
struct AcceptEncodingTests {
    static let all: [ContentCoding] = [.zstd, .br, .gzip]

    static func choose(_ fields: [String], from available: [ContentCoding] = all) -> ContentCoding? {
        AcceptEncoding(fields: fields)?.choose(from: available)
    }

    @Test("The server's order breaks ties; the client's weights decide first")
    func preference() {
        #expect(Self.choose(["gzip, deflate, br, zstd"]) == .zstd)
        #expect(Self.choose(["gzip, br"]) == .br)
        #expect(Self.choose(["gzip"]) == .gzip)
        #expect(Self.choose(["gzip;q=1.0, br;q=0.5"]) == .gzip)
        #expect(Self.choose(["br;q=0.2", "gzip;q=0.3"]) == .gzip, "several field lines are one list")
        #expect(Self.choose(["zstd;q=0.9, br;q=0.9, gzip;q=0.9"], from: [.gzip, .br]) == .gzip)
        #expect(Self.choose(["GZIP"]) == .gzip, "codings are case-insensitive")
        #expect(Self.choose(["x-gzip"]) == .gzip, "x-gzip is gzip (§8.4.1.3)")
        #expect(Self.choose(["gzip;Q=0.5"]) == .gzip)
    }

    @Test("The wildcard, q=0, identity")
    func wildcardAndZero() throws {
        #expect(Self.choose(["*"]) == .zstd)
        #expect(Self.choose(["*;q=0.5, gzip"]) == .gzip)
        #expect(Self.choose(["*, zstd;q=0"]) == .br)
        #expect(Self.choose(["gzip;q=0"]) == nil)
        #expect(Self.choose(["identity"]) == nil)
        #expect(Self.choose([""]) == nil, "an empty field: identity only")
        #expect(Self.choose(["gzip;q=0.5, identity"]) == nil, "identity weighs more")
        #expect(Self.choose(["gzip;q=0.5, identity;q=0.5"]) == .gzip, "a tie goes to compression")
        #expect(Self.choose(["gzip;q=0.001"]) == .gzip, "identity unlisted is the fallback, not a rival")
        #expect(Self.choose(["gzip;q=0.5, *"]) == .zstd, "the wildcard gives zstd and identity 1")
        #expect(Self.choose(["gzip;q=0, 5"]) == nil, "a coding called 5 is valid and unknown")
        let refused = try #require(AcceptEncoding(fields: ["identity;q=0"]))
        #expect(refused.identityWeight == 0)
        #expect(try #require(AcceptEncoding(fields: ["*;q=0"])).identityWeight == 0)
        #expect(try #require(AcceptEncoding(fields: ["*;q=0, identity"])).identityWeight == 1000)
        #expect(try #require(AcceptEncoding(fields: ["gzip"])).identityWeight == 1000)
    }

    @Test("Malformed fields are treated as absent: identity, never an error", arguments: [
        "gzip;q=2", "gzip;q=0.1234", "gzip;q=", "gzip;q=.5", "gzip;level=5", "gzip;q=0.5;q=0.4", "gz ip",
        "gzip;", ";q=0.5", "gzip;q=1.001", "\"gzip\"", "gzip\u{7F}", "gzip;q=0.5 x",
    ])
    func malformed(field: String) {
        #expect(AcceptEncoding(fields: [field]) == nil, "\(field)")
    }

    @Test("Allowed odd forms: empty elements, spaces around the weight, 1.000 and 0.")
    func oddButValid() {
        #expect(Self.choose([" , gzip ,, "]) == .gzip)
        #expect(Self.choose(["gzip ; q=0.5"]) == .gzip)
        #expect(Self.choose(["gzip;q=1.000"]) == .gzip)
        #expect(Self.choose(["gzip;q=0."]) == nil)
        #expect(AcceptEncoding(fields: [String]()) == nil, "no field")
    }

    @Test("Fuzz: random bytes never crash, and what parses chooses only acceptable codings")
    func fuzz() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("gzipbrzstd*identity;q=0.15, \t\"x".utf8)
        for _ in 0..<5000 {
            let length = Int.random(in: 0..<40, using: &generator)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
            let field = String(decoding: bytes, as: UTF8.self)
            let whole = AcceptEncoding(fields: [field])
            if let accept = whole, let coding = accept.choose(from: Self.all) {
                #expect(accept.weight(of: coding) > 0, "\(field)")
            }
            // The same list split into field lines at its commas means the same (RFC 9110 §5.3).
            let lines = field.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if lines.count > 1, !field.contains("\""), whole != nil {
                #expect(AcceptEncoding(fields: lines) == whole, "\(field) as \(lines)")
            }
        }
    }
}
