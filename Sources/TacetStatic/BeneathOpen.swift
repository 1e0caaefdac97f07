import CTacetSys
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens a request's file under the root with openat2(RESOLVE_BENEATH): the kernel refuses any
/// resolution, through `..` or a symlink, that leaves the root. Two system calls per request
/// (openat2, fstat) instead of stat, realpath's readlinks and access; nginx does the same two.
enum BeneathOpen {
    enum Result {
        /// `name`: the file's own name (the index file for a directory), for its Content-Type;
        /// `path`: where it is, relative to the root (absolute where openat2 is missing), where
        /// its precompressed siblings would be.
        case file(fd: Int32, info: stat, name: String, path: String)
        case redirect(location: String)
        /// A directory (relative to the root) without its index, on a route with `autoindex`.
        case listing(relative: String)
        case notFound, forbidden, badRequest
        /// openat2 is not available here: use `StaticPath.resolve`.
        case unsupported
    }

    static func open(requestPath: String, root: RootDirectory, index: String, query: String?, autoindex: Bool = false) -> Result {
        // A path relative to the root, whether it ended in a slash, and the name it ends with.
        let relative: String
        let trailingSlash: Bool
        if let plain = plainPath(requestPath) {
            (relative, trailingSlash) = plain
        } else {
            switch StaticPath.normalize(requestPath) {
            case .success(let n):
                relative = n.segments.isEmpty ? "." : n.segments.joined(separator: "/")
                trailingSlash = n.trailingSlash || n.segments.isEmpty
            case .failure(.badRequest): return .badRequest
            case .failure(.forbidden): return .forbidden
            case .failure(.notFound): return .notFound
            }
        }
        guard let rootFD = root.descriptor else { return .notFound }
        // withCString: a short name goes through a stack copy, not an array per request.
        var fd = relative.withCString { tacet_openat_beneath(rootFD, $0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        if fd == -ENOSYS { return .unsupported }
        guard fd >= 0 else { return failure(-fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            return .forbidden
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            close(fd)
            guard trailingSlash else {
                return .redirect(location: StaticPath.redirectLocation(requestPath, query: query))
            }
            // Like nginx without autoindex: a directory without its index is forbidden.
            fd = tacet_openat_beneath(rootFD, relative == "." ? index : relative + "/" + index, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { return autoindex && -fd == ENOENT ? .listing(relative: relative) : .forbidden }
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                close(fd)
                return .forbidden
            }
            return .file(fd: fd, info: info, name: index, path: relative == "." ? index : relative + "/" + index)
        case S_IFREG:
            if trailingSlash {
                close(fd)
                return .notFound
            }
            return .file(fd: fd, info: info, name: relative, path: relative)
        default:
            close(fd)
            return .forbidden
        }
    }

    /// A regular file at `path` (relative) beneath the root, or nil: a precompressed sibling.
    static func openSibling(_ path: String, root: RootDirectory) -> (fd: Int32, info: stat)? {
        guard let rootFD = root.descriptor else { return nil }
        let fd = path.withCString { tacet_openat_beneath(rootFD, $0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        if fd == -ENOSYS { return nil }
        return regularFile(fd)
    }

    /// `fd` if it is a regular file (else closed): what may be served.
    static func regularFile(_ fd: Int32) -> (fd: Int32, info: stat)? {
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return nil
        }
        return (fd, info)
    }

    /// The common case, without decoding or splitting into strings: visible ASCII, no `%`, no
    /// backslash, no empty, `.` or `..` segment. Anything else goes through `StaticPath.normalize`
    /// and its stricter refusals. Returns the path relative to the root ("." for the root itself).
    static func plainPath(_ path: String) -> (relative: String, trailingSlash: Bool)? {
        let utf8 = path.utf8
        guard utf8.first == UInt8(ascii: "/") else { return nil }
        if utf8.count == 1 { return (".", true) }
        var segmentLength = 0
        var segmentAllDots = true
        for b in utf8.dropFirst() {
            if b == UInt8(ascii: "/") {
                if segmentLength == 0 || (segmentAllDots && segmentLength <= 2) { return nil }
                segmentLength = 0
                segmentAllDots = true
                continue
            }
            guard b > 0x20, b < 0x7F, b != UInt8(ascii: "%"), b != UInt8(ascii: "\\") else { return nil }
            segmentLength += 1
            if b != UInt8(ascii: ".") { segmentAllDots = false }
        }
        if segmentLength > 0 && segmentAllDots && segmentLength <= 2 { return nil }
        let trailingSlash = segmentLength == 0
        var relative = Substring(path.utf8.dropFirst())
        if trailingSlash { relative = relative.dropLast() }
        return (String(relative), trailingSlash)
    }

    private static func failure(_ error: Int32) -> Result {
        switch error {
        case ENOENT, ENOTDIR, ENAMETOOLONG: return .notFound
        default: return .forbidden  // EXDEV, ELOOP: a way out of the root; EACCES, EPERM
        }
    }
}

/// A static root's directory descriptor, per event-loop thread, reopened each second so a root
/// that is a symlink swapped on deploy is followed, as nginx follows it. One per responder, so a
/// request finds its descriptor without hashing the path.
final class RootDirectory: Sendable {
    let path: String
    private let perThread = ThreadSpecificVariable<Slot>()

    /// @unchecked: each slot lives in a thread-specific variable and is only touched by its thread.
    private final class Slot: @unchecked Sendable {
        var fd: Int32 = -1
        var opened = -1
        deinit { if fd >= 0 { close(fd) } }
    }

    init(path: String) {
        self.path = path
    }

    var descriptor: Int32? {
        let slot: Slot
        if let existing = perThread.currentValue {
            slot = existing
        } else {
            slot = Slot()
            perThread.currentValue = slot
        }
        let now = Int(time(nil))
        if slot.fd >= 0 && slot.opened == now { return slot.fd }
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if slot.fd >= 0 { close(slot.fd) }
        slot.fd = fd
        slot.opened = now
        return fd >= 0 ? fd : nil
    }
}
