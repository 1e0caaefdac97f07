import Foundation
import NIOCore
import NIOHTTP1
import TacetCompression
import TacetHTTP
import TacetHTTP2
@testable import TacetProxy
@testable import TacetServer
import TacetStatic
import TacetProbe
import TacetTestSupport
import Testing

/// Compression on real sockets: static files, fixed responses and proxied ones, over HTTP/1.1
/// and HTTP/2, every body decoded by Python's decoders and compared with the original.
@Suite("Compression end to end")
struct CompressionTests {
    static let settings = CompressionSettings()
    static let script = EncoderTestsSample.text(200_000)

    /// A root with `app.js` (200 KB), `data.json` (10 KB) and `logo.png`.
    static func makeRoot() throws -> String {
        let root = NSTemporaryDirectory() + "tacet-compression-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data(script).write(to: URL(fileURLWithPath: root + "/app.js"))
        try Data(EncoderTestsSample.text(10_000)).write(to: URL(fileURLWithPath: root + "/data.json"))
        try Data(repeating: 7, count: 5000).write(to: URL(fileURLWithPath: root + "/logo.png"))
        return root
    }

    static func staticServer(root: String, precompressed: [ContentCoding] = [], http2: Bool = false) async throws -> LiveServer {
        let responder = CompressionResponder(settings: settings, next: StaticResponder(root: root, precompressed: precompressed))
        return try await LiveServer.start(protocols: http2 ? HTTP2Protocols(mode: .priorKnowledge) : nil) { _ in
            [Router.Route(host: nil, pathPrefix: "/", responder: responder)]
        }
    }

    static func fetch(_ live: LiveServer, _ path: String, _ fields: String = "", method: String = "GET") async throws -> ParsedResponse {
        let client = try await live.connect()
        try await client.send("\(method) \(path) HTTP/1.1\r\nHost: test\r\n\(fields)Connection: close\r\n\r\n")
        let response = await client.readToEnd(timeout: 20).responses(requestMethods: [method]).finalResponses.first
        client.close()
        return try #require(response)
    }

