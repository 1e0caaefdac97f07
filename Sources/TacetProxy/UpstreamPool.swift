import NIOConcurrencyHelpers
import NIOCore

/// Idle keep-alive connections to an upstream's servers, for one event loop. Touched only on
/// that loop; `@unchecked Sendable` so the `Upstream` that owns one pool per loop can be shared.
final class UpstreamPool: @unchecked Sendable {
    let eventLoop: any EventLoop
    let maxIdlePerServer: Int
    private var idle: [Int: [UpstreamConnection]] = [:]
    /// Set once the upstream is replaced by a reload: nothing is pooled any more.
    private var retired = false
    private let count = NIOLockedValueBox(0)

    init(eventLoop: any EventLoop, maxIdlePerServer: Int) {
        self.eventLoop = eventLoop
        self.maxIdlePerServer = maxIdlePerServer
    }

    /// The most recently used idle connection to `server` that is still open (LIFO keeps few warm).
    func take(server: Int) -> UpstreamConnection? {
        eventLoop.preconditionInEventLoop()
        while var list = idle[server], let connection = list.popLast() {
            idle[server] = list
            count.withLockedValue { $0 -= 1 }
            if connection.isReusable { return connection }
            connection.close()
        }
        return nil
    }

    /// Keeps `connection` for reuse if there is room; false when the caller should close it.
    func put(_ connection: UpstreamConnection) -> Bool {
        eventLoop.preconditionInEventLoop()
        var list = idle[connection.server, default: []]
        guard !retired, list.count < maxIdlePerServer, connection.isReusable else { return false }
        list.append(connection)
        idle[connection.server] = list
        count.withLockedValue { $0 += 1 }
        connection.becameIdle(in: self)
        return true
    }

    /// An idle connection closed (by the upstream, or after unexpected bytes): forget it.
    func remove(_ connection: UpstreamConnection) {
        guard var list = idle[connection.server], let i = list.firstIndex(where: { $0 === connection }) else { return }
        list.remove(at: i)
        idle[connection.server] = list
        count.withLockedValue { $0 -= 1 }
    }

    /// Closes every idle connection, and makes `put` refuse from now on, so connections still
    /// in use by requests of the old configuration close when those requests end.
    func retire() {
        eventLoop.preconditionInEventLoop()
        retired = true
        let all = idle.values.flatMap { $0 }
        idle = [:]
        count.withLockedValue { $0 = 0 }
        for connection in all { connection.close() }
    }

    var idleCountSnapshot: Int { count.withLockedValue { $0 } }
}
