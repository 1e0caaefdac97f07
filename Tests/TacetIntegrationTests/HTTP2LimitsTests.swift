import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import TacetHTTP
import TacetHTTP2
import TacetTestSupport
import Testing

/// HTTP/2's known attacks, each answered by a GOAWAY and counted: rapid reset
/// (CVE-2023-44487), a CONTINUATION flood (CVE-2024-27316), PING and empty-DATA floods, a
/// header list over the limit. The limits are NIOHTTP2's (Tacet sets the advertised ones);
/// these tests show they hold behind Tacet's listener and reach the metric.
@Suite("HTTP/2: limits and floods")
struct HTTP2LimitsTests {
    final class Errors: HTTPObserver, Sendable {
        let reasons = NIOLockedValueBox<[String]>([])
        func connectionOpened() {}
        func connectionClosed(reason: ConnectionEndReason) {}
        func bytesTransferred(in: Int, out: Int) {}
        func requestFinished(route: String, status: Int, durationNanoseconds: Int64, end: String) {}
        func probeSent(route: String) {}
        func probeAnsweredByReset(route: String) {}
        func http2ConnectionError(reason: String) { reasons.withLockedValue { $0.append(reason) } }
        var all: [String] { reasons.withLockedValue { $0 } }
    }

    static func server(_ errors: Errors, _ responder: any Responder = DelayedResponder(delay: .seconds(30))) async throws -> LiveServer {
        try await LiveServer.start(protocols: HTTP2Protocols(mode: .priorKnowledge), observer: errors) { _ in
            [Router.Route(host: nil, pathPrefix: "/", responder: responder)]
        }
    }

    static func goAwayCode(_ client: HTTP2TestClient) -> HTTP2ErrorCode? {
        client.connectionFrames.lazy.compactMap { frame -> HTTP2ErrorCode? in
            if case .goAway(_, let code, _) = frame.payload { return code } else { return nil }
        }.first
    }

