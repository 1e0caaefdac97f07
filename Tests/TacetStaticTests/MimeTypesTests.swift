import Testing
@testable import TacetStatic

@Suite struct MimeTypesTests {
    @Test(arguments: [
        ("index.html", "text/html; charset=utf-8"),
        ("/a/b/STYLE.CSS", "text/css; charset=utf-8"),
        ("app.mjs", "text/javascript; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("readme.md", "text/markdown; charset=utf-8"),
        ("data.json", "application/json"),
        ("app.js.map", "application/json"),
        ("logo.svg", "image/svg+xml"),
        ("photo.JPG", "image/jpeg"),
        ("x.avif", "image/avif"),
        ("font.woff2", "font/woff2"),
        ("mod.wasm", "application/wasm"),
        ("archive.tar.gz", "application/gzip"),
        ("clip.webm", "video/webm"),
        ("noext", "application/octet-stream"),
        (".htaccess", "application/octet-stream"),
        ("/dir.d/file", "application/octet-stream"),
        ("trailing.", "application/octet-stream"),
        ("x.unknownext", "application/octet-stream"),
    ])
    func contentType(_ path: String, _ expected: String) {
        #expect(MimeTypes.contentType(forPath: path) == expected)
    }

    @Test func etagIsNginxStyle() {
        #expect(ETag.make(size: 1000, mtime: 784_111_777) == "\"2ebc98a1-3e8\"")
        #expect(ETag.make(size: 0, mtime: 0) == "\"0-0\"")
        #expect(ETag.make(for: FileInfo(size: 255, mtimeSeconds: 16)) == "\"10-ff\"")
    }
}
