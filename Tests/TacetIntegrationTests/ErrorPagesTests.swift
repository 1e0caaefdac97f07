import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import TacetConfig
import TacetHTTP
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// nginx's `error_page` from a config file, on real sockets: the top level's pages for the
/// router's 404 and for refusals made before any route (400), a route's own over them, allow/deny's
/// 403, the proxy's own 502, an upstream's 500 only where the route intercepts; the status kept,
/// HEAD without a body, HTTP/2 the same.
@Suite("Error pages: own refusals, intercepted upstream errors, top level and per route")
struct ErrorPagesTests {
    static func pages() throws -> String {
        let directory = NSTemporaryDirectory() + "tacet-pages-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in [("404.html", "<h1>lost</h1>"), ("5xx.html", "<h1>down</h1>"), ("400.html", "<h1>bad</h1>"),
                             ("403.txt", "keep out"), ("api-5xx.json", "{\"error\":\"down\"}")] {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        return directory
    }

    static func withServer(backend: Int, _ body: (Int) async throws -> Void) async throws {
        let directory = try pages()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await ConfiguredServer.run(yaml: """
            listen: [{ address: "127.0.0.1:0", http2: true }]
            access_log: off
            error_pages: { 404: 404.html, "5xx": 5xx.html, 400: 400.html }
            upstreams:
              app: { servers: ["127.0.0.1:\(backend)"] }
              nothing: { servers: ["127.0.0.1:1"] }
            routes:
              - match: { path: /private/ }
                respond: { status: 200, body: "secret" }
                allow: [10.0.0.0/8]
                error_pages: { 403: 403.txt }
              - match: { path: /intercepted/ }
                proxy: { upstream: app, intercept: true }
              - match: { path: /api/ }
                proxy: { upstream: app, intercept: true }
                error_pages: { "5xx": api-5xx.json }
              - match: { path: /passed/ }
                proxy: { upstream: app }
              - match: { path: /down/ }
                proxy: { upstream: nothing }
              - match: { path: /404.html }
                static: { root: \(directory) }
                error_pages: { 416: 400.html }
              - match: { path: /here }
                respond: { status: 200, body: "here" }
            """, file: directory + "/tacet.yaml", baseDirectory: directory) { port, _ in try await body(port) }
    }

    static func fetch(_ port: Int, _ request: String, method: String = "GET") async throws -> ParsedResponse {
        let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
        defer { client.close() }
        try await client.send(request)
        return try #require(await client.readToEnd(timeout: 10).responses(requestMethods: [method]).finalResponses.first)
    }

    static func get(_ port: Int, _ path: String, method: String = "GET") async throws -> ParsedResponse {
        try await fetch(port, "\(method) \(path) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", method: method)
    }

    @Test("HTTP/1.1: each refusal its page, with its status; upstream errors only where intercepted")
    func http1() async throws {
        let backend = try await TestBackend(answer: .init(status: .internalServerError, body: "stack trace of the app\n"))
        try await whileRunning(backend) {
            try await Self.withServer(backend: backend.port) { port in
                let lost = try await Self.get(port, "/nowhere")
                #expect(lost.status == 404 && lost.bodyString == "<h1>lost</h1>")
                #expect(lost.header("content-type")?.hasPrefix("text/html") == true)
                #expect(lost.header("content-length") == "13")
                let forbidden = try await Self.get(port, "/private/x")
                #expect(forbidden.status == 403 && forbidden.bodyString == "keep out", "the route's own page")
                let down = try await Self.get(port, "/down/")
                #expect(down.status == 502 && down.bodyString == "<h1>down</h1>", "the proxy's own 502, the top level's 5xx")
                let intercepted = try await Self.get(port, "/intercepted/x")
                #expect(intercepted.status == 500 && intercepted.bodyString == "<h1>down</h1>")
                let api = try await Self.get(port, "/api/x")
                #expect(api.status == 500 && api.bodyString == "{\"error\":\"down\"}")
                #expect(api.header("content-type")?.hasPrefix("application/json") == true)
                let passed = try await Self.get(port, "/passed/x")
                #expect(passed.status == 500 && passed.bodyString == "stack trace of the app\n", "not intercepted: the upstream's")
                let head = try await Self.get(port, "/nowhere", method: "HEAD")
                #expect(head.status == 404 && head.body.isEmpty && head.header("content-length") == "13")
                let bad = try await Self.fetch(port, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n")
                #expect(bad.status == 400 && bad.bodyString == "<h1>bad</h1>", "a refusal before any route")
                let range = try await Self.fetch(port, "GET /404.html HTTP/1.1\r\nHost: t\r\nRange: bytes=999-\r\nConnection: close\r\n\r\n")
                #expect(range.status == 416 && range.bodyString == "<h1>bad</h1>")
                #expect(range.header("content-range") == "bytes */13", "a 416 page keeps the size it reports")
                let fine = try await Self.get(port, "/here")
                #expect(fine.status == 200 && fine.bodyString == "here")
            }
        }
    }

    @Test("HTTP/2: the same pages on streams")
    func http2() async throws {
        let backend = try await TestBackend(answer: .init(status: .internalServerError, body: "stack trace\n"))
        try await whileRunning(backend) {
            try await Self.withServer(backend: backend.port) { port in
                let client = try await HTTP2TestClient.connect(port: port)
                try await client.request(1, "/nowhere")
                try await client.request(3, "/intercepted/y")
                try await client.request(5, "/down/", method: "HEAD")
                let lost = await client.waitForEnd(1)
                #expect(lost.status == 404 && lost.body == "<h1>lost</h1>")
                let intercepted = await client.waitForEnd(3)
                #expect(intercepted.status == 500 && intercepted.body == "<h1>down</h1>")
                let head = await client.waitForEnd(5)
                #expect(head.status == 502 && head.body.isEmpty)
                await client.close()
            }
        }
    }
}
