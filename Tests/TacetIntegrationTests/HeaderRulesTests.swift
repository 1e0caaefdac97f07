import NIOCore
import NIOHTTP1
import TacetConfig
import TacetHTTP
@testable import TacetProxy
@testable import TacetServer
import TacetTestSupport
import Testing

/// Header rules on a route and `request_id`: what the action (or the upstream) sees of the
/// request, what the client gets of the response, and the X-Request-ID kept or made.
@Suite("Header rules and request IDs")
struct HeaderRulesTests {
    /// Answers with the request's fields, one `name: value` line each (names lowercased).
    struct EchoHeaders: Responder {
        func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
            let text = request.headers.map { "\($0.name.lowercased()): \($0.value)\n" }.joined()
            let body = ByteBuffer(string: text)
            writer.respond(ResponseHead(status: .ok, headers: HTTPHeaders([("X-Powered-By", "echo"), ("X-Keep", "1")]),
                                        body: .length(body.readableBytes)), body: body)
            return nil
        }
    }

    static func rules(_ yaml: String, requestID: Bool = false) throws -> HeaderRules {
        let config = try ConfigLoader.parse(yaml: (requestID ? "request_id: true\n" : "") + """
            routes:
              - match: { path: / }
                respond: { status: 200 }
                headers:
            \(yaml)
            """, file: "tacet.yaml", baseDirectory: "/")
        return try #require(config.routes.first?.headers)
    }

    @Test("Request fields set (with variables) and removed before the action; response fields set and removed")
    func directRoute() async throws {
        let rules = try Self.rules("""
                  request: { set: { X-Client-IP: "{client_ip}", X-Path: "{path} of {host}" }, remove: [X-Debug] }
                  response: { set: { Strict-Transport-Security: "max-age=31536000" }, remove: [X-Powered-By] }
            """)
        let live = try await LiveServer.start(HeaderRulesResponder(rules: rules, next: EchoHeaders()))
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/a/b?c=1", "X-Debug: yes\r\nConnection: close\r\n"))
            let text = await client.readToEnd(timeout: 10).string
            #expect(text.contains("x-client-ip: 127.0.0.1\n"), "\(text)")
            #expect(text.contains("x-path: /a/b of test\n"))
            #expect(!text.contains("x-debug"))
            #expect(text.contains("Strict-Transport-Security: max-age=31536000\r\n"))
            #expect(!text.contains("X-Powered-By"))
            #expect(text.contains("X-Keep: 1\r\n"))
        }
    }

    @Test("On a proxied response (its fields arrive as bytes): set and removed too")
    func proxiedResponse() async throws {
        let rules = try Self.rules("""
                  response: { set: { X-Added: "yes" }, remove: [Content-Type] }
            """)
        let backend = try await TestBackend()
        let live = try await LiveServer.start { group in
            let upstream = Upstream(name: "app", selector: SingleServer(host: "127.0.0.1", port: backend.port),
                                    settings: Upstream.Settings(), group: group)
            return [Router.Route(host: nil, pathPrefix: "/", responder: HeaderRulesResponder(rules: rules, next: ProxyResponder(upstream: upstream)))]
        }
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/x", "Connection: close\r\n"))
            let text = await client.readToEnd(timeout: 10).string
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text)")
            #expect(text.contains("X-Added: yes\r\n"), "\(text)")
            #expect(!text.lowercased().contains("content-type"), "\(text)")
            #expect(text.hasSuffix("backend says hi\n"))
        }
    }

    @Test("request_id: made for every request (32 hex digits, logged), a trusted peer's kept, an untrusted one's replaced")
    func requestIDs() async throws {
        var settings = ServerSettings()
        settings.requestID = true
        let live = try await LiveServer.start(settings: settings, EchoHeaders())
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/", "X-Request-ID: client-chosen\r\nConnection: close\r\n"))
            let text = await client.readToEnd(timeout: 10).string
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("x-request-id: ") })
            let id = String(line.dropFirst("x-request-id: ".count))
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit), "\(id)")
            #expect(await live.waitForAccessLog(containing: " complete \(id)"), "\(live.accessLogLines)")
        }
        var trusting = ServerSettings()
        trusting.requestID = true
        trusting.isTrustedProxy = { _ in true }
        let trusted = try await LiveServer.start(settings: trusting, EchoHeaders())
        try await whileRunning(trusted) {
            let client = try await trusted.connect()
            try await client.send(get("/", "X-Request-ID: lb-1234.5\r\nConnection: close\r\n"))
            #expect(await client.readToEnd(timeout: 10).string.contains("x-request-id: lb-1234.5\n"))
        }
    }

    @Test("Configuration refusals: framing fields, unknown variables, {request_id} without request_id")
    func refusals() {
        func error(_ yaml: String, requestID: Bool = false) -> String {
            do { _ = try Self.rules(yaml, requestID: requestID); return "" } catch { return "\(error)" }
        }
        #expect(error("      request: { set: { Content-Length: \"1\" } }").contains("belongs to the connection"))
        #expect(error("      response: { remove: [Transfer-Encoding] }").contains("belongs to the connection"))
        #expect(error("      request: { set: { X-A: \"{nope}\" } }").contains("unknown variable '{nope}'"))
        #expect(error("      request: { set: { X-A: \"{request_id}\" } }").contains("needs request_id: true"))
        #expect(error("      request: { set: { X-A: \"{request_id}\" } }", requestID: true).isEmpty)
        #expect(error("      request: { set: { \"Bad Name\": \"x\" } }").contains("invalid header name"))
    }
}
