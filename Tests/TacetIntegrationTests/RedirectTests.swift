import Logging
import NIOCore
import TacetConfig
import TacetServer
import TacetTestSupport
import Testing

/// `redirect:` routes: the Location built from the request, the status as configured, and
/// templates checked when the file is read.
@Suite("Redirects")
struct RedirectTests {
    @Test("Host redirect keeping the URI, and a path redirect with the client's address in it")
    func redirects() async throws {
        let config = try ConfigLoader.parse(yaml: """
            listen: ["127.0.0.1:0"]
            access_log: off
            routes:
              - match: { host: old.example.com, path: / }
                redirect: { to: "https://example.com{uri}", status: 308 }
              - match: { path: /go/ }
                redirect: { to: "/new{path}?q={query}&ip={client_ip}", status: 301 }
            """, file: "tacet.yaml", baseDirectory: "/")
        let server = try TacetServer(configuration: config, threads: 1, logger: ReloadTests.quiet)
        try await whileRunning(server) {
            let port = try #require(try await server.start().first?.port)
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
            try await client.write("GET /a/b?c=1 HTTP/1.1\r\nHost: OLD.example.com:8080\r\n\r\n" + get("/go/x?y=2", "Connection: close\r\n"))
            let responses = await client.readToEnd(timeout: 10).responses().finalResponses
            #expect(responses.map(\.status) == [308, 301])
            #expect(responses.first?.header("location") == "https://example.com/a/b?c=1")
            #expect(responses.last?.header("location") == "/new/go/x?q=y=2&ip=127.0.0.1")
        }
    }

    @Test("Refused when read: an unknown variable, an unclosed brace, a status that is not a redirect, a space")
    func refusals() {
        func error(_ redirect: String) -> String? {
            do {
                _ = try ConfigLoader.parse(yaml: "routes:\n  - match: { path: / }\n    redirect: \(redirect)\n",
                                           file: "tacet.yaml", baseDirectory: "/")
                return nil
            } catch {
                return error.description
            }
        }
        #expect(error("{ to: \"https://x{request}\" }")?.contains("unknown variable '{request}'") == true)
        #expect(error("{ to: \"https://x{uri\" }")?.contains("without '}'") == true)
        #expect(error("{ to: \"/a\", status: 304 }")?.contains("301, 302, 303, 307 or 308") == true)
        #expect(error("{ to: \"/a b\" }")?.contains("spaces") == true)
        #expect(error("{ to: \"/a\" }") == nil)
    }
}
