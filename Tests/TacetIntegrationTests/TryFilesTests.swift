import Foundation
import NIOCore
import TacetHTTP
import TacetHTTP2
import TacetProbe
import TacetStatic
import TacetTestSupport
import Testing

/// nginx's `try_files $uri $uri/ /index.html`, the single-page app's fallback, on real sockets:
/// files and directories found as they are, everything else the app's index (with its own
/// validators), a missing fallback a 404, `=404`, and nothing outside the root ever served.
@Suite("try_files: candidates beneath the root, then the fallback")
struct TryFilesTests {
    static func makeRoot() throws -> (root: String, base: String) {
        let base = NSTemporaryDirectory() + "tacet-tryfiles-\(UUID().uuidString)"
        let root = base + "/root"
        let fm = FileManager.default
        for directory in ["/assets", "/docs", "/empty"] {
            try fm.createDirectory(atPath: root + directory, withIntermediateDirectories: true)
        }
        try "<html>app</html>".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
        try "console.log(1)".write(toFile: root + "/assets/app.js", atomically: true, encoding: .utf8)
        try "<html>docs</html>".write(toFile: root + "/docs/index.html", atomically: true, encoding: .utf8)
        try "secret".write(toFile: base + "/secret", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/escape", withDestinationPath: base + "/secret")
        return (root, base)
    }

    static func withServer(http2: Bool = false, _ body: (LiveServer) async throws -> Void) async throws {
        let (root, base) = try makeRoot()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let spa = StaticResponder(root: root, tryFiles: TryFiles(entries: ["{path}", "{path}/", "/index.html"]))
        let strict = StaticResponder(root: root, tryFiles: TryFiles(entries: ["{path}", "=404"]))
        let missing = StaticResponder(root: root, tryFiles: TryFiles(entries: ["{path}", "/nothing.html"]))
        let live = try await LiveServer.start(protocols: http2 ? HTTP2Protocols(mode: .priorKnowledge) : nil) { _ in [
            Router.Route(host: nil, pathPrefix: "/assets/", responder: strict),
            Router.Route(host: nil, pathPrefix: "/gone/", responder: missing),
            Router.Route(host: nil, pathPrefix: "/", responder: spa),
        ] }
        try await whileRunning(live) { try await body(live) }
    }

    static func fetch(_ live: LiveServer, _ path: String, method: String = "GET", extra: String = "") async throws -> ParsedResponse {
        let client = try await live.connect()
        defer { client.close() }
        try await client.send("\(method) \(path) HTTP/1.1\r\nHost: t\r\n\(extra)Connection: close\r\n\r\n")
        return try #require(await client.readToEnd(timeout: 10).responses(requestMethods: [method]).finalResponses.first)
    }

    @Test("Files and directories as they are; any other path the app's index; HEAD and conditionals on the fallback")
    func singlePageApp() async throws {
        try await Self.withServer { live in
            let script = try await Self.fetch(live, "/assets/app.js")
            #expect(script.status == 200 && script.bodyString == "console.log(1)")
            #expect(script.header("content-type")?.hasPrefix("text/javascript") == true)
            let docs = try await Self.fetch(live, "/docs")
            #expect(docs.status == 200 && docs.bodyString == "<html>docs</html>", "a directory's index, without the slash redirect")
            let route = try await Self.fetch(live, "/users/42/settings?tab=2")
            #expect(route.status == 200 && route.bodyString == "<html>app</html>")
            #expect(route.header("content-type")?.hasPrefix("text/html") == true)
            let empty = try await Self.fetch(live, "/empty/")
            #expect(empty.bodyString == "<html>app</html>", "a directory without an index falls through")
            let tag = try #require(route.header("etag"))
            let revalidated = try await Self.fetch(live, "/another/route", extra: "If-None-Match: \(tag)\r\n")
            #expect(revalidated.status == 304)
            let head = try await Self.fetch(live, "/x", method: "HEAD")
            #expect(head.status == 200 && head.body.isEmpty && head.header("content-length") == "16")
        }
    }

    @Test("Nothing outside the root: a symlink out and a climbing path are never served")
    func neverLeavesTheRoot() async throws {
        try await Self.withServer { live in
            let escaped = try await Self.fetch(live, "/escape")
            #expect(escaped.bodyString == "<html>app</html>")
            let climbing = try await Self.fetch(live, "/%2e%2e/secret")
            #expect(climbing.bodyString != "secret")
            let bad = try await Self.fetch(live, "/a%00b")
            #expect(bad.status == 400)
        }
    }

    @Test("=404 as the fallback, and a fallback that does not exist: 404")
    func statusFallbacks() async throws {
        try await Self.withServer { live in
            let nope = try await Self.fetch(live, "/assets/nope.js")
            let found = try await Self.fetch(live, "/assets/app.js")
            let gone = try await Self.fetch(live, "/gone/x")
            #expect(nope.status == 404 && found.status == 200 && gone.status == 404)
        }
    }

    @Test("HTTP/2: the same candidates and fallback on streams")
    func http2() async throws {
        try await Self.withServer(http2: true) { live in
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/deep/link")
            try await client.request(3, "/assets/app.js")
            try await client.request(5, "/assets/missing.js")
            #expect(await client.waitForEnd(1).body == "<html>app</html>")
            #expect(await client.waitForEnd(3).body == "console.log(1)")
            #expect(await client.waitForEnd(5).status == 404)
            await client.close()
        }
    }

    @Test("The template: {path} substituted, doubled slashes made one; the last entry the fallback")
    func template() {
        #expect(TryFiles.expand("{path}/", path: "/docs/") == "/docs/")
        #expect(TryFiles.expand("{path}.html", path: "/about") == "/about.html")
        #expect(TryFiles.expand("/index.html", path: "/x") == "/index.html")
        #expect(TryFiles(entries: ["{path}", "=404"]) == TryFiles(candidates: ["{path}"], fallback: .status(404)))
        #expect(TryFiles(entries: ["{path}", "/i.html"]).fallback == .path("/i.html"))
    }
}
