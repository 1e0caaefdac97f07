import TacetHTTP
import NIOHTTP1
import NIOPosix

/// The response fields of a whole-file 200 (ETag, Last-Modified, Accept-Ranges, Content-Type),
/// per file version, per event-loop thread. Most requests for a file carry no conditional or
/// range field; for them the head is ready-made and nothing is formatted or hashed.
///
/// Direct-mapped (a slot per hash of device, inode and mtime): a collision costs one rebuild,
/// never a wrong answer, since the whole key is compared.
final class FileHeadCache: @unchecked Sendable, PerThreadCache {
    // @unchecked: each instance lives in a thread-specific slot and is only touched by its thread.
    private struct Key: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int
        var mtime: Int
        var mtimeNanoseconds: Int
        var name: String
    }

    private struct Entry {
        var key: Key
        var headers: HTTPHeaders
    }

    private static let slots = 256
    private var entries: [Entry?] = Array(repeating: nil, count: FileHeadCache.slots)
    static let perThread = ThreadSpecificVariable<FileHeadCache>()

    /// The fields for a 200 with the whole of this file; `name` gives its Content-Type.
    func headers(for info: FileInfo, name: String) -> HTTPHeaders {
        let key = Key(device: info.device, inode: info.inode, size: info.size, mtime: info.mtimeSeconds,
                      mtimeNanoseconds: info.mtimeNanoseconds, name: name)
        let slot = Int(truncatingIfNeeded: (info.inode &* 0x9E37_79B9_7F4A_7C15) >> 56) % Self.slots
        if let entry = entries[slot], entry.key == key { return entry.headers }
        let (etag, lastModified) = Validators.current.values(for: info)
        let headers = HTTPHeaders([
            ("ETag", etag), ("Last-Modified", lastModified), ("Accept-Ranges", "bytes"),
            ("Content-Type", MimeTypes.contentType(forPath: name)),
        ])
        entries[slot] = Entry(key: key, headers: headers)
        return headers
    }
}
