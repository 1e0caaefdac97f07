import NIOPosix
import TacetHTTP

/// ETag and Last-Modified strings per file version, per event-loop thread: formatting them is
/// most of what a static response costs in user space, and the same files are asked for again.
final class Validators: @unchecked Sendable, PerThreadCache {
    // @unchecked: each instance lives in a thread-specific slot and is only touched by its thread.
    private struct Key: Hashable {
        var size: Int
        var mtime: Int
    }

    private var cache: [Key: (etag: String, lastModified: String)] = [:]
    private static let limit = 4096
    static let perThread = ThreadSpecificVariable<Validators>()

    func values(for info: FileInfo) -> (etag: String, lastModified: String) {
        let key = Key(size: info.size, mtime: info.mtimeSeconds)
        if let hit = cache[key] { return hit }
        let values = (ETag.make(for: info), HTTPDate.format(epochSeconds: info.mtimeSeconds))
        if cache.count >= Self.limit { cache.removeAll(keepingCapacity: true) }
        cache[key] = values
        return values
    }
}
