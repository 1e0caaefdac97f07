import Foundation
import TacetCompression
import TacetHTTP
import TacetStatic
import TacetTestSupport
import Testing

/// `static: { precompressed }`: siblings served in the file's place when present, fresh,
/// regular and beneath the root; by sendfile, with their own length and validators.
@Suite("Precompressed static files")
struct PrecompressedTests {
    static let original = EncoderTestsSample.text(30_000)

    /// `app.js` with a fresh `.br` and `.zst`, a `.gz` older than it, and `other.js.br` a symlink
    /// to a file outside the root.
    static func makeRoot() throws -> (root: String, outside: String) {
        let base = NSTemporaryDirectory() + "tacet-precompressed-\(UUID().uuidString)"
        let root = base + "/root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let old = Date(timeIntervalSinceNow: -3600)
        try Data(Array("old gzip bytes".utf8)).write(to: URL(fileURLWithPath: root + "/app.js.gz"))
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: root + "/app.js.gz")
        try Data(original).write(to: URL(fileURLWithPath: root + "/app.js"))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: root + "/app.js")
        try Data(Array("BROTLI-BYTES-STAND-IN".utf8)).write(to: URL(fileURLWithPath: root + "/app.js.br"))
        try Data(Array("ZSTD-BYTES-STAND-IN!".utf8)).write(to: URL(fileURLWithPath: root + "/app.js.zst"))
        try Data(original).write(to: URL(fileURLWithPath: root + "/other.js"))
        try Data(Array("secret outside the root".utf8)).write(to: URL(fileURLWithPath: base + "/secret"))
        try FileManager.default.createSymbolicLink(atPath: root + "/other.js.br", withDestinationPath: base + "/secret")
        return (root, base)
    }

    static func server(root: String, compression: Bool) async throws -> LiveServer {
        let files = StaticResponder(root: root, precompressed: [.br, .zstd, .gzip])
        let responder: any Responder = compression ? CompressionResponder(settings: CompressionSettings(), next: files) : files
        return try await LiveServer.start(responder)
    }

    @Test("The sibling for the preferred coding, as it is, with its own length and ETag; Content-Type the original's")
    func sibling() async throws {
        let (root, base) = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let live = try await Self.server(root: root, compression: false)
        try await whileRunning(live) {
            let br = try await CompressionTests.fetch(live, "/app.js", "Accept-Encoding: gzip, br, zstd\r\n")
            #expect(br.status == 200 && br.header("content-encoding") == "br")
            #expect(br.bodyString == "BROTLI-BYTES-STAND-IN")
            #expect(br.header("content-length") == "21")
            #expect(br.header("content-type")?.hasPrefix("text/javascript") == true)
            #expect(br.header("vary") == "Accept-Encoding")
            let zstd = try await CompressionTests.fetch(live, "/app.js", "Accept-Encoding: zstd, br;q=0.5\r\n")
            #expect(zstd.header("content-encoding") == "zstd" && zstd.bodyString == "ZSTD-BYTES-STAND-IN!")
            let identity = try await CompressionTests.fetch(live, "/app.js")
            #expect(identity.body == Self.original && identity.header("vary") == "Accept-Encoding")
            #expect(identity.header("etag") != br.header("etag") && zstd.header("etag") != br.header("etag"))
            let stale = try await CompressionTests.fetch(live, "/app.js", "Accept-Encoding: gzip\r\n")
            #expect(stale.header("content-encoding") == nil && stale.body == Self.original, "a sibling older than the file is not served")
            let escaped = try await CompressionTests.fetch(live, "/other.js", "Accept-Encoding: br\r\n")
            #expect(escaped.header("content-encoding") == nil && escaped.body == Self.original, "a symlink out of the root is not followed")
            let etag = try #require(br.header("etag"))
            let revalidated = try await CompressionTests.fetch(live, "/app.js", "Accept-Encoding: br\r\nIf-None-Match: \(etag)\r\n")
            #expect(revalidated.status == 304 && revalidated.header("vary") == "Accept-Encoding")
            let range = try await CompressionTests.fetch(live, "/app.js", "Accept-Encoding: br\r\nRange: bytes=0-5\r\n")
            #expect(range.status == 206 && range.header("content-encoding") == "br" && range.bodyString == "BROTLI",
                    "a range of the precompressed file")
        }
    }

    @Test("With compression on the route too: the sibling passes untouched; a stale one is replaced by compressing the file")
    func withCompression() async throws {
        let (root, base) = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let live = try await Self.server(root: root, compression: true)
        try await whileRunning(live) {
            let br = try await CompressionTests.fetch(live, "/app.js", "Accept-Encoding: br\r\n")
            #expect(br.bodyString == "BROTLI-BYTES-STAND-IN" && br.header("content-length") == "21")
            #expect(br.headers.filter { $0.0.lowercased() == "vary" }.count == 1)
            let gzip = try await CompressionTests.fetch(live, "/app.js", "Accept-Encoding: gzip\r\n")
            #expect(gzip.header("content-encoding") == "gzip")
            #expect(try await ContentDecoding.decode(gzip.body, coding: "gzip") == Self.original)
        }
    }
}
