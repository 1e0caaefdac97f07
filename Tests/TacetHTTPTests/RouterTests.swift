import NIOCore
import NIOHTTP1
import Testing
@testable import TacetHTTP

/// Which route a request gets: first match in order, host (if any) and path prefix, the query
/// never part of the path.
@Suite("Router: host and path prefix, in order")
struct RouterTests {
    static let router = Router(routes: [
        Router.Route(host: "Example.COM", pathPrefix: "/a", responder: FixedResponder(status: .ok, body: "")),
        Router.Route(host: nil, pathPrefix: "/api/", responder: FixedResponder(status: .ok, body: "")),
        Router.Route(host: nil, pathPrefix: "/", responder: FixedResponder(status: .ok, body: "")),
    ])

    static func request(_ target: String, host: String = "other.example", method: String = "GET") throws -> Request {
        var parser = RequestParser(limits: RequestParser.Limits())
        var buffer = ByteBuffer(string: "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\n\r\n")
        guard case .head(let request) = try parser.next(&buffer) else { throw ParseFailed() }
        return request
    }

    struct ParseFailed: Error {}

    static func label(_ target: String, host: String = "other.example") throws -> String? {
        Self.router.route(for: try request(target, host: host))?.label
    }

    @Test("Prefix match on the path; the query is not part of it")
    func prefix() throws {
        #expect(try Self.label("/api/users?x=1") == "/api/")
        #expect(try Self.label("/api/") == "/api/")
        #expect(try Self.label("/api?/") == "/", "the prefix may not run into the query")
        #expect(try Self.label("/apix") == "/")
        #expect(try Self.label("/") == "/")
    }

    @Test("A host route matches its host only, any case, any port")
    func host() throws {
        #expect(try Self.label("/abc", host: "example.com") == "example.com/a")
        #expect(try Self.label("/abc", host: "EXAMPLE.com:8080") == "example.com/a")
        #expect(try Self.label("/abc") == "/")
    }

    @Test("No route matches: nil (the router answers 404)")
    func none() throws {
        let router = Router(routes: [Router.Route(host: nil, pathPrefix: "/only", responder: FixedResponder(status: .ok, body: ""))])
        #expect(router.route(for: try Self.request("/other")) == nil)
        #expect(router.route(for: try Self.request("/onl")) == nil)
        #expect(router.route(for: try Self.request("/only/x"))?.label == "/only")
    }
}
