import NIOCore
import Testing
@testable import TacetHTTP

/// nginx's `server_name` order: exact names, then `*.` wildcards (longest suffix first), then
/// routes with no host; within one, file order. `defaultHost` routes unknown names.
@Suite("Router: exact hosts, wildcards, routes without a host, the default host")
struct HostRoutingTests {
    static func route(_ host: String?, _ prefix: String) -> Router.Route {
        let responder = FixedResponder(status: .ok, body: "")
        if let host { return Router.Route(host: host, pathPrefix: prefix, responder: responder) }
        return Router.Route(host: nil, pathPrefix: prefix, responder: responder)
    }

    static func request(_ target: String, host: String?, version: String = "1.1") throws -> Request {
        var parser = RequestParser(limits: RequestParser.Limits())
        let hostLine = host.map { "Host: \($0)\r\n" } ?? ""
        var buffer = ByteBuffer(string: "GET \(target) HTTP/\(version)\r\n\(hostLine)\r\n")
        guard case .head(let request) = try parser.next(&buffer) else { throw RouterTests.ParseFailed() }
        return request
    }

    // Listed worst first: the order routes are tried does not depend on the file's.
    static let router = Router(routes: [
        route(nil, "/"),
        route("*.example.com", "/"),
        route("*.api.example.com", "/"),
        route("www.example.com", "/app/"),
        route("www.example.com", "/"),
        route("old.example.com", "/"),
    ])

    static func label(_ target: String, _ host: String?, router: Router = Self.router) throws -> String? {
        router.route(for: try request(target, host: host))?.label
    }

    @Test("An exact name wins over a wildcard, a wildcard over a route with no host")
    func tiers() throws {
        #expect(try Self.label("/x", "www.example.com") == "www.example.com/")
        #expect(try Self.label("/app/x", "www.example.com") == "www.example.com/app/")
        #expect(try Self.label("/x", "shop.example.com") == "*.example.com/")
        #expect(try Self.label("/x", "elsewhere.org") == "/")
    }

    @Test("A wildcard takes one label or more, never the bare name; the longest suffix first")
    func wildcards() throws {
        #expect(try Self.label("/", "a.b.example.com") == "*.example.com/")
        #expect(try Self.label("/", "example.com") == "/")
        #expect(try Self.label("/", "xexample.com") == "/")
        #expect(try Self.label("/", "v1.api.example.com") == "*.api.example.com/")
        #expect(try Self.label("/", "api.example.com") == "*.example.com/")
    }

    @Test("Host compared without case, port or a trailing dot")
    func hostForms() throws {
        #expect(try Self.label("/", "OLD.Example.COM:8443") == "old.example.com/")
        #expect(try Self.label("/", "old.example.com.") == "old.example.com/")
        #expect(try Self.label("/", "old.example.com.:80") == "old.example.com/")
    }

    @Test("Within one host, the first listed prefix wins (today's rule)")
    func firstListed() throws {
        let router = Router(routes: [Self.route("a.com", "/"), Self.route("a.com", "/api/")])
        #expect(try Self.label("/api/x", "a.com", router: router) == "a.com/")
    }

    @Test("Host with no route of its own: only host-less routes, or the default host's")
    func defaultHost() throws {
        let routes = [Self.route("example.com", "/"), Self.route("*.example.org", "/w/"), Self.route(nil, "/fallback/")]
        let plain = Router(routes: routes)
        #expect(try Self.label("/", "unknown.net", router: plain) == nil)
        let router = Router(routes: routes, defaultHost: "Example.com")
        #expect(try Self.label("/", "unknown.net", router: router) == "example.com/")
        #expect(router.route(for: try Self.request("/", host: nil, version: "1.0"))?.label == "example.com/")
        // A name a wildcard covers is known: it is not routed as the default.
        #expect(try Self.label("/w/x", "a.example.org", router: router) == "*.example.org/w/")
        #expect(try Self.label("/", "a.example.org", router: router) == nil)
        // Host-less routes still come after the default host's own.
        #expect(try Self.label("/fallback/", "unknown.net", router: router) == "example.com/")
    }

    @Test("HostPattern reads names and wildcards; anything else is nil")
    func patterns() {
        #expect(HostPattern("*.Example.com") == .wildcard(suffix: ".example.com"))
        #expect(HostPattern("example.com.") == .exact("example.com"))
        #expect(HostPattern("*") == nil)
        #expect(HostPattern("*.") == nil)
        #expect(HostPattern("a.*.com") == nil)
        #expect(HostPattern("") == nil)
    }

    @Test("A malformed Host is 400: bad characters, a port that is not digits, an open IP literal")
    func malformedHost() {
        for host in ["a b", "example.com:abc", "example.com:80:90", "[::1", "[::1]x", "::1", "a/b", "u@h", "[a]b]"] {
            #expect(parseError("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n") == .malformed("invalid Host header"), "\(host)")
        }
        for host in ["example.com:", "[::1]:80", "[::1]", "a.b:65535", "xn--bcher-kva.example"] {
            #expect(parseError("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n") == nil, "\(host)")
        }
    }
}