    @Test("Rapid reset: streams opened and reset past the limit get GOAWAY ENHANCE_YOUR_CALM, counted as rapid_reset")
    func rapidReset() async throws {
        let errors = Errors()
        let live = try await Self.server(errors)
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            for i in 0..<250 {
                let stream = 1 + 2 * i
                try? await client.request(stream, "/")
                try? await client.reset(stream)
                if client.isClosed { break }
            }
            #expect(await client.wait { Self.goAwayCode($0) != nil && $0.isClosed })
            #expect(Self.goAwayCode(client) == .enhanceYourCalm)
            #expect(errors.all == ["rapid_reset"], "\(errors.all)")
        }
    }

    @Test("PING flood: the connection closed, counted as control_frame_flood")
    func pingFlood() async throws {
        let errors = Errors()
        let live = try await Self.server(errors)
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            for i in 0..<400 where !client.isClosed {
                try? await client.send(HTTP2Frame(streamID: .rootStream, payload: .ping(HTTP2PingData(withInteger: UInt64(i)), ack: false)))
            }
            #expect(await client.wait { $0.isClosed })
            #expect(errors.all == ["control_frame_flood"], "\(errors.all)")
        }
    }

    @Test("Empty DATA flood: GOAWAY, counted as empty_data_flood")
    func emptyDataFlood() async throws {
        let errors = Errors()
        let live = try await Self.server(errors)
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/upload", method: "POST", endStream: false)
            for _ in 0..<10 where !client.isClosed { try? await client.data(1, "", endStream: false) }
            #expect(await client.wait { Self.goAwayCode($0) != nil && $0.isClosed })
            #expect(errors.all == ["empty_data_flood"], "\(errors.all)")
        }
    }

    @Test("CONTINUATION flood (raw frames): GOAWAY, counted as continuation_flood")
    func continuationFlood() async throws {
        let errors = Errors()
        let live = try await Self.server(errors)
        try await whileRunning(live) {
            let client = try await live.connect()
            var bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
            bytes += Self.frame(type: 0x4, flags: 0, stream: 0, payload: [])           // SETTINGS
            bytes += Self.frame(type: 0x1, flags: 0x1, stream: 1, payload: [0x82])     // HEADERS, END_STREAM, no END_HEADERS
            for _ in 0..<50 { bytes += Self.frame(type: 0x9, flags: 0, stream: 1, payload: [0x84]) }  // CONTINUATION
            try? await client.write(bytes)
            let read = await client.readToEnd(timeout: 10)
            #expect(read.end != .timeout)
            #expect(Self.containsGoAway(read.bytes))
            #expect(await eventually { errors.all == ["continuation_flood"] }, "\(errors.all)")
        }
    }

    @Test("A header list over the advertised 32 KiB (raw frames): 431 as on HTTP/1.1, never a crash; the server goes on")
    func headerListTooLarge() async throws {
        let errors = Errors()
        let live = try await Self.server(errors, FixedResponder(status: .ok, body: "ok\n"))
        try await whileRunning(live) {
            let client = try await live.connect()
            var block: [UInt8] = [0x82, 0x84, 0x86, 0x41, 0x01, UInt8(ascii: "h")]  // GET / http, :authority h
            for i in 0..<40 {
                block += [0x00] + Self.string("x-big-\(i)") + Self.string(String(repeating: "v", count: 1000))
            }
            var bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + Self.frame(type: 0x4, flags: 0, stream: 0, payload: [])
            let chunks = stride(from: 0, to: block.count, by: 16_000).map { Array(block[$0..<min($0 + 16_000, block.count)]) }
            for (i, chunk) in chunks.enumerated() {
                let last: UInt8 = i == chunks.count - 1 ? 0x4 : 0
                bytes += Self.frame(type: i == 0 ? 0x1 : 0x9, flags: (i == 0 ? 0x1 : 0) | last, stream: 1, payload: chunk)
            }
            try? await client.write(bytes)
            // A stream reset (RST_STREAM), a GOAWAY, or a response that is not the 200.
            let read = await client.read(until: { Self.frameTypes($0).contains { [0x3, 0x7, 0x1].contains($0) } }, timeout: 10)
            let types = Self.frameTypes(read.bytes)
            #expect(types.contains { [0x3, 0x7, 0x1].contains($0) } || read.end != .timeout, "frames: \(types)")
            #expect(!String(decoding: read.bytes, as: UTF8.self).contains("ok\n"))
            var seen = read.bytes
            if !String(decoding: seen, as: UTF8.self).contains("too large\n") {
                seen += await client.read(until: { String(decoding: $0, as: UTF8.self).contains("too large\n") }, timeout: 10).bytes
            }
            #expect(String(decoding: seen, as: UTF8.self).contains("request header fields too large\n"))
            // Logged with its request line, as HTTP/1.1 logs its 431 (and nginx), not "-".
            #expect(await live.waitForAccessLog(containing: "\"GET / HTTP/2.0\" 431"), "\(live.accessLogLines)")
            // The listener still serves.
            let next = try await HTTP2TestClient.connect(port: live.port)
            try await next.request(1, "/")
            #expect(await next.waitForEnd(1).body == "ok\n")
            await next.close()
        }
    }

    /// An HPACK string literal, no Huffman: 7-bit prefix length, then the bytes.
    static func string(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var n = bytes.count
        if n < 127 {
            out.append(UInt8(n))
        } else {
            out.append(127)
            n -= 127
            while n >= 128 { out.append(UInt8(n & 0x7F | 0x80)); n >>= 7 }
            out.append(UInt8(n))
        }
        return out + bytes
    }

    static func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        let n = payload.count
        return [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags,
                UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)] + payload
    }

    /// The types of the whole frames in what the server sent.
    static func frameTypes(_ bytes: [UInt8]) -> [UInt8] {
        var types: [UInt8] = []
        var i = 0
        while i + 9 <= bytes.count {
            let length = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            guard i + 9 + length <= bytes.count else { break }
            types.append(bytes[i + 3])
            i += 9 + length
        }
        return types
    }

    static func containsGoAway(_ bytes: [UInt8]) -> Bool { frameTypes(bytes).contains(0x7) }
}
