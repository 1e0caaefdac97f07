import Logging
import NIOConcurrencyHelpers
import NIOCore
import TacetTunnel
import NIOPosix
import TacetUpstream
import TacetProxyProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `streams:` listener: accepts TCP connections and glues each to an upstream server,
/// forwarding FIN, RST and backpressure per direction. Both channels allow half-closure.
///
/// One listening socket per event loop, all on the same address with SO_REUSEPORT (the kernel
/// spreads connections over them): each loop accepts for itself and keeps what it accepts, and
/// the upstream channel lives on that same loop, so a stream never crosses threads. (One
/// acceptor handing accepted channels to the other loops cost three cross-thread wake-ups per
/// connection, the largest part of a short connection's price. One socket shared by every
/// loop's epoll wakes them all for each connection, and NIO asserts a wake-up finds work.)
///
/// SO_REUSEPORT would let a second process of the same user share the port silently, so the
/// address is first bound by a plain probe socket, closed at once: a port in use is an error,
/// as it is without SO_REUSEPORT.
public final class StreamListener: Sendable {
    private let group: any EventLoopGroup
    /// The group's loops, in order; `perLoop[i]` serves `loops[i]`.
    private let loops: [any EventLoop]
    private let perLoop: [LoopState]
    private let logger: Logger
    private let listeners = NIOLockedValueBox<[any Channel]>([])

    /// One loop's share: each accept reads and writes only its own loop's, so these locks are
    /// never contended (one set for all loops was, on every short connection).
    private final class LoopState: Sendable {
        /// What new connections get; replaced by `update(_:)` on reload, read once per accept.
        let current: NIOLockedValueBox<(settings: StreamSettings, connector: UpstreamConnector)>
        /// Client channels of streams in progress, so a shutdown can wait for them.
        let active = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

        init(_ settings: StreamSettings, _ connector: UpstreamConnector) {
            current = NIOLockedValueBox((settings, connector))
        }
    }
    /// The address bound, from the settings this listener was created with; `update` never
    /// moves it (a reload that changes it makes a new listener instead).
    public let host: String
    public let port: Int

    public init(group: any EventLoopGroup, settings: StreamSettings, logger: Logger) {
        self.group = group
        let loops = Array(group.makeIterator())
        self.loops = loops
        self.perLoop = zip(loops, Self.connectors(settings, loops, logger)).map { LoopState(settings, $0.1) }
        self.logger = logger
        self.host = settings.host
        self.port = settings.port
    }

    /// New connections use `settings` (upstream group, timeouts); streams in progress keep
    /// what they started with. The listening socket is untouched; `settings.host` and
    /// `settings.port` are ignored.
    public func update(_ settings: StreamSettings) {
        var settings = settings
        settings.host = host
        settings.port = port
        for (state, connector) in zip(perLoop, Self.connectors(settings, loops, logger)) {
            state.current.withLockedValue { $0 = (settings, connector) }
        }
    }

    private static func connectors(_ settings: StreamSettings, _ loops: [any EventLoop],
                                   _ logger: Logger) -> [UpstreamConnector] {
        loops.map { UpstreamConnector(settings: settings, logger: logger, loop: $0) }
    }

