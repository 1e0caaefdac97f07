import Logging
import NIOCore
import TacetConfig
import TacetServer
import TacetTestSupport
import Testing

/// Per-route `allow` / `deny` by client network: 403 for the others, the client being the one a
/// trusted balancer's PROXY header names when there is one.
@Suite("Access control per route")
struct AccessControlTests {
    static let yaml = """
        trusted_proxies: ["127.0.0.1"]
        listen:
          - "127.0.0.1:0"
          - { address: "127.0.0.2:0", proxy_protocol: true }
        access_log: off
        routes:
          - match: { path: /admin/ }
            allow: ["10.0.0.0/8"]
            respond: { status: 200, body: "admin\\n" }
          - match: { path: /closed/ }
            deny: ["127.0.0.1", "::1"]
            respond: { status: 200, body: "closed\\n" }
          - match: { path: / }
            allow: ["127.0.0.0/8", "10.0.0.0/8"]
            deny: ["10.9.0.0/16"]
            respond: { status: 200, body: "open\\n" }
        """

    static func status(host: String = "127.0.0.1", port: Int, _ path: String, proxyHeader: String = "") async throws -> Int? {
        let client = try await OffPoolClient.connect(host: host, port: port)
        try await client.write(proxyHeader + get(path, "Connection: close\r\n"))
        return await client.readToEnd(timeout: 10).responses().finalResponses.first?.status
    }

    @Test("allow, deny, and deny winning over allow; the PROXY header's client is the one checked")
    func allowAndDeny() async throws {
        let config = try ConfigLoader.parse(yaml: Self.yaml, file: "tacet.yaml", baseDirectory: "/")
        let server = try TacetServer(configuration: config, threads: 1, logger: ReloadTests.quiet)
        try await whileRunning(server) {
            let ports = try await server.start().map { $0.port ?? 0 }
            let (plain, proxied) = (ports[0], ports[1])
            #expect(try await Self.status(port: plain, "/admin/x") == 403)
            #expect(try await Self.status(port: plain, "/closed/x") == 403)
            #expect(try await Self.status(port: plain, "/") == 200)
            let inside = "PROXY TCP4 10.1.2.3 127.0.0.1 5000 80\r\n"
            let denied = "PROXY TCP4 10.9.1.1 127.0.0.1 5000 80\r\n"
            let outside = "PROXY TCP4 192.0.2.1 127.0.0.1 5000 80\r\n"
            #expect(try await Self.status(host: "127.0.0.2", port: proxied, "/admin/x", proxyHeader: inside) == 200)
            #expect(try await Self.status(host: "127.0.0.2", port: proxied, "/admin/x", proxyHeader: outside) == 403)
            #expect(try await Self.status(host: "127.0.0.2", port: proxied, "/closed/x", proxyHeader: inside) == 200)
            #expect(try await Self.status(host: "127.0.0.2", port: proxied, "/", proxyHeader: denied) == 403)
            #expect(try await Self.status(host: "127.0.0.2", port: proxied, "/", proxyHeader: outside) == 403)
        }
    }

    @Test("A network that is not one is refused with the route's line and key")
    func badNetwork() throws {
        let config = try ConfigLoader.parse(yaml: """
            routes:
              - match: { path: / }
                allow: ["10.0.0.0/40"]
                respond: { status: 200, body: "x" }
            """, file: "tacet.yaml", baseDirectory: "/")
        #expect(throws: ListenerSetupError.self) { _ = try ListenerSetup.specs(config, logger: ReloadTests.quiet) }
        do {
            _ = try ListenerSetup.specs(config, logger: ReloadTests.quiet)
        } catch {
            #expect(error.description == "line 2: routes[0].allow: '10.0.0.0/40': the prefix length must be 0...32")
        }
    }

    @Test("X-Forwarded-For from a trusted proxy names the client (read from the right, past trusted hops); from anyone else it is ignored")
    func realIPFromTrustedProxies() async throws {
        func server(trusted: String) throws -> TacetServer {
            let config = try ConfigLoader.parse(yaml: """
                trusted_proxies: [\(trusted)]
                listen: ["127.0.0.1:0"]
                access_log: off
                routes:
                  - match: { path: / }
                    allow: ["10.0.0.0/8"]
                    respond: { status: 200, body: "inside\\n" }
                """, file: "tacet.yaml", baseDirectory: "/")
            return try TacetServer(configuration: config, threads: 1, logger: ReloadTests.quiet)
        }
        func status(_ port: Int, xff: String) async throws -> Int? {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await client.write(get("/", "X-Forwarded-For: \(xff)\r\nConnection: close\r\n"))
            return await client.readToEnd(timeout: 10).responses().finalResponses.first?.status
        }
        let trusting = try server(trusted: "\"127.0.0.1\", \"10.0.0.0/8\"")
        try await whileRunning(trusting) {
            let port = try #require(try await trusting.start().first?.port)
            #expect(try await status(port, xff: "10.1.1.1") == 200)
            #expect(try await status(port, xff: "192.0.2.1") == 403)
            // The client wrote its own first entry; our hops appended the rest.
            #expect(try await status(port, xff: "10.1.1.1, 192.0.2.1") == 403)
            #expect(try await status(port, xff: "192.0.2.1, 10.1.1.1, 10.2.2.2") == 403, "10.x are trusted hops: the client is 192.0.2.1")
            #expect(try await status(port, xff: "garbage, 10.1.1.1") == 200)
        }
        let notTrusting = try server(trusted: "\"10.0.0.0/8\"")
        try await whileRunning(notTrusting) {
            let port = try #require(try await notTrusting.start().first?.port)
            #expect(try await status(port, xff: "10.1.1.1") == 403, "the peer 127.0.0.1 is no trusted proxy")
        }
    }
}
