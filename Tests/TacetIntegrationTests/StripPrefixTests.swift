import NIOCore
import TacetConfig
import TacetHTTP
@testable import TacetProxy
import TacetTestSupport
import Testing

/// `strip_prefix`: the route's prefix taken off the path the upstream sees (nginx's
/// `location /api/ { proxy_pass http://app/; }`); the access log keeps what the client sent.
@Suite("Proxy: strip_prefix")
struct StripPrefixTests {
    @Test("The upstream sees the path without the prefix, the query kept")
    func stripped() async throws {
        let backend = try await TestBackend()
        let live = try await LiveServer.start { group in
            let upstream = Upstream(name: "app", selector: SingleServer(host: "127.0.0.1", port: backend.port),
                                    settings: Upstream.Settings(), group: group)
            return [Router.Route(host: nil, pathPrefix: "/api/", responder: ProxyResponder(upstream: upstream, stripPrefix: "/api"))]
        }
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/api/users/7?full=1", "Connection: close\r\n"))
            #expect(await client.readToEnd(timeout: 10).responses().finalResponses.first?.status == 200)
            #expect(backend.recorder.all.contains { $0.hasPrefix("request GET /users/7?full=1") }, "\(backend.recorder.all)")
            #expect(await live.waitForAccessLog(containing: "GET /api/users/7?full=1"))
        }
    }

    @Test("Where the prefix ends: a segment boundary, the bare prefix, a longer name left alone")
    func boundaries() {
        #expect(ProxyResponder.stripping("/api", from: "/api/x") == "/x")
        #expect(ProxyResponder.stripping("/api", from: "/api") == "/")
        #expect(ProxyResponder.stripping("/api", from: "/api?q=1") == "/?q=1")
        #expect(ProxyResponder.stripping("/api", from: "/apix/y") == nil)
        #expect(ProxyResponder.stripping("/api", from: "/other") == nil)
    }

    @Test("Configuration: a trailing slash is dropped; something that is not a path prefix is refused")
    func configuration() throws {
        func proxy(_ strip: String) throws -> ProxyConfig? {
            let config = try ConfigLoader.parse(yaml: """
                routes:
                  - match: { path: /api/ }
                    proxy: { to: "127.0.0.1:9000", strip_prefix: "\(strip)" }
                """, file: "tacet.yaml", baseDirectory: "/")
            guard case .proxy(let proxy) = config.routes.first?.action else { return nil }
            return proxy
        }
        #expect(try proxy("/api/")?.stripPrefix == "/api")
        #expect(try proxy("/api")?.stripPrefix == "/api")
        #expect(throws: ConfigError.self) { _ = try proxy("api") }
        #expect(throws: ConfigError.self) { _ = try proxy("/") }
    }
}
