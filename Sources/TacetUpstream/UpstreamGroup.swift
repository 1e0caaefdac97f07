import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// One configured upstream, shared by every event loop and by the HTTP and stream proxies.
///
/// A thin lock around `BalancerState`: each call holds the lock for a few array operations
/// and never across I/O, so contention stays negligible next to a connect.
public final class UpstreamGroup: Sendable {
    public let name: String
    public let servers: [UpstreamServer]
    private let state: NIOLockedValueBox<BalancerState>
    private let clock: @Sendable () -> NIODeadline
    /// Whether any server may hold passive failures: while none does, a success (every
    /// proxied response) has nothing to clear and takes no lock.
    private let mayHaveFailures = Atomic<Bool>(false)
    /// For a group of one server (every `proxy: { to: ... }`): whether active checks hold it
    /// down. A sole server is never taken out by passive failures, so while this is false a
    /// pick needs neither the lock nor the clock.
    private let soleServerDown = Atomic<Bool>(false)

    /// `clock` is injectable so tests can step over `failTimeout` without waiting.
    public init(name: String, servers: [UpstreamServer], balance: BalanceMethod, maxFails: Int,
                failTimeout: TimeAmount, clock: @escaping @Sendable () -> NIODeadline = { .now() }) {
        self.name = name
        self.servers = servers
        self.clock = clock
        self.state = NIOLockedValueBox(BalancerState(
            weights: servers.map(\.weight), method: balance, maxFails: maxFails, failTimeout: failTimeout,
            names: servers.map { "\($0.host):\($0.port)" }))
    }

    /// Picks a server that is up and not in `excluding` (indexes); nil when none is: the caller
    /// answers 502 / resets at once.
    public func pick(excluding: Set<Int> = []) -> Int? {
        pick(excluding: excluding, hash: nil)
    }

    /// As `pick(excluding:)`, by the request key's `hash` for a consistent-hash group.
    public func pick(excluding: Set<Int>, hash: UInt64?) -> Int? {
        if servers.count == 1 {
            return excluding.contains(0) || soleServerDown.load(ordering: .relaxed) ? nil : 0
        }
        let now = clock()
        return state.withLockedValue { state in
            var generator = SystemRandomNumberGenerator()
            return state.pick(excluding: excluding, now: now, hash: hash, using: &generator)
        }
    }

    /// Counts for `least_conn` and `random`: call once per connection opened to `server`, and
    /// `connectionClosed` once when it ends.
    public func connectionOpened(_ server: Int) {
        state.withLockedValue { $0.connectionOpened(server) }
    }

    public func connectionClosed(_ server: Int) {
        state.withLockedValue { $0.connectionClosed(server) }
    }

    /// Passive health: `max_fails` failures within `fail_timeout` take the server out for
    /// `fail_timeout` (nginx semantics).
    public func recordFailure(_ server: Int) {
        let now = clock()
        state.withLockedValue {
            $0.recordFailure(server, now: now)
            mayHaveFailures.store(true, ordering: .relaxed)
        }
    }

    public func recordSuccess(_ server: Int) {
        // A failure recorded concurrently may be missed here: as if this success came first.
        guard mayHaveFailures.load(ordering: .relaxed) else { return }
        let now = clock()
        state.withLockedValue {
            $0.recordSuccess(server, now: now)
            if !$0.hasFailures { mayHaveFailures.store(false, ordering: .relaxed) }
        }
    }

    /// From active checks.
    public func markHealth(_ server: Int, up: Bool) {
        state.withLockedValue {
            $0.markHealth(server, up: up)
            if servers.count == 1 && server == 0 { soleServerDown.store(!up, ordering: .relaxed) }
        }
    }

    public func isUp(_ server: Int) -> Bool {
        let now = clock()
        return state.withLockedValue { $0.isAvailable(server, now: now) }
    }

    /// For metrics and logs.
    public var snapshot: [ServerState] {
        let now = clock()
        return state.withLockedValue { state in
            servers.indices.map { index in
                ServerState(server: servers[index], up: state.isAvailable(index, now: now),
                            activeConnections: state.activeConnections(index), fails: state.fails(index))
            }
        }
    }
}
