import Foundation
import Logging
import NIOCore
import NIOPosix
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// nginx's `auth_request` / Traefik's forwardAuth from a config file, on real sockets, with an
/// oauth2-proxy-like service: 2xx lets the request on with the listed fields copied in (forged
/// ones removed first); 401 and 403 reach the client (or the 401 a login redirect); a 500 is
/// 500, a silent service 504; the body never goes to the service, only to the app; a client
/// that half-closes while its subrequest is in flight is answered; HTTP/2 alike.
@Suite("Auth subrequests: allowed, refused, redirected, timed out, half-closed")
struct AuthRequestTests {
    static func withServer(_ body: (Int, AuthService, ScriptedBackend) async throws -> Void) async throws {
        let service = try await AuthService()
        let app = try await ScriptedBackend("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\napp")
        // Answers only once it has the whole request body: a body or end lost on the way shows.
        let reader = try await TestBackend()
        try await whileRunning(service, app, reader) {
            try await ConfiguredServer.run(yaml: """
                listen: [{ address: "127.0.0.1:0", http2: true }]
                access_log: off
                upstreams:
                  app: { servers: ["127.0.0.1:\(app.port)"] }
                  reader: { servers: ["127.0.0.1:\(reader.port)"] }
                routes:
                  - match: { path: /post/ }
                    proxy: { upstream: reader }
                    auth: { request: { url: "http://127.0.0.1:\(service.port)/oauth2/auth", timeout: 60s } }
                  - match: { path: /login/ }
                    proxy: { upstream: app }
                    auth:
                      request:
                        url: "http://127.0.0.1:\(service.port)/oauth2/auth"
                        redirect_on_401: "https://sso.example.com/start?rd=https://{host}{uri}"
                  - match: { path: /upload }
                    proxy: { upstream: app }
                    auth:
                      request:
                        url: "http://127.0.0.1:\(service.port)/oauth2/auth"
                        copy_headers: [X-Auth-Request-User, X-Auth-Request-Email]
                        timeout: 60s
                  - match: { path: /slow/ }
                    proxy: { upstream: app }
                    auth: { request: { url: "http://127.0.0.1:\(service.port)/oauth2/auth", timeout: 1s } }
                  - match: { path: / }
                    proxy: { upstream: app }
                    auth:
                      request:
                        url: "http://127.0.0.1:\(service.port)/oauth2/auth"
                        copy_headers: [X-Auth-Request-User, X-Auth-Request-Email]
                        timeout: 60s
                """) { port, _ in try await body(port, service, app) }
        }
    }

    static func fetch(_ port: Int, _ request: String, halfCloseAfter: (() async throws -> Void)? = nil) async throws -> ParsedResponse {
        let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
        defer { client.close() }
        try await client.send(request)
        if let halfCloseAfter {
            try await halfCloseAfter()
            try client.shutdownWrite()
        }
        return try #require(await client.readToEnd(timeout: 10).responses().finalResponses.first)
    }

    static func get(_ path: String, cookie: String?, extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: app.example.com\r\n\(cookie.map { "Cookie: \($0)\r\n" } ?? "")\(extra)Connection: close\r\n\r\n"
    }

    @Test("2xx lets the request on with the service's fields; forged ones never reach the app")
    func allowed() async throws {
        try await Self.withServer { port, service, app in
            let forged = "X-Auth-Request-User: admin\r\nAuthorization: Bearer t\r\n"
            let ok = try await Self.fetch(port, Self.get("/data?x=1", cookie: "session=good", extra: forged))
            #expect(ok.status == 200 && ok.bodyString == "app")
            let appHead = try #require(app.heads.last)
            #expect(appHead.contains("X-Auth-Request-User: alice") && !appHead.contains("admin"))
            #expect(appHead.contains("X-Auth-Request-Email: alice@example.com"))
            let asked = try #require(service.heads.last)
            #expect(asked.hasPrefix("GET /oauth2/auth HTTP/1.1"))
            for field in ["Cookie: session=good", "Authorization: Bearer t", "X-Original-URI: /data?x=1", "X-Original-Method: GET",
                          "Host: app.example.com", "X-Forwarded-Proto: http"] {
                #expect(asked.contains(field), "\(field)")
            }
        }
    }

