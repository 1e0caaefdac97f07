import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Per-client limits (`limits: { connections_per_client, requests_per_second_per_client, burst }`):
/// open connections counted by client address, and a token bucket of requests per client (nginx's
/// `limit_conn` and `limit_req` with `burst ... nodelay`). Shared by every event loop: the table
/// is split in shards, each behind its own lock, so loops rarely wait for one another.
/// Bounded: a client's entry goes when it has no connection and a full bucket; a shard that
/// reaches its share of `maxClients` drops its idle entries, and past that lets new clients in
/// untracked (fails open, counted) rather than grow.
public final class ClientLimiter: Sendable {
    public struct Settings: Sendable, Equatable {
        public var connectionsPerClient: Int?
        public var requestsPerSecond: Double?
        public var burst: Int
        public var maxClients: Int

        public init(connectionsPerClient: Int? = nil, requestsPerSecond: Double? = nil, burst: Int = 0, maxClients: Int = 200_000) {
            self.connectionsPerClient = connectionsPerClient
            self.requestsPerSecond = requestsPerSecond
            self.burst = burst
            self.maxClients = maxClients
        }
    }

    struct Entry {
        var connections = 0
        var tokens: Double
        var refilledAt: Int64
    }

    public let settings: Settings
    private let shards: [NIOLockedValueBox<[String: Entry]>]
    private let untracked = NIOLockedValueBox(0)
    private static let shardCount = 16

    public init(_ settings: Settings) {
        self.settings = settings
        shards = (0..<Self.shardCount).map { _ in NIOLockedValueBox([:]) }
    }

    /// The bucket's size: `burst` requests beyond the steady rate (at least one).
    private var capacity: Double { Double(max(1, settings.burst + 1)) }

    private func shard(_ ip: String) -> NIOLockedValueBox<[String: Entry]> {
        var hasher = Hasher()
        hasher.combine(ip)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(Self.shardCount))]
    }

    /// A new connection from `ip`: false when that client already has its limit open.
    public func acquireConnection(_ ip: String, now: NIODeadline = .now()) -> Bool {
        guard let limit = settings.connectionsPerClient else { return true }
        return withEntry(ip, now: now) { entry in
            guard entry.connections < limit else { return false }
            entry.connections += 1
            return true
        } ?? true
    }

    public func releaseConnection(_ ip: String, now: NIODeadline = .now()) {
        guard settings.connectionsPerClient != nil else { return }
        let box = shard(ip)
        box.withLockedValue { table in
            guard var entry = table[ip] else { return }
            entry.connections = max(0, entry.connections - 1)
            table[ip] = entry
            if entry.connections == 0 && isIdle(entry, now: now.uptimeNanoseconds) { table[ip] = nil }
        }
    }

    /// A request from `ip`: nil when allowed, else the seconds after which one would be.
    public func admitRequest(_ ip: String, now: NIODeadline = .now()) -> Int? {
        guard let rate = settings.requestsPerSecond, rate > 0 else { return nil }
        return withEntry(ip, now: now) { entry -> Int? in
            if entry.tokens >= 1 {
                entry.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - entry.tokens) / rate).rounded(.up)))
        } ?? nil
    }

    /// Clients currently tracked, and the ones let in untracked because the table was full.
    public var trackedClients: Int { shards.reduce(0) { $0 + $1.withLockedValue { $0.count } } }
    public var untrackedAdmissions: Int { untracked.withLockedValue { $0 } }

    /// Runs `body` on `ip`'s entry (made if new, refilled to `now`); nil when the table is full.
    private func withEntry<T>(_ ip: String, now: NIODeadline, _ body: (inout Entry) -> T) -> T? {
        let nanos = now.uptimeNanoseconds
        let capacity = self.capacity
        let rate = settings.requestsPerSecond ?? 0
        let perShard = max(1, settings.maxClients / Self.shardCount)
        let box = shard(ip)
        let result: T? = box.withLockedValue { table in
            var entry: Entry
            if let existing = table[ip] {
                entry = existing
                if rate > 0 {
                    let elapsed = Double(Int64(nanos) - entry.refilledAt) / 1_000_000_000
                    entry.tokens = min(capacity, entry.tokens + elapsed * rate)
                }
                entry.refilledAt = Int64(nanos)
            } else {
                if table.count >= perShard {
                    table = table.filter { !($0.value.connections == 0 && isIdle($0.value, now: nanos)) }
                    if table.count >= perShard { return nil }
                }
                entry = Entry(tokens: capacity, refilledAt: Int64(nanos))
            }
            let value = body(&entry)
            table[ip] = entry
            return value
        }
        if result == nil { untracked.withLockedValue { $0 += 1 } }
        return result
    }

    /// A bucket that would be full by `now` (or no rate limit): nothing to remember.
    private func isIdle(_ entry: Entry, now: UInt64) -> Bool {
        guard let rate = settings.requestsPerSecond, rate > 0 else { return true }
        let elapsed = Double(Int64(now) - entry.refilledAt) / 1_000_000_000
        return entry.tokens + elapsed * rate >= capacity
    }
}

extension ClientLimiter {
    /// 429 with Retry-After, the connection kept (RFC 6585 §4).
    public static func tooManyRequests(_ writer: ResponseWriter, retryAfter: Int) {
        ErrorResponse.write(writer, status: 429, reason: "too many requests", headers: ["Retry-After": String(retryAfter)])
    }
}
