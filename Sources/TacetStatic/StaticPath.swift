#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a request path leads inside a document root.
public enum PathResolution: Sendable, Hashable {
    /// A readable regular file. `path` is its canonical (symlink-free) absolute path, the one
    /// to `open`; `info` is from the same `stat` (compare dev/inode after `fstat` if paranoid).
    case file(path: String, info: FileInfo)
    /// A directory requested without its trailing slash: 301 to `location` (relative
    /// references in its index page would otherwise resolve one level too high).
    case redirect(location: String)
    case notFound
    /// Traversal attempts, encoded separators, symlinks leaving the root, unreadable files,
    /// directories without an index (no autoindex), and anything that is not a regular file.
    case forbidden
    /// Malformed paths: not starting with `/`, raw control bytes or spaces, invalid
    /// percent-encoding, NUL or other control bytes after decoding, or not UTF-8 once decoded.
    case badRequest
}

/// A document root, canonicalised once (realpath) so each request costs no extra lookups for it.
public struct StaticRoot: Sendable, Hashable {
    /// The canonical absolute path of the root directory.
    public let path: String

    /// `nil` when `path` does not resolve to an existing directory.
    public init?(_ path: String) {
        guard let real = StaticPath.realPath(path), StaticPath.isDirectory(real) else { return nil }
        self.path = real
    }

    /// True when the canonical path `candidate` is the root or lies beneath it.
    func contains(_ candidate: String) -> Bool {
        if path == "/" { return candidate.hasPrefix("/") }
        return candidate == path || candidate.hasPrefix(path + "/")
    }
}

/// Mapping a raw request path to a file under a root, the way nginx's `root` + `index` do.
///
/// Safety is by construction rather than by filtering a joined string: the path is split on
/// raw `/` before decoding, each segment is decoded on its own, and a segment that decodes to
/// `..` or contains a separator is refused, so no decoded byte can climb out. Symlinks are then
/// allowed only if the final realpath stays inside the root's realpath.
public enum StaticPath {
    /// A request path reduced to plain segments (no `.`, `..`, or empty ones).
    public struct Normalized: Sendable, Hashable {
        /// Decoded segments, in order; empty for the root itself.
        public var segments: [String]
        /// The request named a directory explicitly (`/dir/` or `/dir/.`).
        public var trailingSlash: Bool
    }

    /// Resolves `requestPath` (raw, still percent-encoded, without the query) under `root`.
    /// A root that does not exist yields `.notFound`. Prefer the `StaticRoot` overload per request.
    public static func resolve(requestPath: String, root: String, index: String = "index.html",
                               query: String? = nil) -> PathResolution {
        guard let root = StaticRoot(root) else { return .notFound }
        return resolve(requestPath: requestPath, root: root, index: index, query: query)
    }

    /// Resolves `requestPath` (raw, still percent-encoded, without the query) under `root`.
    /// - Parameters:
    ///   - index: the file served for a directory requested with a trailing slash.
    ///   - query: the raw query (without `?`), kept on a directory redirect.
    public static func resolve(requestPath: String, root: StaticRoot, index: String = "index.html",
                               query: String? = nil) -> PathResolution {
        let normalized: Normalized
        switch normalize(requestPath) {
        case .success(let n): normalized = n
        case .failure(let refusal): return refusal.resolution
        }
        let joined = normalized.segments.isEmpty ? root.path : root.path + "/" + normalized.segments.joined(separator: "/")

        let target: (real: String, info: stat)
        switch inspect(joined, root: root) {
        case .success(let t): target = t
        case .failure(let refusal): return refusal.resolution
        }
        switch target.info.st_mode & S_IFMT {
        case S_IFDIR:
            guard normalized.trailingSlash || normalized.segments.isEmpty else {
                return .redirect(location: redirectLocation(requestPath, query: query))
            }
            // Like nginx without autoindex: a directory without its index is forbidden.
            switch inspect(target.real + "/" + index, root: root) {
            case .success(let indexTarget): return regularFile(indexTarget, missing: .forbidden)
            case .failure: return .forbidden
            }
        case S_IFREG:
            // `/file/` names a directory that does not exist (stat gives ENOTDIR, nginx 404s).
            if normalized.trailingSlash { return .notFound }
            return regularFile(target, missing: .notFound)
        default:
            // FIFOs would block `open`, devices and sockets are never content.
            return .forbidden
        }
    }

