import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a zone keeps for a fill in progress, so that a request on any event loop can find it and
/// join (the fill itself lives on one loop; the handle knows how to reach it).
public protocol FillReference: AnyObject, Sendable {}

/// One `cache: zones:` entry at run time, shared by every event loop and kept across reloads:
/// the index behind a lock (held for lookups and changes only, never for I/O), the fills in
/// progress, the disk store written on a thread pool, and the counters the admin view shows.
public final class CacheZone: Sendable {
    public struct Settings: Sendable, Equatable {
        public var name: String
        public var path: String
        public var maxSize: Int
        public var memory: Int
        public var inactive: Int
        public var maxObject: Int

        public init(name: String, path: String, maxSize: Int, memory: Int, inactive: Int, maxObject: Int) {
            self.name = name
            self.path = path
            self.maxSize = maxSize
            self.memory = memory
            self.inactive = inactive
            self.maxObject = maxObject
        }
    }

    public typealias Entry = ZoneIndex<ByteBuffer>.Entry

    /// What a request finds: a stored entry for its variant (usable or not: `Reuse` decides),
    /// a fill in progress for it, and whether the key is remembered as not storable.
    public struct Lookup: Sendable {
        public var entry: Entry?
        public var fill: (any FillReference)?
        public var hitForMiss: Bool
        public var primary: String
        public var variant: String
        /// The key of the fill this request would join or start.
        public var fillKey: String { primary + "\n" + variant }
    }

    public struct Stats: Sendable, Equatable {
        public var entries = 0
        public var diskBytes = 0
        public var memoryBytes = 0
        public var requests: [String: Int] = [:]
        public var bytesServed = 0
        public var storeErrors = 0

        /// Hits (fresh, stale-while-revalidate, stale-if-error, revalidated) over all requests.
        public var hitRatio: Double {
            let total = requests.values.reduce(0, +)
            guard total > 0 else { return 0 }
            let hits = ["hit", "updating", "stale", "revalidated"].reduce(0) { $0 + (requests[$1] ?? 0) }
            return Double(hits) / Double(total)
        }
    }

    struct State: Sendable {
        var index: ZoneIndex<ByteBuffer>
        var fills: [String: any FillReference] = [:]
        var stats = Stats()
        var lastSweep = 0
        /// Disk writes submitted and not yet done, and who waits for none.
        var writes = 0
        var settled: [CheckedContinuation<Void, Never>] = []
    }

    public let settings: Settings
    public let disk: DiskStore
    let threadPool: NIOThreadPool
    let logger: Logger
    /// The HTTP-date parser facts are made with.
    let date: @Sendable (String) -> Int?
    private let state: NIOLockedValueBox<State>
    private let counters = Counters()
    /// Seconds a key found not storable is sent straight upstream.
    public static let hitForMissSeconds = 120

    /// The zones' writers (each write ends in an fsync): their own threads, never NIO's shared
    /// pool, where a burst of fills would hold up what else waits there (NIO resolves host
    /// names for connections on it). Started once, for the process's life, as that pool is.
    public static let writers: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    /// Opens the zone's directory (created if missing), proving it writable, and loads what a
    /// previous run stored. Throws the reason the path is unusable.
    public init(settings: Settings, threadPool: NIOThreadPool, logger: Logger,
                date: @escaping @Sendable (String) -> Int?) throws(DiskStore.StoreError) {
        self.settings = settings
        self.disk = DiskStore(root: settings.path)
        self.threadPool = threadPool
        self.logger = logger
        self.date = date
        try disk.prepare()
        var index = ZoneIndex<ByteBuffer>(maxDisk: settings.maxSize, maxMemory: settings.memory)
        let now = Self.now()
        var dropped: [Entry] = []
        for found in disk.load() {
            let vary = Variant.fields(found.header.fields.filter { $0.name.lowercased() == "vary" }.map(\.value)) ?? []
            let entry = Entry(id: found.id, header: found.header, bodyOffset: found.bodyOffset, fileSize: found.fileSize,
                              onDisk: true, body: nil, facts: EntryFacts(header: found.header, date: date))
            dropped += index.insert(entry, vary: vary, bodySize: 0, now: now)
        }
        for entry in dropped { disk.remove(id: entry.id) }
        state = NIOLockedValueBox(State(index: index, lastSweep: now))
    }

