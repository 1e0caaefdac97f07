/// Consistent hashing (ketama, as nginx's `hash ... consistent`): each server owns 160 points
/// per unit of weight on a ring of 64-bit hashes, and a key goes to the owner of the first point
/// at or after its own hash. Adding or removing a server moves only the keys of its arcs, so a
/// tier of caches sharded by URL keeps most of what it stored. Points hash the server's
/// `host:port`, so every instance given the same servers builds the same ring.
public struct HashRing: Sendable {
    public static let pointsPerWeight = 160
    private let points: [(hash: UInt64, server: Int)]
    public let servers: Int

    public init(servers: [(name: String, weight: Int)]) {
        var points: [(hash: UInt64, server: Int)] = []
        for (index, server) in servers.enumerated() {
            for point in 0..<(Self.pointsPerWeight * max(1, server.weight)) {
                points.append((Self.hash("\(server.name)-\(point)"), index))
            }
        }
        self.points = points.sorted { $0.hash == $1.hash ? $0.server < $1.server : $0.hash < $1.hash }
        self.servers = servers.count
    }

    /// FNV-1a over the bytes, then splitmix64's finaliser (FNV alone clusters similar keys).
    public static func hash(_ key: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }

    /// The owner of `hash`, or of the next point whose server `accepts` (a server down or
    /// already tried passes its keys to the next along the ring); nil when none does.
    public func server(for hash: UInt64, accepts: (Int) -> Bool) -> Int? {
        guard !points.isEmpty else { return nil }
        var low = 0, high = points.count
        while low < high {
            let mid = (low + high) / 2
            if points[mid].hash < hash { low = mid + 1 } else { high = mid }
        }
        var refused = Set<Int>()
        for step in 0..<points.count {
            let server = points[(low + step) % points.count].server
            if refused.contains(server) { continue }
            if accepts(server) { return server }
            refused.insert(server)
            if refused.count == servers { return nil }
        }
        return nil
    }
}