    /// Why a path was refused before touching the file system.
    public enum Refusal: Error, Sendable, Hashable {
        case badRequest, forbidden, notFound

        var resolution: PathResolution {
            switch self {
            case .badRequest: return .badRequest
            case .forbidden: return .forbidden
            case .notFound: return .notFound
            }
        }
    }

    /// The pure, file-system-free half of `resolve`: validation, decoding and collapsing.
    public static func normalize(_ requestPath: String) -> Result<Normalized, Refusal> {
        let raw = Array(requestPath.utf8)
        guard raw.first == UInt8(ascii: "/") else { return .failure(.badRequest) }
        for b in raw {
            if b <= 0x20 || b == 0x7F { return .failure(.badRequest) }
            if b == UInt8(ascii: "\\") { return .failure(.forbidden) } // a separator on other OSes and to browsers
        }
        var segments: [String] = []
        var trailingSlash = false
        for rawSegment in raw.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst() {
            guard let decoded = percentDecode(rawSegment) else { return .failure(.badRequest) }
            for b in decoded {
                if b < 0x20 || b == 0x7F { return .failure(.badRequest) } // NUL truncates C paths
                if b == UInt8(ascii: "/") || b == UInt8(ascii: "\\") { return .failure(.forbidden) }
            }
            trailingSlash = false
            if decoded.isEmpty || decoded == [UInt8(ascii: ".")] {
                trailingSlash = true
                continue
            }
            if decoded == [UInt8(ascii: "."), UInt8(ascii: ".")] { return .failure(.forbidden) }
            guard let segment = String(validating: decoded, as: UTF8.self) else { return .failure(.badRequest) }
            segments.append(segment)
        }
        return .success(Normalized(segments: segments, trailingSlash: trailingSlash))
    }

    // MARK: - Helpers

    private static func percentDecode(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "%") {
                guard bytes.endIndex - i >= 3,
                      let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2])
                else { return nil }
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(b)
                i += 1
            }
        }
        return out
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// `stat` (following symlinks) plus the realpath containment check.
    private static func inspect(_ path: String, root: StaticRoot) -> Result<(real: String, info: stat), Refusal> {
        var info = stat()
        guard stat(path, &info) == 0 else {
            switch errno {
            case ENOENT, ENOTDIR, ENAMETOOLONG: return .failure(.notFound)
            default: return .failure(.forbidden) // EACCES, ELOOP, and errors we will not explain to clients
            }
        }
        guard let real = realPath(path) else { return .failure(.forbidden) }
        guard root.contains(real) else { return .failure(.forbidden) }
        return .success((real, info))
    }

    private static func regularFile(_ target: (real: String, info: stat), missing: PathResolution) -> PathResolution {
        guard target.info.st_mode & S_IFMT == S_IFREG else { return .forbidden }
        guard access(target.real, R_OK) == 0 else { return errno == ENOENT ? missing : .forbidden }
        let st = target.info
        return .file(path: target.real, info: FileInfo(
            size: Int(st.st_size),
            mtimeSeconds: Int(st.st_mtim.tv_sec),
            mtimeNanoseconds: Int(st.st_mtim.tv_nsec),
            device: UInt64(st.st_dev),
            inode: UInt64(st.st_ino)))
    }

    /// The client's own encoded path plus `/` (and the query), so the redirect names exactly what
    /// was asked. Leading slashes are collapsed because `//host/` would be a protocol-relative URL
    /// (an open redirect); non-ASCII bytes are percent-encoded to keep the header ASCII.
    static func redirectLocation(_ requestPath: String, query: String?) -> String {
        var out: [UInt8] = [UInt8(ascii: "/")]
        var leading = true
        for b in requestPath.utf8 {
            if leading && b == UInt8(ascii: "/") { continue }
            leading = false
            appendEncodedIfNeeded(&out, b)
        }
        out.append(UInt8(ascii: "/"))
        if let query, !query.isEmpty, !query.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            out.append(UInt8(ascii: "?"))
            for b in query.utf8 { appendEncodedIfNeeded(&out, b) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendEncodedIfNeeded(_ out: inout [UInt8], _ b: UInt8) {
        guard b >= 0x80 || b == 0x20 else {
            out.append(b)
            return
        }
        let hex = Array("0123456789ABCDEF".utf8)
        out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }
}