    public static func now() -> Int { Int(time(nil)) }

    /// The stored entry, the fill in progress and the hit-for-miss mark for a request's key.
    /// `field` gives the request's values of a field (lowercased name), for its Vary variant.
    public func lookup(primary: String, field: (String) -> [String], now: Int) -> Lookup {
        state.withLockedValue { state in
            let vary = state.index.varyFields(primary) ?? []
            let variant = Variant.key(fields: vary, request: field)
            let entry = state.index.lookup(primary: primary, variant: variant, now: now)
            // A fill is looked for only when there is no entry, or it may be stale (the caller decides).
            let fill = state.fills.isEmpty ? nil : state.fills[primary + "\n" + variant]
            return Lookup(entry: entry, fill: fill, hitForMiss: entry == nil && state.index.isHitForMiss(primary, now: now),
                          primary: primary, variant: variant)
        }
    }

    /// Registers `fill` for `key`, unless another request registered one first: then that one.
    public func register(_ fill: any FillReference, key: String) -> (any FillReference)? {
        state.withLockedValue { state in
            if let existing = state.fills[key] { return existing }
            state.fills[key] = fill
            return nil
        }
    }

    public func unregister(_ fill: any FillReference, key: String) {
        state.withLockedValue { state in
            if let current = state.fills[key], current === fill { state.fills[key] = nil }
        }
    }

    public func markHitForMiss(_ primary: String, now: Int) {
        state.withLockedValue { $0.index.markHitForMiss(primary, until: now + Self.hitForMissSeconds) }
    }

    /// A whole, storable response: in memory at once (readers that come next hit it), then
    /// written to disk on the thread pool. A failed write is counted and logged; serving goes on.
    public func store(header: EntryHeader, body: ByteBuffer, vary: [String]) {
        let now = Self.now()
        let id = DiskStore.id(key: header.key, variant: header.variant)
        let offset = header.encoded().count
        let keep = body.readableBytes <= settings.memory
        let facts = EntryFacts(header: header, date: date)
        let entry = Entry(id: id, header: header, bodyOffset: offset, fileSize: offset + body.readableBytes, onDisk: false,
                          body: keep ? body : nil, facts: facts)
        let dropped = state.withLockedValue { state in
            var dropped = keep ? state.index.insert(entry, vary: vary, bodySize: body.readableBytes, now: now) : []
            if now - state.lastSweep >= 60 {
                state.lastSweep = now
                dropped += state.index.sweep(now: now, inactive: settings.inactive)
            }
            return dropped
        }
        let disk = self.disk
        submit { [self] in
            for gone in dropped where gone.id != id { disk.remove(id: gone.id) }
            do {
                let size = try disk.write(id: id, header: header, body: body)
                let evicted = state.withLockedValue { state -> [Entry]? in
                    // Purged or replaced while it was written: the file must not outlive it.
                    if keep && state.index.entries[id]?.header != header { return nil }
                    if !keep { return state.index.insert(Entry(id: id, header: header, bodyOffset: offset, fileSize: size,
                                                                   onDisk: true, body: nil, facts: facts), vary: vary, bodySize: 0, now: now) }
                    return state.index.storedOnDisk(id: id, fileSize: size, now: now)
                }
                guard let evicted else { return disk.remove(id: id) }
                for gone in evicted where gone.id != id { disk.remove(id: gone.id) }
            } catch {
                state.withLockedValue { $0.stats.storeErrors += 1 }
                logger.error("cache zone \(settings.name): not stored: \(error)")
            }
        }
    }

