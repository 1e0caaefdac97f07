import NIOCore
import Synchronization

/// Idle keep-alive connections to an upstream's servers, for one event loop. Touched only on
/// that loop; `@unchecked Sendable` so the `Upstream` that owns one pool per loop can be shared.
final class UpstreamPool: @unchecked Sendable {
    let eventLoop: any EventLoop
    let maxIdlePerServer: Int
    /// Idle connections per server index, most recently used last. Mutated in place: copying a
    /// list out of a dictionary and back would copy (and retain) every connection in it.
    private var idle: [[UpstreamConnection]] = []
    /// Read by metrics from other threads; an atomic, not a lock, on every take and put.
    private let count = Atomic<Int>(0)
    /// Set when a reload replaced this pool's upstream: nothing is pooled any more.
    private var retired = false

    init(eventLoop: any EventLoop, maxIdlePerServer: Int) {
        self.eventLoop = eventLoop
        self.maxIdlePerServer = maxIdlePerServer
    }

    /// The most recently used idle connection to `server` that is still open (LIFO keeps few warm).
    func take(server: Int) -> UpstreamConnection? {
        eventLoop.preconditionInEventLoop()
        guard server < idle.count else { return nil }
        while let connection = idle[server].popLast() {
            count.subtract(1, ordering: .relaxed)
            if connection.isReusable { return connection }
            connection.close()
        }
        return nil
    }

    /// Keeps `connection` for reuse if there is room; false when the caller should close it.
    func put(_ connection: UpstreamConnection) -> Bool {
        eventLoop.preconditionInEventLoop()
        let server = connection.server
        while idle.count <= server { idle.append([]) }
        guard !retired, idle[server].count < maxIdlePerServer, connection.isReusable else { return false }
        idle[server].append(connection)
        count.add(1, ordering: .relaxed)
        connection.becameIdle(in: self)
        return true
    }

    /// An idle connection closed (by the upstream, or after unexpected bytes): forget it.
    func remove(_ connection: UpstreamConnection) {
        let server = connection.server
        guard server < idle.count, let i = idle[server].firstIndex(where: { $0 === connection }) else { return }
        idle[server].remove(at: i)
        count.subtract(1, ordering: .relaxed)
    }

    /// After a reload: closes the idle connections and pools nothing more.
    func retire() {
        eventLoop.preconditionInEventLoop()
        retired = true
        let all = idle.flatMap { $0 }
        idle = []
        count.store(0, ordering: .relaxed)
        for connection in all { connection.close() }
    }

    var idleCountSnapshot: Int { count.load(ordering: .relaxed) }
}