    /// Binds and starts accepting; returns the bound address (useful with port 0).
    public func start() async throws -> SocketAddress {
        let logger = self.logger
        let perLoop = self.perLoop
        let description = perLoop[0].current.withLockedValue { $0.settings.listenDescription }
        // The probe: fails when anything listens there; with port 0 it also picks the port.
        let probed = try BoundSocket.probe(try SocketAddress.makeAddressResolvingHost(host, port: port),
                                    description: description)
        let address = try SocketAddress.makeAddressResolvingHost(host, port: probed)
        var channels: [any Channel] = []
        do {
            for (index, loop) in loops.enumerated() {
                let fd = try Self.listeningSocket(address, description: description)
                let channel = try await ServerBootstrap(group: loop, childGroup: loop)
                    .childChannelInitializer { channel in
                        let state = perLoop[index]
                        let (settings, connector) = state.current.withLockedValue { $0 }
                        let id = ObjectIdentifier(channel)
                        state.active.withLockedValue { $0[id] = channel }
                        channel.closeFuture.whenComplete { _ in _ = state.active.withLockedValue { $0.removeValue(forKey: id) } }
                        return channel.eventLoop.makeCompletedFuture {
                            // Set here, synchronously, before the channel registers: as child
                            // options each would be applied through a chain of futures.
                            // Nothing is read until the upstream is connected (then the glue turns
                            // it on). TCP_NODELAY is inherited from the listening socket.
                            guard let options = channel.syncOptions else { throw ChannelError.operationUnsupported }
                            try options.setOption(.autoRead, value: false)
                            try options.setOption(.allowRemoteHalfClosure, value: true)
                            let session = StreamSession(loop: channel.eventLoop, settings: settings,
                                                        listen: connector.listen,
                                                        clientAddress: channel.remoteAddress, logger: logger)
                            if let proxy = settings.prelude as? ProxyProtocolPrelude {
                                // Behind a balancer: the connect waits for the header (the
                                // client it names goes in the log and any PROXY header sent on).
                                let reader = proxy.makeReader()
                                let loop = channel.eventLoop
                                reader.onHeader = { header in
                                    session.headerRead(header)
                                    connector.connect(session: session, loop: loop)
                                }
                                reader.onRefused = { session.headerRefused($0) }
                                try channel.pipeline.syncOperations.addHandler(reader)
                                try proxy.next?.configure(channel)
                            } else {
                                try settings.prelude?.configure(channel)
                            }
                            try channel.pipeline.syncOperations.addHandler(GlueHandler(side: .client, session: session.tunnel))
                            session.attachClient(channel)
                            if !(settings.prelude is ProxyProtocolPrelude) {
                                connector.connect(session: session, loop: channel.eventLoop)
                            }
                        }
                    }
                    .withBoundSocket(fd).get()
                // NIO listens with its default backlog when it adopts a socket; ask for ours.
                _ = listen(fd, Self.backlog)
                channels.append(channel)
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        listeners.withLockedValue { $0 = channels }
        guard let bound = channels.first?.localAddress else { throw ChannelError.inappropriateOperationForState }
        return bound
    }

    /// Streams in progress right now.
    public var activeCount: Int { perLoop.reduce(0) { $0 + $1.active.withLockedValue { $0.count } } }

    private var activeChannels: [any Channel] { perLoop.flatMap { $0.active.withLockedValue { Array($0.values) } } }

    /// After `stop()`: waits up to `gracePeriod` for the streams in progress to end by themselves,
    /// then resets the rest (an RST, not a FIN: neither side may take a cut-off stream as finished).
    public func drain(gracePeriod: TimeAmount) async {
        let deadline = NIODeadline.now() + gracePeriod
        for channel in activeChannels {
            let remaining = deadline - .now()
            if remaining <= .zero { break }
            let timeout = channel.eventLoop.scheduleTask(in: remaining) {}
            channel.closeFuture.whenComplete { _ in timeout.cancel() }
            _ = try? await timeout.futureResult.get()
        }
        for channel in activeChannels {
            channel.eventLoop.execute { channel.resetNow() }
        }
    }

    /// Stops accepting. Streams in progress keep running; `drain(gracePeriod:)` waits for them.
    public func stop() async {
        let channels = listeners.withLockedValue { channels in
            defer { channels = [] }
            return channels
        }
        for channel in channels { try? await channel.close() }
    }

    private static let backlog: Int32 = 1024

    /// One loop's listening socket: SO_REUSEADDR, SO_REUSEPORT, bind, listen.
    private static func listeningSocket(_ address: SocketAddress, description: String) throws -> Int32 {
        let fd = try BoundSocket.make(address, reusePort: true, description: description)
        guard listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw IOError(errnoCode: code, reason: "listen(\(description))")
        }
        return fd
    }
}

