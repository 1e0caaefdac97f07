import NIOCore
import TacetTestSupport
import Testing
@testable import TacetHTTP

/// Mutated requests (bytes replaced, inserted, deleted, repeated, cut short) through the request
/// parser, whole and in random pieces. Whatever the bytes, the parser never traps and never
/// loops; and how the bytes are split never changes what it decides: the same events (bodies
/// joined), the same error.
@Suite("Parser: random inputs")
struct ParserRandomInputTests {
    static let templates: [String] = [
        "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n",
        "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
        "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\nHEAD /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n",
        "DELETE http://Example.com:80/p HTTP/1.1\r\nHost: other\r\nContent-Length: 0\r\n\r\n",
    ]

    /// Bytes a mutation favours: the ones framing and field syntax turn on.
    static let alphabet: [UInt8] = Array("\r\n:; \t,0123456789abcdefABCDEF-/?%Hh".utf8) + [0, 0x7F, 0x80, 0xFF]

    static func mutate(_ input: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !bytes.isEmpty else { break }
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            let byte = alphabet.randomElement(using: &rng) ?? 0
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: bytes[at] = byte
            case 1: bytes.insert(byte, at: at)
            case 2: bytes.remove(at: at)
            case 3:
                let end = min(bytes.count, at + Int.random(in: 1...12, using: &rng))
                bytes.insert(contentsOf: bytes[at..<end], at: at)
            default: bytes.removeSubrange(at...)
            }
        }
        return bytes
    }

    /// Feeds `pieces` in turn; returns the merged events and the error, if any. Fails the test
    /// if the parser asks for more than a few calls per byte (a loop).
    static func run(_ pieces: [[UInt8]], limits: RequestParser.Limits) -> (events: [Ev], error: RequestError?) {
        var parser = RequestParser(limits: limits)
        var buffer = ByteBuffer()
        var events: [Ev] = []
        var calls = 0
        let budget = 8 * (pieces.reduce(0) { $0 + $1.count } + 8)
        do {
            for piece in pieces {
                buffer.writeBytes(piece)
                while let event = try parser.next(&buffer) {
                    events.append(Ev(event))
                    calls += 1
                    if calls > budget {
                        Issue.record("no progress after \(calls) events")
                        return (Ev.merged(events), nil)
                    }
                }
            }
        } catch {
            return (Ev.merged(events), error)
        }
        return (Ev.merged(events), nil)
    }

    static func split(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + Int.random(in: 1...9, using: &rng))
            pieces.append(Array(bytes[start..<end]))
            start = end
        }
        return pieces
    }

    @Test("Mutated requests: never a trap or a loop; the same decision however the bytes are split",
          arguments: [UInt64(1), 2, 3, 4])
    func mutatedRequests(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        // Small limits, so the limit checks are crossed too.
        let limits = RequestParser.Limits(maxRequestLine: 48, maxHeaderSize: 160, maxBodySize: 16)
        for round in 0..<1500 {
            let template = Self.templates[round % Self.templates.count]
            let bytes = Self.mutate(Array(template.utf8), &rng)
            let whole = Self.run([bytes], limits: limits)
            let pieces = Self.run(Self.split(bytes, &rng), limits: limits)
            if whole.events != pieces.events || whole.error != pieces.error {
                Issue.record("""
                    seed \(seed) round \(round): \(String(decoding: bytes, as: UTF8.self).debugDescription)
                    whole:  \(whole.events) \(whole.error.map { "\($0)" } ?? "-")
                    pieces: \(pieces.events) \(pieces.error.map { "\($0)" } ?? "-")
                    """)
                return
            }
        }
    }
}
