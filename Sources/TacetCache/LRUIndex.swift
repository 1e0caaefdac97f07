/// Entries by key in least-recently-used order, bounded in bytes (pure, O(1) per operation):
/// the zone's disk store under `max_size`, its memory hot set under `memory`. Inserting past the
/// bound, or sweeping for entries unused longer than `inactive`, returns the keys to drop; the
/// caller deletes what they name.
public struct LRUIndex<Key: Hashable & Sendable>: Sendable {
    struct Node: Sendable {
        var key: Key
        var size: Int
        var lastUsed: Int
        var older: Int?
        var newer: Int?
    }

    public let maxBytes: Int
    public private(set) var bytes = 0
    private var nodes: [Node] = []
    private var free: [Int] = []
    private var positions: [Key: Int] = [:]
    private var newest: Int?
    private var oldest: Int?

    public init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    public var count: Int { positions.count }
    public func contains(_ key: Key) -> Bool { positions[key] != nil }
    public func size(of key: Key) -> Int? { positions[key].map { nodes[$0].size } }

    /// Adds or replaces `key` as the newest; returns the keys evicted to fit (never `key`
    /// itself, unless it alone is over the bound: then it is not kept and is returned).
    public mutating func insert(_ key: Key, size: Int, now: Int) -> [Key] {
        remove(key)
        guard size <= maxBytes else { return [key] }
        var evicted: [Key] = []
        while bytes + size > maxBytes, let oldest {
            let victim = nodes[oldest].key
            remove(victim)
            evicted.append(victim)
        }
        let node = Node(key: key, size: size, lastUsed: now, older: newest, newer: nil)
        let index: Int
        if let reused = free.popLast() { nodes[reused] = node; index = reused } else { nodes.append(node); index = nodes.count - 1 }
        if let newest { nodes[newest].newer = index }
        newest = index
        if oldest == nil { oldest = index }
        positions[key] = index
        bytes += size
        return evicted
    }

    /// A hit: `key` becomes the newest.
    public mutating func touch(_ key: Key, now: Int) {
        guard let index = positions[key] else { return }
        nodes[index].lastUsed = now
        guard newest != index else { return }
        unlink(index)
        nodes[index].older = newest
        nodes[index].newer = nil
        if let newest { nodes[newest].newer = index }
        newest = index
        if oldest == nil { oldest = index }
    }

    @discardableResult
    public mutating func remove(_ key: Key) -> Bool {
        guard let index = positions.removeValue(forKey: key) else { return false }
        bytes -= nodes[index].size
        unlink(index)
        free.append(index)
        return true
    }

    /// Entries not used since `now - inactive`, oldest first, removed.
    public mutating func sweep(now: Int, inactive: Int) -> [Key] {
        var dropped: [Key] = []
        while let oldest, nodes[oldest].lastUsed < now - inactive {
            let key = nodes[oldest].key
            remove(key)
            dropped.append(key)
        }
        return dropped
    }

    /// Keys from the least recently used (for tests and the admin view).
    public var keysOldestFirst: [Key] {
        var keys: [Key] = []
        var cursor = oldest
        while let index = cursor {
            keys.append(nodes[index].key)
            cursor = nodes[index].newer
        }
        return keys
    }

    private mutating func unlink(_ index: Int) {
        let older = nodes[index].older, newer = nodes[index].newer
        if let older { nodes[older].newer = newer } else { oldest = newer }
        if let newer { nodes[newer].older = older } else { newest = older }
        nodes[index].older = nil
        nodes[index].newer = nil
    }
}
