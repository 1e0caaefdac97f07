import Logging
import NIOConcurrencyHelpers
import NIOCore
import TacetTunnel
import NIOPosix

/// The HTTP listener: binds addresses, accepts with `allowRemoteHalfClosure` on, gives each
/// connection an `HTTPConnectionHandler`, and shuts down gracefully.
public final class HTTPServer: Sendable {
    private let group: any EventLoopGroup
    private let state: NIOLockedValueBox<ListenerState>
    private let logger: Logger
    private let registry = ConnectionRegistry()
    /// Bound listening channels with the configured address each was bound for (not the
    /// resolved one, so `listen(_:)` can tell which configured addresses are already bound).
    private let listeners = NIOLockedValueBox<[Listener]>([])

    private struct Setup {
        var prelude: (any ConnectionPrelude)?
        var protocols: (any HTTPProtocolInstaller)?
    }

    private struct Listener {
        var host: String
        var port: Int
        var channel: any Channel
        /// What accepted channels get before HTTP (TLS), and what speaks HTTP on them; a reload
        /// replaces both in place.
        var prelude: NIOLockedValueBox<Setup>
    }

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
    /// Listeners already bound keep their `maxConnections` until `setMaxConnections`.
    public func update(_ state: ListenerState) {
        self.state.withLockedValue { $0 = state }
    }

    /// Changes part of what new connections get, keeping the rest (a reload replaces settings,
    /// responder and access log, and keeps an observer it knows nothing about).
    public func update(_ change: (inout ListenerState) -> Void) {
        state.withLockedValue { change(&$0) }
    }

    /// Binds every address; returns the bound addresses (useful with port 0).
    @discardableResult
    public func start(listen: [(host: String, port: Int)]) async throws -> [SocketAddress] {
        try await self.listen(listen).addresses
    }

    /// What `listen(_:)` did.
    public struct ListenChanges: Sendable {
        /// Every bound address, in the order asked for.
        public var addresses: [SocketAddress]
        /// Bound by this call, and closed by it.
        public var added: [SocketAddress]
        public var closed: [SocketAddress]
    }

    /// Makes the listening set equal `addresses` without closing any socket that stays: an
    /// address bound already keeps its socket (so no connection attempt is ever refused during
    /// a reload), new ones are bound, and only then are the ones no longer listed closed. If a
    /// bind fails, the ones bound by this call are closed again and nothing else changes.
    /// Connections accepted on a closed listener carry on. Returns the bound addresses in
    /// `addresses` order. Not reentrant: one call at a time. New listeners stop accepting at
    /// `maxConnections` (default: the current state's), which a reload passes before it swaps
    /// the state.
    @discardableResult
    public func listen(_ addresses: [(host: String, port: Int)], maxConnections: Int? = nil) async throws -> ListenChanges {
        try await listen(addresses.map { ListenSpec(host: $0.host, port: $0.port) }, maxConnections: maxConnections)
    }

    /// `listen(_:maxConnections:)` for addresses with a prelude (TLS): a listener that stays
    /// takes its new prelude for the connections it accepts from now on (new certificates after a
    /// reload); open connections keep what they have.
    @discardableResult
    public func listen(_ specs: [ListenSpec], maxConnections: Int? = nil) async throws -> ListenChanges {
        let addresses = specs.map { (host: $0.host, port: $0.port) }
        let limit = maxConnections ?? state.withLockedValue { $0.settings.maxConnections }
        var unused = listeners.withLockedValue { $0 }
        var kept: [Listener] = []
        var added: [Listener] = []
        for spec in specs {
            let (host, port) = (spec.host, spec.port)
            if let i = unused.firstIndex(where: { $0.host == host && $0.port == port }) {
                let listener = unused.remove(at: i)
                listener.prelude.withLockedValue { $0 = Setup(prelude: spec.prelude, protocols: spec.protocols) }
                kept.append(listener)
                continue
            }
            do {
                let prelude = NIOLockedValueBox(Setup(prelude: spec.prelude, protocols: spec.protocols))
                let channel = try await makeBootstrap(maxConnections: limit, prelude: prelude).bind(host: host, port: port).get()
                added.append(Listener(host: host, port: port, channel: channel, prelude: prelude))
            } catch {
                for listener in added { try? await listener.channel.close() }
                throw error
            }
        }
        let now = kept + added
        listeners.withLockedValue { $0 = now }
        // Addresses first: a closed channel no longer reports its own.
        let closed = unused.compactMap(\.channel.localAddress)
        for listener in unused { try? await listener.channel.close() }
        return ListenChanges(
            addresses: addresses.compactMap { host, port in
                now.first { $0.host == host && $0.port == port }?.channel.localAddress
            },
            added: added.compactMap(\.channel.localAddress),
            closed: closed)
    }

    /// A new `max_connections` for every bound listener (a reload's, for the ones that stay):
    /// see `ConnectionLimiter.NewLimit`. Takes effect on each listener's loop shortly after.
    public func setMaxConnections(_ limit: Int) {
        for listener in listeners.withLockedValue({ $0 }) {
            listener.channel.pipeline.fireUserInboundEventTriggered(ConnectionLimiter.NewLimit(maxConnections: limit))
        }
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
        for listener in listening { try? await listener.channel.close() }
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

    private func makeBootstrap(maxConnections: Int, prelude: NIOLockedValueBox<Setup>) -> ServerBootstrap {
        let state = self.state
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
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536))
            .childChannelInitializer { channel in
                var current = state.withLockedValue { $0 }
                let setup = prelude.withLockedValue { $0 }
                current.isSecure = setup.prelude?.isSecure ?? false
                return channel.eventLoop.makeCompletedFuture {
                    try setup.prelude?.configure(channel)
                    if let protocols = setup.protocols {
                        try protocols.install(on: channel, state: current, logger: logger)
                    } else {
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionHandler(
                            state: current, logger: logger, eventLoop: channel.eventLoop))
                    }
                    registry.add(channel)
                }
            }
    }
}