    @Test("Static over HTTP/1.1: each coding decodes to the file; no Accept-Encoding gets the file as it is, with Vary; HEAD the GET's fields")
    func staticHTTP1() async throws {
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let live = try await Self.staticServer(root: root)
        try await whileRunning(live) {
            for coding in ["gzip", "br", "zstd"] {
                let response = try await Self.fetch(live, "/app.js", "Accept-Encoding: \(coding)\r\n")
                #expect(response.status == 200)
                #expect(response.header("content-encoding") == coding)
                #expect(response.header("vary") == "Accept-Encoding")
                #expect(response.header("etag")?.hasSuffix("-\(coding)\"") == true)
                #expect(response.body.count < Self.script.count / 2)
                #expect(try await ContentDecoding.decode(response.body, coding: coding) == Self.script, "\(coding)")
            }
            let plain = try await Self.fetch(live, "/app.js")
            #expect(plain.header("content-encoding") == nil)
            #expect(plain.header("vary") == "Accept-Encoding")
            #expect(plain.header("content-length") == "\(Self.script.count)")
            #expect(plain.body == Self.script)
            let small = try await Self.fetch(live, "/data.json", "Accept-Encoding: gzip, br\r\n")
            #expect(small.header("content-encoding") == "br")
            #expect(small.header("content-length") == "\(small.body.count)", "a small file's compressed length is known")
            #expect(try await ContentDecoding.decode(small.body, coding: "br") == EncoderTestsSample.text(10_000))
            let image = try await Self.fetch(live, "/logo.png", "Accept-Encoding: gzip\r\n")
            #expect(image.header("content-encoding") == nil && image.header("vary") == nil && image.body.count == 5000)
            let head = try await Self.fetch(live, "/app.js", "Accept-Encoding: gzip\r\n", method: "HEAD")
            #expect(head.header("content-encoding") == "gzip" && head.body.isEmpty)
            let range = try await Self.fetch(live, "/app.js", "Accept-Encoding: gzip\r\nRange: bytes=0-99\r\n")
            #expect(range.status == 206 && range.header("content-encoding") == nil && range.body == Array(Self.script.prefix(100)),
                    "ranges are of the identity representation")
            #expect(await live.waitForAccessLog(containing: " enc=zstd ratio=0."))
        }
    }

    @Test("If-None-Match with either validator: 304 for the variant it names")
    func conditionals() async throws {
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let live = try await Self.staticServer(root: root)
        try await whileRunning(live) {
            let first = try await Self.fetch(live, "/app.js", "Accept-Encoding: gzip\r\n")
            let variant = try #require(first.header("etag"))
            let identity = try #require(try await Self.fetch(live, "/app.js").header("etag"))
            #expect(variant != identity)
            let again = try await Self.fetch(live, "/app.js", "Accept-Encoding: gzip\r\nIf-None-Match: \(variant)\r\n")
            #expect(again.status == 304 && again.header("etag") == variant && again.header("vary") == "Accept-Encoding")
            let plain = try await Self.fetch(live, "/app.js", "If-None-Match: \(identity)\r\n")
            #expect(plain.status == 304 && plain.header("etag") == identity)
            let other = try await Self.fetch(live, "/app.js", "Accept-Encoding: br\r\nIf-None-Match: \(variant)\r\n")
            #expect(other.status == 200 && other.header("content-encoding") == "br", "a gzip validator does not match the br variant")
        }
    }

    @Test("A client reading one byte at a time through a small receive buffer gets the whole compressed body")
    func oneByteReads() async throws {
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let live = try await Self.staticServer(root: root)
        try await whileRunning(live) {
            let port = live.port
            let bytes = try await blocking { try SlowReader.get(port: port, request: "GET /app.js HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n") }
            let response = try #require(HTTPResponseParser.parse(bytes, endedWithFIN: true).finalResponses.first)
            #expect(response.isComplete)
            #expect(try await ContentDecoding.decode(response.body, coding: "gzip") == Self.script)
        }
    }

    @Test("HTTP/2: static and fixed responses compressed through the same layer, decoded")
    func http2() async throws {
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fixedBody = String(repeating: "fixed response text ", count: 200)
        let fixed = CompressionResponder(settings: Self.settings, next: FixedResponder(status: .ok, body: fixedBody))
        let files = CompressionResponder(settings: Self.settings, next: StaticResponder(root: root))
        let live = try await LiveServer.start(protocols: HTTP2Protocols(mode: .priorKnowledge)) { _ in
            [Router.Route(host: nil, pathPrefix: "/fixed", responder: fixed), Router.Route(host: nil, pathPrefix: "/", responder: files)]
        }
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/app.js", extra: [("accept-encoding", "gzip, br, zstd")])
            try await client.request(3, "/fixed", extra: [("accept-encoding", "gzip")])
            try await client.request(5, "/data.json", extra: [("accept-encoding", "br;q=0.5, gzip;q=0.9")])
            let script = await client.waitForEnd(1)
            #expect(script.headerBlocks.first?.first(name: "content-encoding") == "zstd")
            #expect(try await ContentDecoding.decode(script.bodyBytes, coding: "zstd") == Self.script)
            let small = await client.waitForEnd(3)
            #expect(small.headerBlocks.first?.first(name: "content-length") == "\(small.bodyBytes.count)")
            #expect(try await ContentDecoding.decode(small.bodyBytes, coding: "gzip") == Array(fixedBody.utf8))
            let json = await client.waitForEnd(5)
            #expect(json.headerBlocks.first?.first(name: "content-encoding") == "gzip")
            #expect(try await ContentDecoding.decode(json.bodyBytes, coding: "gzip") == EncoderTestsSample.text(10_000))
            await client.close()
        }
    }

    static func proxyServer(_ backend: PushBackend, http2: Bool = false) async throws -> LiveServer {
        try await LiveServer.start(protocols: http2 ? HTTP2Protocols(mode: .priorKnowledge) : nil) { group in
            let upstream = Upstream(name: "app", selector: SingleServer(host: "127.0.0.1", port: backend.port),
                                    settings: Upstream.Settings(), group: group)
            return [Router.Route(host: nil, pathPrefix: "/", responder: CompressionResponder(settings: Self.settings, next: ProxyResponder(upstream: upstream)))]
        }
    }

    @Test("Proxied: a body the upstream writes in pieces is compressed as it comes; Vary merged; the upstream's own gzip untouched")
    func proxied() async throws {
        let backend = try await PushBackend()
        let live = try await Self.proxyServer(backend)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/page", "Accept-Encoding: gzip\r\nConnection: close\r\n"))
            let upstream = try await backend.nextRequest()
            let body = EncoderTestsSample.text(50_000)
            try await upstream.push("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nVary: Origin\r\nContent-Length: \(body.count)\r\n\r\n")
            var offset = 0
            while offset < body.count {
                let end = min(offset + 7_000, body.count)
                try await upstream.push(Array(body[offset..<end]))
                offset = end
            }
            let response = try #require(await client.readToEnd(timeout: 20).responses().finalResponses.first)
            #expect(response.header("content-encoding") == "gzip")
            #expect(response.headers.filter { $0.0.lowercased() == "vary" }.map(\.1) == ["Origin", "Accept-Encoding"])
            #expect(try await ContentDecoding.decode(response.body, coding: "gzip") == body)

            let second = try await live.connect()
            try await second.send(get("/gz", "Accept-Encoding: gzip, br\r\nConnection: close\r\n"))
            let already = try await backend.nextRequest()
            let encoded = [UInt8](repeating: 0x1f, count: 900)
            try await already.push("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: 900\r\n\r\n")
            try await already.push(encoded)
            let passed = try #require(await second.readToEnd(timeout: 20).responses().finalResponses.first)
            #expect(passed.header("content-encoding") == "gzip" && passed.body == encoded && passed.header("vary") == nil)
        }
    }

    @Test("If-None-Match for the variant reaches the upstream as its own validator; its 304 comes back with the variant's")
    func proxiedRevalidation() async throws {
        let backend = try await PushBackend()
        let live = try await Self.proxyServer(backend)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/doc", "Accept-Encoding: gzip\r\nIf-None-Match: \"v7-gzip\"\r\nConnection: close\r\n"))
            let upstream = try await backend.nextRequest()
            #expect(backend.heads.last?.contains("If-None-Match: \"v7\"\r\n") == true, "\(backend.heads)")
            try await upstream.push("HTTP/1.1 304 Not Modified\r\nETag: \"v7\"\r\n\r\n")
            let response = try #require(await client.readToEnd(timeout: 20).responses().finalResponses.first)
            #expect(response.status == 304 && response.header("etag") == "\"v7-gzip\"" && response.header("vary") == "Accept-Encoding")
        }
    }

    @Test("An event stream: each event reaches the client, decodable, before the upstream sends the next (HTTP/1.1 and HTTP/2)", arguments: [false, true])
    func eventStream(http2: Bool) async throws {
        let backend = try await PushBackend()
        let live = try await Self.proxyServer(backend, http2: http2)
        try await whileRunning(live, backend) {
            let events = (0..<4).map { Array("data: event \($0) \(String(repeating: "x", count: 40))\n\n".utf8) }
            if http2 {
                let client = try await HTTP2TestClient.connect(port: live.port)
                try await client.request(1, "/events", extra: [("accept-encoding", "gzip")])
                let upstream = try await backend.nextRequest()
                try await upstream.push("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
                var sent: [UInt8] = []
                for event in events {
                    try await upstream.pushChunk(event)
                    sent += event
                    let expected = sent
                    let seen = await client.wait { client in
                        ContentDecoding.gunzipPrefix(client.response(1).bodyBytes) == expected
                    }
                    #expect(seen, "event \(events.firstIndex(of: event) ?? -1) not seen")
                }
                try await upstream.push("0\r\n\r\n")
                let response = await client.waitForEnd(1)
                #expect(response.headerBlocks.first?.first(name: "content-encoding") == "gzip")
                #expect(try await ContentDecoding.decode(response.bodyBytes, coding: "gzip") == sent)
                await client.close()
            } else {
                let client = try await live.connect()
                try await client.send(get("/events", "Accept-Encoding: gzip\r\nConnection: close\r\n"))
                let upstream = try await backend.nextRequest()
                try await upstream.push("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
                var sent: [UInt8] = []
                var received: [UInt8] = []
                for event in events {
                    try await upstream.pushChunk(event)
                    sent += event
                    let (expected, before) = (sent, received)
                    let result = await client.read(until: { bytes in
                        guard let body = HTTPResponseParser.parse(before + bytes).responses.first?.body else { return false }
                        return ContentDecoding.gunzipPrefix(body) == expected
                    }, timeout: 20)
                    received += result.bytes
                    #expect(result.end == .open, "event not seen: \(result.end)")
                }
                try await upstream.push("0\r\n\r\n")
                received += await client.readToEnd(timeout: 20).bytes
                let response = try #require(HTTPResponseParser.parse(received, endedWithFIN: true).finalResponses.first)
                #expect(response.isComplete)
                #expect(try await ContentDecoding.decode(response.body, coding: "gzip") == sent)
            }
        }
    }

    @Test("An upstream that stops short: the compressed response ends as a truncation (no last chunk, a close), never whole")
    func truncated() async throws {
        let backend = try await PushBackend()
        let live = try await Self.proxyServer(backend)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/cut", "Accept-Encoding: gzip\r\n"))
            let upstream = try await backend.nextRequest()
            try await upstream.push("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n")
            try await upstream.push(EncoderTestsSample.text(40_000))
            try await upstream.close()
            let result = await client.readToEnd(timeout: 20)
            let response = try #require(result.responses().finalResponses.first)
            #expect(response.header("content-encoding") == "gzip")
            #expect(!response.isComplete, "no terminating chunk")
            await #expect(throws: ContentDecoding.Failure.self) { try await ContentDecoding.decode(response.body, coding: "gzip") }
        }
    }
}

