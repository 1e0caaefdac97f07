import NIOCore
@testable import TacetCompression
import TacetTestSupport
import Testing

/// Each encoder against an independent decoder (Python's): whole bodies, written in random
/// pieces, flushed at random points, and empty.
@Suite("Encoders: gzip, Brotli, zstd")
struct EncoderTests {
    static let codings: [ContentCoding] = [.gzip, .br, .zstd]

    static func sample(_ count: Int, seed: UInt64 = 1) -> [UInt8] { SampleText.text(count, seed: seed) }

    static func encode(_ input: [UInt8], _ coding: ContentCoding, sizeHint: Int? = nil, pieces: (Int) -> Int,
                       flushEvery: Int = 0) throws -> [UInt8] {
        let encoder = try #require(ContentEncoders.make(coding, EncoderParameters(level: CompressionSettings().level(coding), sizeHint: sizeHint)))
        var output = ByteBuffer()
        var offset = 0
        var count = 0
        while offset < input.count {
            let size = min(max(1, pieces(input.count - offset)), input.count - offset)
            count += 1
            let mode: EncodeMode = flushEvery > 0 && count % flushEvery == 0 ? .flush : .continue
            try encoder.encode(ByteBuffer(bytes: input[offset..<(offset + size)]), mode: mode, into: &output)
            offset += size
        }
        try encoder.finish(into: &output)
        return Array(output.readableBytesView)
    }

    @Test("Round trips, whole and in random pieces with random flushes", arguments: codings)
    func roundTrip(coding: ContentCoding) async throws {
        var generator = SeededGenerator(seed: 7)
        for size in [0, 1, 255, 4096, 70_000, 1_000_000] {
            let input = Self.sample(size, seed: UInt64(size))
            let whole = try Self.encode(input, coding, sizeHint: size, pieces: { $0 })
            #expect(try await ContentDecoding.decode(whole, coding: coding.token) == input, "\(coding) \(size) whole")
            if size > 1000 { #expect(whole.count < size / 2, "\(coding) compresses") }
            let split = try Self.encode(input, coding, pieces: { _ in Int.random(in: 1...9000, using: &generator) }, flushEvery: 3)
            #expect(try await ContentDecoding.decode(split, coding: coding.token) == input, "\(coding) \(size) split")
        }
    }

    @Test("One byte at a time", arguments: codings)
    func oneByte(coding: ContentCoding) async throws {
        let input = Self.sample(3000)
        let encoded = try Self.encode(input, coding, pieces: { _ in 1 })
        #expect(try await ContentDecoding.decode(encoded, coding: coding.token) == input)
    }

    @Test("A flush makes everything so far decodable (an event stream's events)", arguments: codings)
    func flushIsDecodable(coding: ContentCoding) async throws {
        let encoder = try #require(ContentEncoders.make(coding, EncoderParameters(level: 5)))
        var output = ByteBuffer()
        var sent: [UInt8] = []
        for event in 0..<5 {
            let text = Array("data: event \(event) \(String(repeating: "x", count: event * 10))\n\n".utf8)
            sent += text
            try encoder.encode(ByteBuffer(bytes: text), mode: .flush, into: &output)
            #expect(try await ContentDecoding.decodePrefix(Array(output.readableBytesView), coding: coding.token) == sent, "\(coding) event \(event)")
        }
        try encoder.finish(into: &output)
        #expect(try await ContentDecoding.decode(Array(output.readableBytesView), coding: coding.token) == sent)
    }

    @Test("Input after the end is an error, not a corrupt body", arguments: codings)
    func afterEnd(coding: ContentCoding) async throws {
        let encoder = try #require(ContentEncoders.make(coding, EncoderParameters(level: 1)))
        var output = ByteBuffer()
        try encoder.finish(into: &output)
        #expect(throws: CompressionError.self) { try encoder.encode(ByteBuffer(string: "more"), mode: .continue, into: &output) }
    }

    @Test("zstd is loaded from libzstd.so.1 at run time on this machine")
    func zstdLoaded() {
        #expect(ZstdEncoder.isAvailable)
        #expect(ZstdEncoder.version != nil)
    }

    @Test("Windows fit small bodies (nginx's sizing) and stay capped for large or unknown ones")
    func windows() {
        #expect(ContentEncoders.windowLog(for: 1000, low: 10, high: 18) == 10)
        #expect(ContentEncoders.windowLog(for: 5000, low: 10, high: 18) == 13)
        #expect(ContentEncoders.windowLog(for: 10_000_000, low: 10, high: 18) == 18)
        #expect(ContentEncoders.windowLog(for: nil, low: 10, high: 18) == 18)
    }
}