    @Test("401 and 403 reach the client; 401 can be a login redirect; 500 is 500; a silent service 504")
    func refused() async throws {
        try await Self.withServer { port, _, app in
            let none = try await Self.fetch(port, Self.get("/x", cookie: nil))
            #expect(none.status == 401 && none.bodyString == "sign in here")
            #expect(none.header("www-authenticate") == "Bearer realm=\"sso\"")
            let forbidden = try await Self.fetch(port, Self.get("/x", cookie: "session=forbidden"))
            #expect(forbidden.status == 403 && forbidden.bodyString == "not you")
            let login = try await Self.fetch(port, Self.get("/login/here?a=b", cookie: nil))
            #expect(login.status == 302)
            #expect(login.header("location") == "https://sso.example.com/start?rd=https://app.example.com/login/here?a=b")
            let broken = try await Self.fetch(port, Self.get("/x", cookie: "session=broken"))
            #expect(broken.status == 500)
            let slow = try await Self.fetch(port, Self.get("/slow/x", cookie: "session=slow"))
            #expect(slow.status == 504)
            #expect(app.requests.isEmpty, "no refused request reached the app")
        }
    }

    @Test("A POST's body waits for the answer and reaches the app, not the service; a half-close meanwhile is answered")
    func bodyAndHalfClose() async throws {
        try await Self.withServer { port, service, app in
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            defer { client.close() }
            try await client.send("POST /upload HTTP/1.1\r\nHost: app.example.com\r\nCookie: session=gated\r\nContent-Length: 5\r\n\r\nhello")
            try await service.gatedArrived()
            try client.shutdownWrite()
            service.release()
            let response = try #require(await client.readToEnd(timeout: 10).responses().finalResponses.first)
            #expect(response.status == 200 && response.bodyString == "app")
            let appHead = try #require(app.heads.last)
            #expect(appHead.hasPrefix("POST /upload") && appHead.contains("Content-Length: 5") && appHead.contains("X-Auth-Request-User: gated"))
            let asked = try #require(service.heads.last)
            #expect(asked.hasPrefix("GET ") && !asked.lowercased().contains("content-length"), "the service never gets the body")
        }
    }

    @Test("A client that resets while its subrequest is in flight cancels it: the service's connection is closed, the app never asked")
    func resetCancels() async throws {
        try await Self.withServer { port, service, app in
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await client.send(Self.get("/x", cookie: "session=gated"))
            try await service.gatedArrived()
            client.reset()
            try await service.connectionClosed()
            #expect(app.requests.isEmpty)
        }
    }

    @Test("HTTP/2: a POST's DATA held while the service decides reaches the upstream whole, END_STREAM too")
    func http2Body() async throws {
        try await Self.withServer { port, service, _ in
            let client = try await HTTP2TestClient.connect(port: port)
            try await client.request(1, "/post/x", method: "POST", extra: [("cookie", "session=gated"), ("content-length", "5")],
                                     endStream: false, authority: "app.example.com")
            try await client.data(1, "hello", endStream: true)
            try await service.gatedArrived()
            service.release()
            let response = await client.waitForEnd(1)
            #expect(response.status == 200 && response.body == "backend says hi\n", "the upstream answers only after the whole body")
            await client.close()
        }
    }

    @Test("HTTP/2: allowed and refused streams on one connection")
    func http2() async throws {
        try await Self.withServer { port, _, app in
            let client = try await HTTP2TestClient.connect(port: port)
            try await client.request(1, "/a", extra: [("cookie", "session=good")], authority: "app.example.com")
            try await client.request(3, "/b", extra: [("cookie", "session=forbidden")], authority: "app.example.com")
            #expect(await client.waitForEnd(1).body == "app")
            #expect(await client.waitForEnd(3).status == 403)
            #expect(app.heads.last?.contains("X-Auth-Request-User: alice") == true)
            await client.close()
        }
    }
}
