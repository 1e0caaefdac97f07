import Logging
import NIOCore
import NIOPosix
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// Server names as an nginx user writes them, from a config file, on real sockets: a host alone
/// (the redirect of an old name), a wildcard, exact names first, `default_host` for the rest;
/// HTTP/1.1 and HTTP/2 (`:authority`) alike, and 400 for a Host no host can be.
@Suite("Host routing: host alone, wildcards, default_host, over HTTP/1.1 and HTTP/2")
struct HostRoutingIntegrationTests {
    static let yaml = """
        listen: [{ address: "127.0.0.1:0", http2: true }]
        access_log: off
        default_host: example.com
        routes:
          - match: { path: / }
            respond: { status: 200, body: "no host" }
          - match: { host: "*.example.com" }
            respond: { status: 200, body: "wildcard" }
          - match: { host: [example.com, www.example.com] }
            respond: { status: 200, body: "main" }
          - match: { host: api.example.com, path: /v1/ }
            respond: { status: 200, body: "api v1" }
          - match: { host: old.example.com }
            redirect: { to: "https://example.com{uri}", status: 308 }
        """

    static func withServer(_ body: (Int) async throws -> Void) async throws {
        try await ConfiguredServer.run(yaml: yaml) { port, _ in try await body(port) }
    }

    @Test("HTTP/1.1: each Host gets its server's route")
    func http1() async throws {
        try await Self.withServer { port in
            func fetch(_ path: String, host: String) async throws -> ParsedResponse {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
                defer { client.close() }
                try await client.send("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
                return try #require(await client.readToEnd(timeout: 10).responses().finalResponses.first)
            }
            #expect(try await fetch("/anything", host: "www.example.com").bodyString == "main")
            #expect(try await fetch("/v1/users", host: "API.example.com:8080").bodyString == "api v1")
            #expect(try await fetch("/v2/", host: "api.example.com").bodyString == "wildcard", "no /v2/ on api: the wildcard's")
            #expect(try await fetch("/", host: "deep.shop.example.com.").bodyString == "wildcard")
            #expect(try await fetch("/", host: "unknown.org").bodyString == "main", "default_host")
            let moved = try await fetch("/a/b?c=d", host: "old.example.com")
            #expect(moved.status == 308)
            #expect(moved.header("location") == "https://example.com/a/b?c=d")
            let bad = try await fetch("/", host: "example.com:x")
            #expect(bad.status == 400)
        }
    }

    @Test("HTTP/2: :authority routes the same way")
    func http2() async throws {
        try await Self.withServer { port in
            let client = try await HTTP2TestClient.connect(port: port)
            try await client.request(1, "/v1/x", authority: "api.example.com")
            try await client.request(3, "/", authority: "a.example.com")
            try await client.request(5, "/", authority: "nowhere.test")
            try await client.request(7, "/p?q=1", authority: "old.example.com:443")
            #expect(await client.waitForEnd(1).body == "api v1")
            #expect(await client.waitForEnd(3).body == "wildcard")
            #expect(await client.waitForEnd(5).body == "main")
            let moved = await client.waitForEnd(7)
            #expect(moved.status == 308)
            #expect(moved.headerBlocks.first?.first(name: "location") == "https://example.com/p?q=1")
            await client.close()
        }
    }
}
