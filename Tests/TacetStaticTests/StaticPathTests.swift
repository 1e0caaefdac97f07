import Foundation
import Glibc
import Testing
@testable import TacetStatic

/// A throwaway document root:
/// ```
/// root/index.html  a.txt  caf€.txt  sub/index.html  empty/  link-in -> a.txt
///      link-out -> /etc/passwd  dir-out -> /etc  sub-link -> sub  fifo
/// ```
final class Fixture {
    let base: String
    let root: String

    init() throws {
        base = NSTemporaryDirectory() + "tacet-static-\(UUID().uuidString)"
        root = base + "/root"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        try "root index".write(toFile: root + "/index.html", atomically: false, encoding: .utf8)
        try "hello".write(toFile: root + "/a.txt", atomically: false, encoding: .utf8)
        try "euro".write(toFile: root + "/caf€.txt", atomically: false, encoding: .utf8)
        try "sub index".write(toFile: root + "/sub/index.html", atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/link-in", withDestinationPath: "a.txt")
        try fm.createSymbolicLink(atPath: root + "/link-out", withDestinationPath: "/etc/passwd")
        try fm.createSymbolicLink(atPath: root + "/dir-out", withDestinationPath: "/etc")
        try fm.createSymbolicLink(atPath: root + "/sub-link", withDestinationPath: "sub")
        try fm.createSymbolicLink(atPath: base + "/root-link", withDestinationPath: root)
        try "secret".write(toFile: base + "/secret.txt", atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/sibling", withDestinationPath: "../secret.txt")
        _ = mkfifo(root + "/fifo", 0o644)
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }

    func resolve(_ path: String, query: String? = nil) -> PathResolution {
        StaticPath.resolve(requestPath: path, root: root, index: "index.html", query: query)
    }

    func real(_ relative: String) -> String {
        StaticPath.realPath(root + "/" + relative) ?? "?"
    }
}

@Suite struct StaticPathNormalizeTests {
    @Test(arguments: [
        "/../etc/passwd", "/a/../b", "/..", "/%2e%2e/", "/%2E%2E/etc/passwd", "/.%2E/x", "/%2e./x",
        "/a/%2E%2E/%2E%2E/etc/passwd", "/a%2fb", "/a%2F..%2F..%2Fetc", "/..%5c..%5cetc/passwd",
        "/a%5Cb", "/a\\b", "/..\\x",
    ])
    func traversalIsForbidden(_ path: String) {
        #expect(StaticPath.normalize(path) == .failure(.forbidden))
    }

    @Test(arguments: [
        "", "a.txt", "*", "/%00", "/a.txt%00.html", "/%", "/%4", "/%zz", "/%g0", "/a b", "/a\tb",
        "/\u{7F}", "/%0a", "/%FF", "/%C3", "/%C0%AE%C0%AE/etc",
    ])
    func malformedIsBadRequest(_ path: String) {
        #expect(StaticPath.normalize(path) == .failure(.badRequest))
    }

    @Test func collapsesEmptyAndDotSegments() {
        #expect(StaticPath.normalize("/") == .success(.init(segments: [], trailingSlash: true)))
        #expect(StaticPath.normalize("//a/./b//") == .success(.init(segments: ["a", "b"], trailingSlash: true)))
        #expect(StaticPath.normalize("/a/b/.") == .success(.init(segments: ["a", "b"], trailingSlash: true)))
        #expect(StaticPath.normalize("/a/%2E/b") == .success(.init(segments: ["a", "b"], trailingSlash: false)))
        #expect(StaticPath.normalize("/.../..a/a..") == .success(.init(segments: ["...", "..a", "a.."], trailingSlash: false)))
        #expect(StaticPath.normalize("/caf%E2%82%AC.txt") == .success(.init(segments: ["caf€.txt"], trailingSlash: false)))
        #expect(StaticPath.normalize("/a%20b%3F") == .success(.init(segments: ["a b?"], trailingSlash: false)))
    }
}

@Suite struct StaticPathResolveTests {
    @Test func regularFile() throws {
        let f = try Fixture()
        guard case .file(let path, let info) = f.resolve("/a.txt") else {
            Issue.record("expected a file")
            return
        }
        #expect(path == f.real("a.txt"))
        #expect(info.size == 5)
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(info.mtimeSeconds == Int(st.st_mtim.tv_sec))
        #expect(info.mtimeNanoseconds == Int(st.st_mtim.tv_nsec))
        #expect(info.inode == UInt64(st.st_ino))
        #expect(info.device == UInt64(st.st_dev))
    }

    @Test func percentEncodedName() throws {
        let f = try Fixture()
        guard case .file(let path, _) = f.resolve("/caf%E2%82%AC.txt") else {
            Issue.record("expected a file")
            return
        }
        #expect(path == f.real("caf€.txt"))
    }

    @Test func missing() throws {
        let f = try Fixture()
        #expect(f.resolve("/nope.txt") == .notFound)
        #expect(f.resolve("/nope/deeper.txt") == .notFound)
        #expect(f.resolve("/a.txt/") == .notFound)
        #expect(f.resolve("/a.txt/x") == .notFound)
    }

    @Test func directoryIndex() throws {
        let f = try Fixture()
        #expect(f.resolve("/") == .file(path: f.real("index.html"), info: try info(f.real("index.html"))))
        #expect(f.resolve("/sub/") == .file(path: f.real("sub/index.html"), info: try info(f.real("sub/index.html"))))
        #expect(f.resolve("//sub//./") == .file(path: f.real("sub/index.html"), info: try info(f.real("sub/index.html"))))
        #expect(f.resolve("/empty/") == .forbidden)
    }

    @Test func directoryWithoutSlashRedirects() throws {
        let f = try Fixture()
        #expect(f.resolve("/sub") == .redirect(location: "/sub/"))
        #expect(f.resolve("/sub", query: "a=1&b") == .redirect(location: "/sub/?a=1&b"))
        #expect(f.resolve("/%73ub") == .redirect(location: "/%73ub/"))
        #expect(f.resolve("/empty") == .redirect(location: "/empty/"))
        // `//sub/` would be a protocol-relative URL: an open redirect.
        #expect(f.resolve("//sub") == .redirect(location: "/sub/"))
        #expect(f.resolve("/sub", query: "x\r\nSet-Cookie: a") == .redirect(location: "/sub/"))
    }

    @Test func symlinkInsideRootIsFollowed() throws {
        let f = try Fixture()
        #expect(f.resolve("/link-in") == .file(path: f.real("a.txt"), info: try info(f.real("a.txt"))))
        #expect(f.resolve("/sub-link/") == .file(path: f.real("sub/index.html"), info: try info(f.real("sub/index.html"))))
        #expect(f.resolve("/sub-link") == .redirect(location: "/sub-link/"))
    }

    @Test func symlinkOutsideRootIsForbidden() throws {
        let f = try Fixture()
        #expect(f.resolve("/link-out") == .forbidden)
        #expect(f.resolve("/dir-out") == .forbidden)
        #expect(f.resolve("/dir-out/") == .forbidden)
        #expect(f.resolve("/dir-out/passwd") == .forbidden)
        #expect(f.resolve("/sibling") == .forbidden)
    }

    @Test func traversalThroughResolve() throws {
        let f = try Fixture()
        for attempt in ["/../secret.txt", "/%2e%2e/secret.txt", "/sub/%2E%2E/%2E%2E/secret.txt", "/..%2fsecret.txt",
                        "/..%5csecret.txt"] {
            #expect(f.resolve(attempt) == .forbidden, "\(attempt)")
        }
        #expect(f.resolve("/a.txt%00.html") == .badRequest)
    }

    @Test func rootGivenThroughSymlinkWorks() throws {
        let f = try Fixture()
        let r = StaticPath.resolve(requestPath: "/a.txt", root: f.base + "/root-link", index: "index.html")
        #expect(r == .file(path: f.real("a.txt"), info: try info(f.real("a.txt"))))
        #expect(StaticPath.resolve(requestPath: "/a.txt", root: f.base + "/nope", index: "index.html") == .notFound)
        #expect(StaticRoot(f.base + "/secret.txt") == nil)
    }

    @Test func specialFilesAreForbidden() throws {
        let f = try Fixture()
        #expect(f.resolve("/fifo") == .forbidden)
    }

    @Test(.enabled(if: geteuid() != 0, "root can read anything"))
    func unreadableIsForbidden() throws {
        let f = try Fixture()
        #expect(chmod(f.root + "/a.txt", 0) == 0)
        #expect(f.resolve("/a.txt") == .forbidden)
        #expect(chmod(f.root + "/sub", 0) == 0)
        #expect(f.resolve("/sub/index.html") == .forbidden)
        _ = chmod(f.root + "/sub", 0o755)
    }

    @Test func indexThatIsADirectoryIsForbidden() throws {
        let f = try Fixture()
        try FileManager.default.createDirectory(atPath: f.root + "/odd/index.html", withIntermediateDirectories: true)
        #expect(f.resolve("/odd/") == .forbidden)
    }

    private func info(_ path: String) throws -> FileInfo {
        var st = stat()
        try #require(stat(path, &st) == 0)
        return FileInfo(size: Int(st.st_size), mtimeSeconds: Int(st.st_mtim.tv_sec), mtimeNanoseconds: Int(st.st_mtim.tv_nsec),
                        device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }
}
