import Foundation
import NIOCore
import TacetHTTP
import TacetHTTP2
import TacetProbe
import TacetStatic
import TacetTestSupport
import Testing

/// nginx's `autoindex` on real sockets: a directory without its index listed, sorted, names
/// escaped and links that lead back to each file whatever its name; dotfiles and symlinks out
/// of the root left out; JSON for Accept: application/json; off by default (403).
@Suite("Directory listings: HTML and JSON, escaped, beneath the root")
struct AutoindexTests {
    static func makeRoot() throws -> (root: String, base: String) {
        let base = NSTemporaryDirectory() + "tacet-autoindex-\(UUID().uuidString)"
        let root = base + "/root"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/sub dir", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/withindex", withIntermediateDirectories: true)
        try "i".write(toFile: root + "/withindex/index.html", atomically: true, encoding: .utf8)
        try "12345".write(toFile: root + "/b.txt", atomically: true, encoding: .utf8)
        try "x".write(toFile: root + "/<script>a?b#c%d&.txt", atomically: true, encoding: .utf8)
        try "hidden".write(toFile: root + "/.env", atomically: true, encoding: .utf8)
        try "secret".write(toFile: base + "/secret", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/out", withDestinationPath: base + "/secret")
        try fm.createSymbolicLink(atPath: root + "/in", withDestinationPath: "b.txt")
        try fm.createDirectory(atPath: base + "/plain/off", withIntermediateDirectories: true)
        return (root, base)
    }

    static func withServer(http2: Bool = false, _ body: (LiveServer) async throws -> Void) async throws {
        let (root, base) = try makeRoot()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let live = try await LiveServer.start(protocols: http2 ? HTTP2Protocols(mode: .priorKnowledge) : nil) { _ in [
            Router.Route(host: nil, pathPrefix: "/off/", responder: StaticResponder(root: base + "/plain")),
            Router.Route(host: nil, pathPrefix: "/", responder: StaticResponder(root: root, autoindex: true)),
        ] }
        try await whileRunning(live) { try await body(live) }
    }

    static func fetch(_ live: LiveServer, _ path: String, extra: String = "") async throws -> ParsedResponse {
        let client = try await live.connect()
        defer { client.close() }
        try await client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\(extra)Connection: close\r\n\r\n")
        return try #require(await client.readToEnd(timeout: 10).responses().finalResponses.first)
    }

    @Test("HTML: directories first, escaped names, links that lead back to each file; no dotfiles, no way out")
    func html() async throws {
        try await Self.withServer { live in
            let page = try await Self.fetch(live, "/")
            #expect(page.status == 200)
            #expect(page.header("content-type") == "text/html; charset=utf-8")
            let text = page.bodyString
            #expect(text.contains("<a href=\"sub%20dir/\">sub dir/</a>"))
            #expect(text.contains("<a href=\"%3Cscript%3Ea%3Fb%23c%25d%26.txt\">&lt;script&gt;a?b#c%d&amp;.txt</a>"))
            #expect(!text.contains("<script>"))
            #expect(text.contains("<a href=\"b.txt\">b.txt</a>") && text.contains("  5\n"))
            #expect(text.contains("<a href=\"in\">in</a>"), "a link inside the root is listed")
            #expect(!text.contains(".env") && !text.contains("\"out\""), "dotfiles and links out of the root are not")
            let sub = try #require(text.range(of: "sub%20dir/")), file = try #require(text.range(of: "b.txt"))
            #expect(sub.lowerBound < file.lowerBound, "directories first")
            // Each link leads back to its file.
            let odd = try await Self.fetch(live, "/%3Cscript%3Ea%3Fb%23c%25d%26.txt")
            #expect(odd.status == 200 && odd.bodyString == "x")
            let nested = try await Self.fetch(live, "/sub%20dir/")
            #expect(nested.status == 200 && nested.bodyString.contains("<a href=\"../\">../</a>"))
            let index = try await Self.fetch(live, "/withindex/")
            #expect(index.bodyString == "i", "a directory with its index serves the index")
            let off = try await Self.fetch(live, "/off/")
            #expect(off.status == 403, "off by default")
        }
    }

    @Test("JSON for Accept: application/json (nginx's autoindex_format json)")
    func json() async throws {
        try await Self.withServer { live in
            let response = try await Self.fetch(live, "/", extra: "Accept: application/json\r\n")
            #expect(response.header("content-type") == "application/json")
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]])
            let names = parsed.compactMap { $0["name"] as? String }
            #expect(names == ["sub dir", "withindex", "<script>a?b#c%d&.txt", "b.txt", "in"])
            #expect(parsed.first { $0["name"] as? String == "b.txt" }?["size"] as? Int == 5)
            #expect(parsed.first?["type"] as? String == "directory")
        }
    }

    @Test("HTTP/2: the listing on a stream")
    func http2() async throws {
        try await Self.withServer(http2: true) { live in
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/sub%20dir/")
            let listing = await client.waitForEnd(1)
            #expect(listing.status == 200 && listing.body.contains("Index of /sub%20dir/"))
            await client.close()
        }
    }
}
