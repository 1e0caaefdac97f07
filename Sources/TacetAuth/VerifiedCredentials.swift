import Crypto
import Synchronization

/// Credentials already checked, so a browser sending the same Authorization on every request
/// costs one bcrypt, not one per request: a bounded set of SHA-256 digests of user, password and
/// the hash they matched (a changed password or file never matches an old entry). The password
/// itself is never kept. Shared by every event loop: one lock, held for a set lookup.
public final class VerifiedCredentials: Sendable {
    private let entries = Mutex<(set: Set<[UInt8]>, order: [[UInt8]], next: Int)>((Set(), [], 0))
    public let capacity: Int

    public init(capacity: Int = 4096) {
        self.capacity = max(1, capacity)
    }

    static func key(user: String, password: [UInt8], hash: String) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Array(user.utf8))
        hasher.update(data: [0])
        hasher.update(data: password)
        hasher.update(data: [0])
        hasher.update(data: Array(hash.utf8))
        return Array(hasher.finalize())
    }

    public func contains(user: String, password: [UInt8], hash: String) -> Bool {
        let key = Self.key(user: user, password: password, hash: hash)
        return entries.withLock { $0.set.contains(key) }
    }

    /// Oldest out first once full.
    public func insert(user: String, password: [UInt8], hash: String) {
        let key = Self.key(user: user, password: password, hash: hash)
        entries.withLock { state in
            guard !state.set.contains(key) else { return }
            if state.order.count < capacity {
                state.order.append(key)
            } else {
                state.set.remove(state.order[state.next])
                state.order[state.next] = key
                state.next = (state.next + 1) % capacity
            }
            state.set.insert(key)
        }
    }

    public var count: Int { entries.withLock { $0.set.count } }
}
