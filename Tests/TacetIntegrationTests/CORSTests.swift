import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// A route's `cors:` from a config file, on real sockets: the preflight answered 204 by Tacet
/// (before allow/deny), actual responses (errors too) given Allow-Origin only for a listed
/// origin, never a reflected one, an app's own CORS fields replaced, Vary: Origin always.
@Suite("CORS: preflight, listed origins only, on errors too, HTTP/1.1 and HTTP/2")
struct CORSTests {
    static let yaml = """
        listen: [{ address: "127.0.0.1:0", http2: true }]
        access_log: off
        routes:
          - match: { path: /api/ }
            respond: { status: 200, body: "data", headers: { Access-Control-Allow-Origin: "*", Vary: Accept-Encoding } }
            cors:
              origins: ["https://example.com", "https://*.example.org"]
              methods: [GET, POST]
              headers: [Content-Type, Authorization]
              expose: [X-Total]
              credentials: true
              max_age: 600
          - match: { path: /locked/ }
            respond: { status: 200, body: "inside" }
            allow: [10.0.0.0/8]
            cors: { origins: ["https://example.com"] }
          - match: { path: /public/ }
            respond: { status: 200, body: "open" }
            cors: { origins: ["*"] }
        """

    static func withServer(_ body: (Int) async throws -> Void) async throws {
        try await ConfiguredServer.run(yaml: yaml) { port, _ in try await body(port) }
    }

    static func fetch(_ port: Int, _ method: String, _ path: String, _ fields: String) async throws -> ParsedResponse {
        let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
        defer { client.close() }
        try await client.send("\(method) \(path) HTTP/1.1\r\nHost: t\r\n\(fields)Connection: close\r\n\r\n")
        return try #require(await client.readToEnd(timeout: 10).responses(requestMethods: [method]).finalResponses.first)
    }

    @Test("Preflight: 204 with the allowed values for a listed origin; nothing but Vary for another")
    func preflight() async throws {
        try await Self.withServer { port in
            let ask = "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n"
            let ok = try await Self.fetch(port, "OPTIONS", "/api/x", "Origin: https://example.com\r\n" + ask)
            #expect(ok.status == 204 && ok.body.isEmpty)
            #expect(ok.header("access-control-allow-origin") == "https://example.com")
            #expect(ok.header("access-control-allow-methods") == "GET, POST")
            #expect(ok.header("access-control-allow-headers") == "Content-Type, Authorization")
            #expect(ok.header("access-control-allow-credentials") == "true")
            #expect(ok.header("access-control-max-age") == "600")
            #expect(ok.header("vary")?.contains("Origin") == true)
            let sub = try await Self.fetch(port, "OPTIONS", "/api/x", "Origin: https://shop.example.org\r\n" + ask)
            #expect(sub.header("access-control-allow-origin") == "https://shop.example.org")
            let evil = try await Self.fetch(port, "OPTIONS", "/api/x", "Origin: https://example.com.evil.net\r\n" + ask)
            #expect(evil.status == 204 && evil.header("access-control-allow-origin") == nil && evil.header("vary") != nil)
            let bare = try await Self.fetch(port, "OPTIONS", "/api/x", "Origin: https://example.org\r\n" + ask)
            #expect(bare.header("access-control-allow-origin") == nil, "a wildcard needs a label in front")
            let locked = try await Self.fetch(port, "OPTIONS", "/locked/", "Origin: https://example.com\r\n" + ask)
            #expect(locked.status == 204, "preflight answered before allow/deny")
        }
    }

    @Test("Actual responses: the listed origin named back, the app's * replaced, Vary merged; errors too; * without credentials")
    func actual() async throws {
        try await Self.withServer { port in
            let ok = try await Self.fetch(port, "GET", "/api/x", "Origin: https://example.com\r\n")
            #expect(ok.bodyString == "data")
            #expect(ok.headers.filter { $0.0.lowercased() == "access-control-allow-origin" }.map(\.1) == ["https://example.com"])
            #expect(ok.header("access-control-allow-credentials") == "true")
            #expect(ok.header("access-control-expose-headers") == "X-Total")
            #expect(ok.header("vary") == "Accept-Encoding, Origin")
            let other = try await Self.fetch(port, "GET", "/api/x", "Origin: https://attacker.example\r\n")
            #expect(other.header("access-control-allow-origin") == nil, "neither reflected nor the app's *")
            #expect(other.header("vary") == "Accept-Encoding, Origin")
            let none = try await Self.fetch(port, "GET", "/api/x", "")
            #expect(none.header("access-control-allow-origin") == nil)
            let forbidden = try await Self.fetch(port, "GET", "/locked/", "Origin: https://example.com\r\n")
            #expect(forbidden.status == 403 && forbidden.header("access-control-allow-origin") == "https://example.com")
            let open = try await Self.fetch(port, "GET", "/public/", "Origin: https://anyone.example\r\n")
            #expect(open.header("access-control-allow-origin") == "*" && open.header("access-control-allow-credentials") == nil)
        }
    }

    @Test("HTTP/2: preflight and actual response on streams")
    func http2() async throws {
        try await Self.withServer { port in
            let client = try await HTTP2TestClient.connect(port: port)
            try await client.request(1, "/api/x", method: "OPTIONS",
                                     extra: [("origin", "https://example.com"), ("access-control-request-method", "POST")])
            try await client.request(3, "/api/x", extra: [("origin", "https://a.example.org")])
            let preflight = await client.waitForEnd(1)
            #expect(preflight.status == 204)
            #expect(preflight.headerBlocks.first?.first(name: "access-control-allow-origin") == "https://example.com")
            let actual = await client.waitForEnd(3)
            #expect(actual.body == "data")
            #expect(actual.headerBlocks.first?.first(name: "access-control-allow-origin") == "https://a.example.org")
            await client.close()
        }
    }
}
