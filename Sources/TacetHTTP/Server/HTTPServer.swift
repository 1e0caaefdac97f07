import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The HTTP listener: binds addresses, accepts with `allowRemoteHalfClosure` on, gives each
/// connection an `HTTPConnectionHandler`, and shuts down gracefully.
public final class HTTPServer: Sendable {
    private let group: any EventLoopGroup
    private let state: NIOLockedValueBox<ListenerState>
    private let logger: Logger
    private let registry = ConnectionRegistry()
    private let listeners = NIOLockedValueBox<[any Channel]>([])

    public convenience init(group: any EventLoopGroup, settings: ServerSettings, responder: any Responder,
                            accessLog: AccessLog?, logger: Logger) {
        self.init(group: group, state: ListenerState(settings: settings, responder: responder, accessLog: accessLog),
                  logger: logger)
    }

    public init(group: any EventLoopGroup, state: ListenerState, logger: Logger) {
        self.group = group
        self.state = NIOLockedValueBox(state)
        self.logger = logger
    }

    /// New connections get `state`; open ones keep theirs (reload without dropping anything).
    /// Limits on the listening socket itself (max connections) keep their first value.
    public func update(_ state: ListenerState) {
        self.state.withLockedValue { $0 = state }
    }

    /// Binds every address; returns the bound addresses (useful with port 0).
    @discardableResult
    public func start(listen: [(host: String, port: Int)]) async throws -> [SocketAddress] {
        var bound: [SocketAddress] = []
        for (host, port) in listen {
            let channel = try await makeBootstrap().bind(host: host, port: port).get()
            listeners.withLockedValue { $0.append(channel) }
            if let address = channel.localAddress { bound.append(address) }
        }
        return bound
    }

    /// Open connections right now.
    public var connectionCount: Int { registry.count }

    /// Stops accepting, lets in-flight requests finish and idle connections close (staged), and
    /// after `gracePeriod` closes whatever is left.
    public func shutdown(gracePeriod: TimeAmount) async {
        let listening = listeners.withLockedValue { l in
            defer { l.removeAll() }
            return l
        }
        for channel in listening { try? await channel.close() }
        let connections = registry.all
        for channel in connections {
            channel.pipeline.fireUserInboundEventTriggered(QuiesceEvent())
        }
        let deadline = NIODeadline.now() + gracePeriod
        for channel in connections {
            let remaining = deadline - .now()
            if remaining <= .zero { break }
            // Wait for the close or the deadline, whichever comes first.
            let timeout = channel.eventLoop.scheduleTask(in: remaining) {}
            channel.closeFuture.whenComplete { _ in timeout.cancel() }
            _ = try? await timeout.futureResult.get()
        }
        for channel in registry.all { try? await channel.close() }
    }

    private func makeBootstrap() -> ServerBootstrap {
        let state = self.state
        let maxConnections = state.withLockedValue { $0.settings.maxConnections }
        let logger = self.logger
        let registry = self.registry
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionLimiter(maxConnections: maxConnections))
                }
            }
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536))
            .childChannelInitializer { channel in
                let current = state.withLockedValue { $0 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HTTPConnectionHandler(
                        state: current, logger: logger, eventLoop: channel.eventLoop))
                    registry.add(channel)
                }
            }
    }
}
