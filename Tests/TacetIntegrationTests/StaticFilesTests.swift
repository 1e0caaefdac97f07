import Foundation
import TacetHTTP
import TacetProbe
import TacetStatic
import TacetTestSupport
import Testing

/// Static files over real sockets: traversal refused, ranges, conditionals, redirects.
@Suite("Static files on real sockets")
struct StaticFilesTests {
    /// A root with index.html, a.txt (26 bytes), sub/, and a symlink pointing outside.
    static func makeRoot() throws -> String {
        let root = NSTemporaryDirectory() + "tacet-static-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        try "<h1>index</h1>\n".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
        try "abcdefghijklmnopqrstuvwxyz".write(toFile: root + "/a.txt", atomically: true, encoding: .utf8)
        try "secret\n".write(toFile: root + "/../tacet-secret-\(UUID().uuidString)", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/escape", withDestinationPath: "/etc/passwd")
        return root
    }

    func fetch(_ request: String, root: String) async throws -> ParsedResponse? {
        let live = try await LiveServer.start(StaticResponder(root: root))
        return try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(request)
            return await client.readResponses(count: 1, timeout: 5).responses(requestMethods: client.requestMethods).finalResponses.first
        }
    }

    @Test("Traversal and encoded tricks never leave the root",
          arguments: ["/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/sub/..%2f..%2fetc/passwd",
                      "/a.txt%00.html", "/escape", "/sub/%2E%2E/%2E%2E/etc/passwd", "/..%5c..%5cetc/passwd"])
    func traversal(_ path: String) async throws {
        let root = try Self.makeRoot()
        let response = try await fetch(get(path), root: root)
        let status = response?.status ?? 0
        #expect([400, 403, 404].contains(status), "\(path) → \(status)")
        #expect(response?.bodyString.contains("root:") == false)
    }

    @Test("GET a file: 200, Content-Type, ETag, Last-Modified, body")
    func getFile() async throws {
        let root = try Self.makeRoot()
        let response = try await fetch(get("/a.txt"), root: root)
        #expect(response?.status == 200)
        #expect(response?.header("content-type") == "text/plain; charset=utf-8")
        #expect(response?.header("etag") != nil)
        #expect(response?.header("last-modified") != nil)
        #expect(response?.bodyString == "abcdefghijklmnopqrstuvwxyz")
    }

    @Test("Directory: index file; missing slash: 301")
    func directory() async throws {
        let root = try Self.makeRoot()
        #expect(try await fetch(get("/"), root: root)?.bodyString == "<h1>index</h1>\n")
        let redirect = try await fetch(get("/sub?x=1"), root: root)
        #expect(redirect?.status == 301)
        #expect(redirect?.header("location") == "/sub/?x=1")
        #expect(try await fetch(get("/sub/"), root: root)?.status == 403)
        #expect(try await fetch(get("/missing"), root: root)?.status == 404)
    }

    @Test("Range: 206 with Content-Range; past the end: 416")
    func ranges() async throws {
        let root = try Self.makeRoot()
        let partial = try await fetch(get("/a.txt", "Range: bytes=2-4\r\n"), root: root)
        #expect(partial?.status == 206)
        #expect(partial?.header("content-range") == "bytes 2-4/26")
        #expect(partial?.bodyString == "cde")
        let suffix = try await fetch(get("/a.txt", "Range: bytes=-3\r\n"), root: root)
        #expect(suffix?.bodyString == "xyz")
        let unsatisfiable = try await fetch(get("/a.txt", "Range: bytes=100-\r\n"), root: root)
        #expect(unsatisfiable?.status == 416)
        #expect(unsatisfiable?.header("content-range") == "bytes */26")
    }

    @Test("If-None-Match and If-Modified-Since: 304; If-Range mismatch: the whole file")
    func conditionals() async throws {
        let root = try Self.makeRoot()
        let first = try await fetch(get("/a.txt"), root: root)
        let etag = try #require(first?.header("etag"))
        let modified = try #require(first?.header("last-modified"))
        let notModified = try await fetch(get("/a.txt", "If-None-Match: \(etag)\r\n"), root: root)
        #expect(notModified?.status == 304)
        #expect(notModified?.body.isEmpty == true)
        #expect(try await fetch(get("/a.txt", "If-Modified-Since: \(modified)\r\n"), root: root)?.status == 304)
        let stale = try await fetch(get("/a.txt", "Range: bytes=0-1\r\nIf-Range: \"other\"\r\n"), root: root)
        #expect(stale?.status == 200)
        #expect(stale?.body.count == 26)
        let fresh = try await fetch(get("/a.txt", "Range: bytes=0-1\r\nIf-Range: \(etag)\r\n"), root: root)
        #expect(fresh?.status == 206)
    }

    @Test("POST to a file: 405 with Allow")
    func methodNotAllowed() async throws {
        let root = try Self.makeRoot()
        let response = try await fetch("POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi", root: root)
        #expect(response?.status == 405)
        #expect(response?.header("allow") == "GET, HEAD")
    }

    @Test("HEAD of a file: headers, no body")
    func headFile() async throws {
        let root = try Self.makeRoot()
        let response = try await fetch("HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", root: root)
        #expect(response?.status == 200)
        #expect(response?.header("content-length") == "26")
        #expect(response?.body.isEmpty == true)
    }

    @Test("A large file then SHUT_WR: every byte, then FIN")
    func largeFileThenShutdown() async throws {
        let root = try Self.makeRoot()
        let data = Data((0..<(3 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try data.write(to: URL(fileURLWithPath: root + "/big.bin"))
        let live = try await LiveServer.start(StaticResponder(root: root))
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/big.bin"))
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 10)
            #expect(result.end == .fin)
            let response = result.responses().finalResponses.first
            #expect(response?.header("content-type") == "application/octet-stream")
            #expect(response.map { Data($0.body) } == data)
        }
    }

    @Test("Files either side of the copy limit (16 KiB), pipelined: every byte of each, in order")
    func filesAroundCopyLimit() async throws {
        let root = try Self.makeRoot()
        let sizes = [16 * 1024, 16 * 1024 + 1]
        var files: [Data] = []
        for (i, size) in sizes.enumerated() {
            let data = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i) })
            try data.write(to: URL(fileURLWithPath: root + "/f\(i).bin"))
            files.append(data)
        }
        let live = try await LiveServer.start(StaticResponder(root: root))
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/f0.bin") + get("/f1.bin") + get("/f0.bin") + get("/f1.bin"))
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 10)
            #expect(result.end == .fin)
            let bodies = result.responses().finalResponses.map { Data($0.body) }
            #expect(bodies == files + files)
        }
    }
}
