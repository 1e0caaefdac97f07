import Crypto
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A zone's files: one per entry, named by a digest of its primary and variant key and sharded
/// two levels deep (`ab/cd/abcd…`), each an `EntryHeader` and the body. Written to a temporary
/// file, synced and renamed, so a crash or a kill leaves either the whole entry or none; the
/// loader serves only files whose header decodes, whose name is their key's digest (a planted or
/// renamed file is not served for another key) and whose size is what the header says.
/// Blocking calls: run them off the event loops (the zone's thread pool), except `open`.
public struct DiskStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public enum StoreError: Error, Equatable, CustomStringConvertible {
        case system(String, Int32)

        public var description: String {
            switch self {
            case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
            }
        }
    }

    /// The file name for a key and variant: SHA-256, hex (a digest an attacker cannot steer two
    /// URLs onto).
    public static func id(key: String, variant: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(key.utf8))
        hasher.update(data: [0])
        hasher.update(data: Array(variant.utf8))
        return hasher.finalize().map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
        }.joined()
    }

    public func path(of id: String) -> String {
        let utf8 = Array(id.utf8)
        guard utf8.count >= 4 else { return root + "/" + id }
        return root + "/" + String(decoding: utf8[0..<2], as: UTF8.self) + "/" + String(decoding: utf8[2..<4], as: UTF8.self) + "/" + id
    }

    /// Creates the root (and its temporary directory) and proves it writable, for `tacet check`
    /// and start; the reason when not.
    public func prepare() throws(StoreError) {
        try makeDirectories(root)
        try makeDirectories(root + "/tmp")
        let probe = root + "/tmp/.probe-\(getpid())"
        let fd = Glibc.open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system("cannot write in \(root)", errno) }
        close(fd)
        unlink(probe)
    }

    /// Writes one entry whole; returns the file's size.
    public func write(id: String, header: EntryHeader, body: ByteBuffer) throws(StoreError) -> Int {
        let final = path(of: id)
        if let slash = final.lastIndex(of: "/") { try makeDirectories(String(final[..<slash])) }
        let temporary = root + "/tmp/" + id + ".\(UInt32.random(in: 0...UInt32.max))"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system("cannot create \(temporary)", errno) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(temporary) }
        }
        let head = header.encoded()
        if let code = head.withUnsafeBytes({ Self.writeAll(fd, $0) }) ?? body.withUnsafeReadableBytes({ Self.writeAll(fd, $0) }) {
            throw .system("cannot write \(temporary)", code)
        }
        guard fsync(fd) == 0 else { throw .system("cannot sync \(temporary)", errno) }
        guard rename(temporary, final) == 0 else { throw .system("cannot rename into \(final)", errno) }
        ok = true
        return head.count + body.readableBytes
    }

    public func remove(id: String) {
        unlink(path(of: id))
    }

    /// Opens an entry's file to serve its body (on the event loop: an open on a warm page
    /// cache, as nginx's is); nil when it is gone.
    public func open(id: String) -> CInt? {
        let fd = Glibc.open(path(of: id), O_RDONLY | O_CLOEXEC)
        return fd >= 0 ? fd : nil
    }

    /// The body bytes of an entry (to rewrite it after a 304), or nil.
    public func readBody(id: String, offset: Int, length: Int) -> ByteBuffer? {
        guard let fd = open(id: id) else { return nil }
        defer { close(fd) }
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { pointer in
            var done = 0
            while done < length {
                let n = pread(fd, pointer.baseAddress! + done, length - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                done += n
            }
            return done
        }
        return read == length ? buffer : nil
    }

    /// Every whole entry under the root (the loader, at start and reload); removes temporary
    /// files and anything that does not decode, is misnamed, or has the wrong size.
    public func load() -> [(id: String, header: EntryHeader, bodyOffset: Int, fileSize: Int)] {
        clear(root + "/tmp")
        var found: [(id: String, header: EntryHeader, bodyOffset: Int, fileSize: Int)] = []
        for first in names(in: root) where first.utf8.count == 2 {
            for second in names(in: root + "/" + first) where second.utf8.count == 2 {
                let directory = root + "/" + first + "/" + second
                for name in names(in: directory) {
                    let file = directory + "/" + name
                    if let entry = read(file: file, name: name), path(of: name) == file {
                        found.append(entry)
                    } else {
                        unlink(file)
                    }
                }
            }
        }
        return found
    }

    private func read(file: String, name: String) -> (id: String, header: EntryHeader, bodyOffset: Int, fileSize: Int)? {
        let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let limit = min(Int(info.st_size), 2 * EntryHeader.maxFieldBytes + 2 * EntryHeader.maxKey + 4096)
        var bytes = [UInt8](repeating: 0, count: limit)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, limit, 0) }
        guard n == limit, let (header, offset) = EntryHeader.decode(bytes),
              offset + header.bodyLength == Int(info.st_size),
              Self.id(key: header.key, variant: header.variant) == name else { return nil }
        return (name, header, offset, Int(info.st_size))
    }

    private func names(in directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." && name != "tmp" { names.append(name) }
        }
        return names
    }

    private func clear(_ directory: String) {
        for name in names(in: directory) { unlink(directory + "/" + name) }
    }

    private func makeDirectories(_ path: String) throws(StoreError) {
        var built = ""
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            built += "/" + part
            if mkdir(built, 0o700) != 0 && errno != EEXIST { throw .system("cannot create \(built)", errno) }
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { throw .system("\(path) is not a directory", ENOTDIR) }
    }

    /// nil, or the errno that stopped it.
    private static func writeAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        guard let base = bytes.baseAddress else { return nil }
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, base + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return n < 0 ? errno : ENOSPC }
            done += n
        }
        return nil
    }
}
