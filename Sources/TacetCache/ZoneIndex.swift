/// A zone's catalogue (pure): which entries exist, by primary key and Vary variant; which are on
/// disk and which bodies are held in memory, each in least-recently-used order under its bound;
/// and the keys remembered as not storable (hit-for-miss). Every change returns the entries it
/// dropped, so the caller deletes their files; nothing here touches a disk.
public struct ZoneIndex<Body: Sendable>: Sendable {
    public struct Entry: Sendable {
        /// The entry's file name (a digest of primary and variant key).
        public let id: String
        public var header: EntryHeader
        /// Where the body starts in the file, and the file's whole size.
        public var bodyOffset: Int
        public var fileSize: Int
        public var onDisk: Bool
        /// The body, while it is in the memory hot set.
        public var body: Body?
        /// What hits read of it, worked out once (nil in tests that need none).
        public var facts: EntryFacts?

        public init(id: String, header: EntryHeader, bodyOffset: Int, fileSize: Int, onDisk: Bool, body: Body?,
                    facts: EntryFacts? = nil) {
            self.id = id
            self.header = header
            self.bodyOffset = bodyOffset
            self.fileSize = fileSize
            self.onDisk = onDisk
            self.body = body
            self.facts = facts
        }
    }

    struct Primary: Sendable {
        /// The fields the stored responses' Vary names (one list per primary key: a response with
        /// another list replaces the variants stored under the old one).
        var vary: [String]
        var variants: [String: String] = [:]
    }

    private var primaries: [String: Primary] = [:]
    public private(set) var entries: [String: Entry] = [:]
    private var disk: LRUIndex<String>
    private var memory: LRUIndex<String>
    private var hitForMiss: [String: Int] = [:]
    /// Hit-for-miss keys kept at most; past it the oldest marks are forgotten (they only save a wait).
    static var maxHitForMiss: Int { 100_000 }

    public init(maxDisk: Int, maxMemory: Int) {
        disk = LRUIndex(maxBytes: maxDisk)
        memory = LRUIndex(maxBytes: maxMemory)
    }

    public var count: Int { entries.count }
    public var diskBytes: Int { disk.bytes }
    public var memoryBytes: Int { memory.bytes }

    /// The fields the stored variants of `primary` vary on; nil when nothing is stored for it.
    public func varyFields(_ primary: String) -> [String]? { primaries[primary]?.vary }

    /// The entry for this variant, made most recently used.
    public mutating func lookup(primary: String, variant: String, now: Int) -> Entry? {
        guard let id = primaries[primary]?.variants[variant], let entry = entries[id] else { return nil }
        disk.touch(id, now: now)
        memory.touch(id, now: now)
        return entry
    }

    /// Adds (or replaces) an entry whose body is `bodySize` bytes; returns what was dropped.
    public mutating func insert(_ entry: Entry, vary: [String], bodySize: Int, now: Int) -> [Entry] {
        let primary = entry.header.key
        var dropped: [Entry] = []
        if let existing = primaries[primary], existing.vary != vary {
            dropped += remove(primary: primary)
        }
        if let old = primaries[primary]?.variants[entry.header.variant], old != entry.id, let gone = drop(old) { dropped.append(gone) }
        if entries[entry.id] != nil { _ = drop(entry.id) }
        primaries[primary, default: Primary(vary: vary)].variants[entry.header.variant] = entry.id
        entries[entry.id] = entry
        hitForMiss[primary] = nil
        if entry.onDisk { dropped += evict(disk.insert(entry.id, size: entry.fileSize, now: now), keepingBodyOnly: false) }
        if entry.body != nil { dropped += evict(memory.insert(entry.id, size: bodySize, now: now), keepingBodyOnly: true) }
        return dropped
    }

    /// The entry's file is written whole: it counts against the disk bound from now.
    public mutating func storedOnDisk(id: String, fileSize: Int, now: Int) -> [Entry] {
        guard var entry = entries[id] else { return [] }
        entry.onDisk = true
        entry.fileSize = fileSize
        entries[id] = entry
        return evict(disk.insert(id, size: fileSize, now: now), keepingBodyOnly: false)
    }

    /// A revalidation's 304 gave the entry new fields and times.
    public mutating func update(id: String, header: EntryHeader, facts: EntryFacts?) {
        entries[id]?.header = header
        entries[id]?.facts = facts
    }

    /// Every variant of `primary` (a purge, or an unsafe method's invalidation).
    public mutating func remove(primary: String) -> [Entry] {
        guard let stored = primaries.removeValue(forKey: primary) else { return [] }
        return stored.variants.values.compactMap { drop($0) }
    }

    /// Every primary key that starts with `prefix`.
    public mutating func remove(prefix: String) -> [Entry] {
        primaries.keys.filter { $0.hasPrefix(prefix) }.flatMap { remove(primary: $0) }
    }

    /// Entries unused for `inactive` seconds, fresh or not.
    public mutating func sweep(now: Int, inactive: Int) -> [Entry] {
        let stale = disk.sweep(now: now, inactive: inactive) + memory.sweep(now: now, inactive: inactive)
        return Set(stale).compactMap { drop($0) }
    }

    public mutating func markHitForMiss(_ primary: String, until: Int) {
        if hitForMiss.count >= Self.maxHitForMiss, let oldest = hitForMiss.min(by: { $0.value < $1.value })?.key {
            hitForMiss[oldest] = nil
        }
        hitForMiss[primary] = until
    }

    public mutating func isHitForMiss(_ primary: String, now: Int) -> Bool {
        guard let until = hitForMiss[primary] else { return false }
        if until > now { return true }
        hitForMiss[primary] = nil
        return false
    }

    /// Keys evicted from one of the two bounds: out of memory, an entry on disk keeps its file
    /// and only loses its body; otherwise it is gone.
    private mutating func evict(_ ids: [String], keepingBodyOnly: Bool) -> [Entry] {
        var dropped: [Entry] = []
        for id in ids {
            if keepingBodyOnly, let entry = entries[id], entry.onDisk {
                entries[id]?.body = nil
                continue
            }
            if let gone = drop(id) { dropped.append(gone) }
        }
        return dropped
    }

    private mutating func drop(_ id: String) -> Entry? {
        guard let entry = entries.removeValue(forKey: id) else { return nil }
        disk.remove(id)
        memory.remove(id)
        let primary = entry.header.key
        if primaries[primary]?.variants[entry.header.variant] == id {
            primaries[primary]?.variants[entry.header.variant] = nil
            if primaries[primary]?.variants.isEmpty == true { primaries[primary] = nil }
        }
        return entry
    }
}
