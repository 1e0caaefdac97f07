import Foundation
import Testing
@testable import TacetConfig

@Suite("Config: match by host alone, host lists, wildcards, default_host; check's unreachable routes")
struct HostMatchConfigTests {
    @Test("A host alone matches every path; a list names several; a wildcard is '*.' and a name")
    func forms() throws {
        let config = try parse("""
            default_host: Example.COM.
            routes:
              - match: { host: old.example.com }
                redirect: { to: "https://example.com{uri}", status: 308 }
              - match: { host: [Example.com, www.example.com.], path: /app/ }
                respond: { status: 200 }
              - match: { host: "*.example.com" }
                respond: { status: 200 }
            """)
        #expect(config.routes[0].match == RouteMatch(hosts: ["old.example.com"], path: "/"))
        #expect(config.routes[1].match == RouteMatch(hosts: ["example.com", "www.example.com"], path: "/app/"))
        #expect(config.routes[2].match.hosts == ["*.example.com"])
        #expect(config.defaultHost == "example.com")
        #expect(RouteReachability.warnings(config).isEmpty)
    }

    @Test("Bad hosts are errors at their line and key")
    func errors() {
        func error(_ host: String) -> String? {
            configError("routes:\n  - match: { host: \(host) }\n    respond: { status: 200 }\n")?.description
        }
        #expect(error("\"a.*.com\"") == "tacet.yaml:2:20: routes[0].match.host: 'a.*.com': a wildcard is only '*.' in front of a name, as in '*.example.com'")
        #expect(error("\"*.\"") == "tacet.yaml:2:20: routes[0].match.host: '*.' is not a valid wildcard: '*.' then a host name")
        #expect(error("a.com:80") == "tacet.yaml:2:20: routes[0].match.host: must be a host name without a port, got 'a.com:80'")
        #expect(error("[a.com, b.com, a.com]") == "tacet.yaml:2:35: routes[0].match.host[2]: 'a.com' is listed twice")
        #expect(error("[]") == "tacet.yaml:2:20: routes[0].match.host: must list at least one host")
        #expect(configError("default_host: \"*.a.com\"\n")?.description == "tacet.yaml:1:15: default_host: must be a host name, not a wildcard")
    }

    @Test("check warns of a route an earlier one hides, and of a default host no route names")
    func unreachable() throws {
        let config = try parse("""
            default_host: nowhere.example
            routes:
              - match: { path: / }
                respond: { status: 200 }
              - match: { path: /api/ }
                respond: { status: 200 }
              - match: { host: a.com, path: /api/ }
                respond: { status: 200 }
              - match: { host: [a.com, b.com], path: /api/v1/ }
                respond: { status: 200 }
              - match: { host: a.com, path: /api/v1/ }
                respond: { status: 200 }
            """)
        #expect(RouteReachability.warnings(config) == [
            "warning: route /api/ (line 5) can never match: route / (line 3) comes first and takes every request it would",
            "warning: route a.com /api/v1/ (line 11) can never match: route a.com /api/ (line 7) comes first and takes every request it would",
            "warning: default_host 'nowhere.example' is named by no route: requests for unknown hosts get only the routes without a host",
        ])
    }
}

@Suite("Config: static try_files")
struct TryFilesConfigTests {
    static func yaml(_ list: String) -> String {
        "routes:\n  - match: { path: / }\n    static: { root: /tmp, try_files: \(list) }\n"
    }

    @Test func readsAndRefuses() throws {
        let config = try parse(Self.yaml("[\"{path}\", \"{path}/\", /index.html]"))
        guard case .staticFiles(let files) = config.routes[0].action else { Issue.record("not static"); return }
        #expect(files.tryFiles == ["{path}", "{path}/", "/index.html"])
        func error(_ list: String) -> String? { configError(Self.yaml(list))?.message }
        #expect(error("[/index.html]") == "needs at least two entries: the paths to try, then the fallback (a path or =CODE)")
        #expect(error("[\"=404\", /x]") == "'=404': a status is only the last entry")
        #expect(error("[\"{path}\", \"=200\"]") == "'=200': expected =CODE with CODE in 400...599")
        #expect(error("[\"{uri}\", \"=404\"]") == "'{uri}' must start with '/' or '{path}'")
        #expect(error("[\"{path}{query}\", \"=404\"]") == "'{path}{query}': the only placeholder is {path}")
        #expect(error("[\"{path}\", /../x]") == "'/../x' must not contain '..'")
    }
}

@Suite("Config: error_pages")
struct ErrorPagesConfigTests {
    @Test func readsAndRefuses() throws {
        let directory = NSTemporaryDirectory()
        let page = directory + "tacet-page-\(UUID().uuidString).html"
        try "<p>x</p>".write(toFile: page, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: page) }
        let config = try parse("error_pages: { 404: \(page), \"5xx\": \(page) }\n")
        #expect(config.errorPages?.byStatus[404]?.contents == Array("<p>x</p>".utf8))
        #expect(config.errorPages?.byClass[5]?.path == page)
        #expect(configError("error_pages: { 404: /nonexistent/404.html }\n")?.description
            == "tacet.yaml:1:21: error_pages.404: file '/nonexistent/404.html' does not exist")
        #expect(configError("error_pages: { 302: \(page) }\n")?.message == "'302' is not an error status (400...599) or class (4xx, 5xx)")
        #expect(configError("error_pages: { 3xx: \(page) }\n")?.message == "'3xx' is not an error status (400...599) or class (4xx, 5xx)")
        #expect(configError("error_pages: { 404: /tmp }\n")?.message == "'/tmp' is a directory, not a page")
    }
}