    /// A 304 from the origin refreshed `entry`: its new header, in memory now and on disk next.
    public func refresh(_ entry: Entry, header: EntryHeader) {
        let facts = EntryFacts(header: header, date: date)
        state.withLockedValue { $0.index.update(id: entry.id, header: header, facts: facts) }
        let disk = self.disk
        let body = entry.body
        submit { [self] in
            guard let body = body ?? disk.readBody(id: entry.id, offset: entry.bodyOffset, length: entry.header.bodyLength) else { return }
            do {
                let size = try disk.write(id: entry.id, header: header, body: body)
                _ = state.withLockedValue { $0.index.storedOnDisk(id: entry.id, fileSize: size, now: Self.now()) }
            } catch {
                state.withLockedValue { $0.stats.storeErrors += 1 }
                logger.error("cache zone \(settings.name): not refreshed: \(error)")
            }
        }
    }

    /// Every variant of `primary` (an unsafe method's invalidation, a purge); how many went.
    @discardableResult
    public func remove(primary: String) -> Int {
        dropFiles(state.withLockedValue { $0.index.remove(primary: primary) })
    }

    /// Every key under `prefix` (a purge).
    @discardableResult
    public func remove(prefix: String) -> Int {
        dropFiles(state.withLockedValue { $0.index.remove(prefix: prefix) })
    }

    /// An entry whose file was found gone or damaged when served.
    public func forget(_ entry: Entry) {
        state.withLockedValue { state in
            if state.index.entries[entry.id]?.header == entry.header { _ = state.index.remove(primary: entry.header.key) }
        }
    }

    /// One request on a cached route, by its `CacheStatus.Outcome` name (atomics: no lock per hit).
    public func count(_ status: String, bytes: Int = 0) {
        counters.count(status, bytes: bytes)
    }

    public var stats: Stats {
        state.withLockedValue { state in
            var stats = state.stats
            stats.requests = counters.requests
            stats.bytesServed = counters.bytes.load(ordering: .relaxed)
            stats.entries = state.index.count
            stats.diskBytes = state.index.diskBytes
            stats.memoryBytes = state.index.memoryBytes
            return stats
        }
    }

    /// Returns once every disk write submitted so far is done (a restart then finds them; tests).
    public func writesSettled() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { state -> Bool in
                if state.writes == 0 { return true }
                state.settled.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func submit(_ work: @escaping @Sendable () -> Void) {
        state.withLockedValue { $0.writes += 1 }
        threadPool.submit { [self] _ in
            work()
            let waiting = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                state.writes -= 1
                guard state.writes == 0 else { return [] }
                defer { state.settled = [] }
                return state.settled
            }
            for continuation in waiting { continuation.resume() }
        }
    }

    private func dropFiles(_ entries: [Entry]) -> Int {
        guard !entries.isEmpty else { return 0 }
        let disk = self.disk
        submit { for entry in entries { disk.remove(id: entry.id) } }
        return entries.count
    }
}

/// The per-status request counts and bytes served, as atomics.
final class Counters: Sendable {
    static let names = ["hit", "miss", "stale", "updating", "revalidated", "bypass", "expired"]
    let hit = Atomic<Int>(0), miss = Atomic<Int>(0), stale = Atomic<Int>(0), updating = Atomic<Int>(0)
    let revalidated = Atomic<Int>(0), bypass = Atomic<Int>(0), expired = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)

    func count(_ status: String, bytes served: Int) {
        switch status {
        case "hit": hit.add(1, ordering: .relaxed)
        case "miss": miss.add(1, ordering: .relaxed)
        case "stale": stale.add(1, ordering: .relaxed)
        case "updating": updating.add(1, ordering: .relaxed)
        case "revalidated": revalidated.add(1, ordering: .relaxed)
        case "bypass": bypass.add(1, ordering: .relaxed)
        default: expired.add(1, ordering: .relaxed)
        }
        if served > 0 { bytes.add(served, ordering: .relaxed) }
    }

    var requests: [String: Int] {
        ["hit": hit.load(ordering: .relaxed), "miss": miss.load(ordering: .relaxed), "stale": stale.load(ordering: .relaxed),
         "updating": updating.load(ordering: .relaxed), "revalidated": revalidated.load(ordering: .relaxed),
         "bypass": bypass.load(ordering: .relaxed), "expired": expired.load(ordering: .relaxed)]
    }
}