extension CompressionTests {
    @Test("Upgrade through a compressing route with header rules: the 101's tunnel still forms (the handover passes through the wrappers)")
    func upgradeThroughWrappers() async throws {
        let backend = try await UpgradeBackend()
        let rules = try HeaderRulesTests.rules("""
                  response: { set: { X-Wrapped: "yes" } }
            """)
        let live = try await LiveServer.start { group in
            let upstream = Upstream(name: "ws", selector: SingleServer(host: "127.0.0.1", port: backend.port),
                                    settings: Upstream.Settings(), group: group)
            let wrapped = CompressionResponder(settings: Self.settings,
                                               next: HeaderRulesResponder(rules: rules, next: ProxyResponder(upstream: upstream)))
            return [Router.Route(host: nil, pathPrefix: "/", responder: wrapped)]
        }
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.write("GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\nAccept-Encoding: gzip\r\n\r\n")
            let head = await client.read(until: { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }, timeout: 5)
            #expect(head.string.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"), "\(head.string)")
            #expect(head.string.contains("X-Wrapped: yes"))
            try await client.write("hello")
            let echo = await client.read(until: { String(decoding: $0, as: UTF8.self).hasSuffix("hello") }, timeout: 5)
            #expect(echo.string.hasSuffix("hello"))
            try client.shutdownWrite()
            let rest = await client.readToEnd(timeout: 5)
            #expect(rest.string.hasSuffix("bye") && rest.end == .fin)
        }
    }
}

/// The compression tests' sample text, for bodies here.
enum EncoderTestsSample {
    static func text(_ count: Int) -> [UInt8] { SampleText.text(count, seed: UInt64(count)) }
}

/// A blocking client that reads its response one byte per recv(2), through a 4 KiB receive
/// buffer: the server meets a slow reader and partial writes all the way.
enum SlowReader {
    static func get(port: Int, request: String) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket") }
        defer { close(fd) }
        var size: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect") }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw TestFailure("send") }
        var received: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = recv(fd, &byte, 1, 0)
            if n == 1 { received.append(byte); continue }
            if n == 0 { return received }
            throw TestFailure("recv failed after \(received.count) bytes: errno \(errno)")
        }
    }
}