@Suite("Config: cors")
struct CORSConfigTests {
    static func error(_ cors: String) -> String? {
        configError("routes:\n  - match: { path: / }\n    respond: { status: 200 }\n    cors: \(cors)\n")?.message
    }

    @Test func readsAndRefuses() throws {
        let config = try parse("routes:\n  - match: { path: / }\n    respond: { status: 200 }\n    cors: { origins: [\"HTTPS://Example.com/\", \"http://*.a.org:8080\"], max_age: 60 }\n")
        #expect(config.routes[0].cors?.origins == ["https://example.com", "http://*.a.org:8080"])
        #expect(config.routes[0].cors?.methods == ["GET", "HEAD", "POST"])
        #expect(Self.error("{ origins: [\"*\"], credentials: true }") == "'*' cannot go with credentials: true (browsers refuse it); list the origins")
        #expect(Self.error("{ origins: [example.com] }") == "'example.com' is not an origin: expected http(s)://host[:port], or *")
        #expect(Self.error("{ origins: [\"https://a.com/path\"] }") == "'https://a.com/path' is not an origin: expected http(s)://host[:port], or *")
        #expect(Self.error("{ origins: [\"https://a.com:99999\"] }") == "'https://a.com:99999': the port must be a number in 0...65535")
        #expect(Self.error("{ origins: [] }") == "must list at least one value")
        #expect(Self.error("{ origins: [\"https://a.com\"], methods: [\"GET POST\"] }") == "'GET POST' is not a method or field name")
        #expect(Self.error("{ methods: [GET] }") == "missing required key 'origins'")
    }
}

@Suite("Config: auth basic")
struct BasicAuthConfigTests {
    @Test func refusesWeakHashesWithTheirLine() throws {
        let file = NSTemporaryDirectory() + "tacet-htpasswd-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "alice:$2y$04$EcaM16eqlmFBG.J7bx5lK.3rYqyJtb9KwMFLYNlcV7Wy1cm4BbIHO\ncarol:$apr1$bjUCdiAz$JNjLs.N5VXlqf7o421ugA.\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let yaml = "routes:\n  - match: { path: / }\n    respond: { status: 200 }\n    auth: { basic: { users: \(file) } }\n"
        #expect(configError(yaml)?.description == "tacet.yaml:4:29: routes[0].auth.basic.users: \(file):2: user 'carol': MD5 (\"$apr1$\") hashes are refused: re-create the entry with `htpasswd -B` (bcrypt)")
        try "alice:$2y$04$EcaM16eqlmFBG.J7bx5lK.3rYqyJtb9KwMFLYNlcV7Wy1cm4BbIHO\n".write(toFile: file, atomically: true, encoding: .utf8)
        let config = try parse(yaml)
        #expect(config.routes[0].auth?.basic?.users.keys.sorted() == ["alice"])
        #expect(config.routes[0].auth?.basic?.realm == "restricted")
        #expect(configError("routes:\n  - match: { path: / }\n    respond: { status: 200 }\n    auth: { basic: { users: /nonexistent } }\n")?.message
            == "file '/nonexistent' does not exist")
    }
}

@Suite("Config: auth request")
struct AuthRequestConfigTests {
    static func yaml(_ request: String) -> String {
        "routes:\n  - match: { path: / }\n    respond: { status: 200 }\n    auth: { request: \(request) }\n"
    }

    @Test func readsAndRefuses() throws {
        let config = try parse(Self.yaml("{ url: \"http://127.0.0.1:4180/oauth2/auth?x=1\", copy_headers: [X-User], timeout: 2s }"))
        let request = try #require(config.routes[0].auth?.request)
        #expect(request.address == ListenAddress(host: "127.0.0.1", port: 4180))
        #expect(request.target == "/oauth2/auth?x=1")
        #expect(request.copyHeaders == ["X-User"] && request.timeout == .seconds(2))
        #expect(try parse(Self.yaml("{ url: \"http://auth.internal\" }")).routes[0].auth?.request?.address.port == 80)
        #expect(configError(Self.yaml("{ url: \"https://a:1/x\" }"))?.message
            == "expected http://HOST:PORT/PATH (a plain-HTTP service, usually on loopback), got 'https://a:1/x'")
        #expect(configError(Self.yaml("{ url: \"http://a:1/x\", copy_headers: [Content-Length] }"))?.message
            == "'Content-Length' belongs to the connection and cannot be copied")
        #expect(configError(Self.yaml("{ url: \"http://a:1/x\", redirect_on_401: \"https://x/{nope}\" }"))?.message.hasPrefix("unknown variable '{nope}'") == true)
        #expect(configError("routes:\n  - match: { path: / }\n    respond: { status: 200 }\n    auth: {}\n")?.message == "must say how: basic, request, or both")
    }
}
