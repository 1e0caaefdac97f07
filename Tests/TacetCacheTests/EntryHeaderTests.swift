import Testing
@testable import TacetCache

@Suite("EntryHeader: a stored entry's header, versioned, strict, bounded")
struct EntryHeaderTests {
    static let header = EntryHeader(key: "https://example.com/a?b", variant: "accept-encoding=br,gzip\n", status: 200,
                                    requestTime: 1_765_000_000, responseTime: 1_765_000_001,
                                    fields: [("Content-Type", "text/html"), ("ETag", "\"v1\""), ("Cache-Control", "max-age=60")],
                                    bodyLength: 12_345)

    @Test("Round trip; the body starts right after")
    func roundTrip() throws {
        let bytes = Self.header.encoded()
        let (decoded, offset) = try #require(EntryHeader.decode(bytes + [1, 2, 3]))
        #expect(decoded == Self.header && offset == bytes.count)
    }

    @Test("Cut anywhere, another version, another magic: not an entry")
    func refuses() {
        let bytes = Self.header.encoded()
        for length in 0..<bytes.count { #expect(EntryHeader.decode(Array(bytes[..<length])) == nil) }
        var version = bytes
        version[EntryHeader.magic.count + 1] = UInt8(EntryHeader.version + 1)
        #expect(EntryHeader.decode(version) == nil)
        var magic = bytes
        magic[0] = UInt8(ascii: "X")
        #expect(EntryHeader.decode(magic) == nil)
    }

    @Test("Any byte changed: no crash, and never a field with CR or LF")
    func mutations() {
        var generator = SystemRandomNumberGenerator()
        let bytes = Self.header.encoded()
        for _ in 0..<5000 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if let (decoded, _) = EntryHeader.decode(mutated) {
                #expect(decoded.fields.allSatisfy { !$0.value.utf8.contains(13) && !$0.value.utf8.contains(10) && !$0.name.isEmpty })
                #expect((100...599).contains(decoded.status) && decoded.bodyLength >= 0)
            }
        }
    }
}
