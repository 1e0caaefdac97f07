import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TacetUpstream

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `streams:` listener: accepts TCP connections and glues each to an upstream server,
/// forwarding FIN, RST and backpressure per direction. Both channels allow half-closure.
///
/// One listening socket, bound once (so a port in use is still an error), and one server
/// channel per event loop on a duplicate of its descriptor: each loop accepts for itself and
/// keeps what it accepts, and the upstream channel lives on that same loop, so a stream never
/// crosses threads. (One acceptor handing accepted channels to the other loops cost three
/// cross-thread wake-ups per connection, the largest part of a short connection's price.)
public final class StreamListener: Sendable {
    private let group: any EventLoopGroup
    /// The group's loops, in order; `connectors[i]` (below) serves `loops[i]`.
    private let loops: [any EventLoop]
    /// What new connections get; replaced by `update(_:)` on reload, read once per accept.
    private let current: NIOLockedValueBox<(settings: StreamSettings, connectors: [UpstreamConnector])>
    private let logger: Logger
    private let listeners = NIOLockedValueBox<[any Channel]>([])
    /// The address bound, from the settings this listener was created with; `update` never
    /// moves it (a reload that changes it makes a new listener instead).
    public let host: String
    public let port: Int

    public init(group: any EventLoopGroup, settings: StreamSettings, logger: Logger) {
        self.group = group
        let loops = Array(group.makeIterator())
        self.loops = loops
        self.current = NIOLockedValueBox((settings, Self.connectors(settings, loops, logger)))
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
        let connectors = Self.connectors(settings, loops, logger)
        current.withLockedValue { $0 = (settings, connectors) }
    }

    private static func connectors(_ settings: StreamSettings, _ loops: [any EventLoop],
                                   _ logger: Logger) -> [UpstreamConnector] {
        loops.map { UpstreamConnector(settings: settings, logger: logger, loop: $0) }
    }

    /// Binds and starts accepting; returns the bound address (useful with port 0).
    public func start() async throws -> SocketAddress {
        let current = self.current
        let logger = self.logger
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let description = current.withLockedValue { $0.settings.listenDescription }
        let base = try Self.listeningSocket(address, description: description)
        defer { close(base) }
        var channels: [any Channel] = []
        do {
            for (index, loop) in loops.enumerated() {
                let fd = dup(base)
                guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "dup") }
                let channel = try await ServerBootstrap(group: loop, childGroup: loop)
                    // Nothing is read until the upstream is connected (then the glue turns it on).
                    // TCP_NODELAY is inherited from the listening socket (NIO sets it there).
                    .childChannelOption(.autoRead, value: false)
                    .childChannelOption(.allowRemoteHalfClosure, value: true)
                    .childChannelInitializer { channel in
                        let (settings, connectors) = current.withLockedValue { $0 }
                        let connector = connectors[index]
                        return channel.eventLoop.makeCompletedFuture {
                            let session = StreamSession(loop: channel.eventLoop, settings: settings,
                                                        listen: connector.listen,
                                                        clientAddress: channel.remoteAddress, logger: logger)
                            let handler = GlueHandler(side: .client, session: session)
                            try channel.pipeline.syncOperations.addHandler(handler)
                            session.attachClient(handler)
                            connector.connect(session: session, loop: channel.eventLoop)
                        }
                    }
                    .withBoundSocket(fd).get()
                channels.append(channel)
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        // NIO listens with its default backlog when it adopts a socket; ask for ours again.
        _ = listen(base, Self.backlog)
        listeners.withLockedValue { $0 = channels }
        guard let bound = channels.first?.localAddress else { throw ChannelError.inappropriateOperationForState }
        return bound
    }

    /// Stops accepting. Streams in progress keep running until they end or the event loops stop.
    public func stop() async {
        let channels = listeners.withLockedValue { channels in
            defer { channels = [] }
            return channels
        }
        for channel in channels { try? await channel.close() }
    }

    private static let backlog: Int32 = 1024

    /// socket, SO_REUSEADDR, bind, listen: the one socket every loop accepts from.
    private static func listeningSocket(_ address: SocketAddress, description: String) throws -> Int32 {
        let domain: Int32 = address.protocol == .inet6 ? AF_INET6 : AF_INET
        #if canImport(Glibc)
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let type = SOCK_STREAM
        #endif
        let fd = socket(domain, type, 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: Int32 = 1
        let failed: (String) -> IOError = { call in
            let code = errno
            close(fd)
            return IOError(errnoCode: code, reason: call)
        }
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw failed("setsockopt(SO_REUSEADDR)")
        }
        let rc = address.withSockAddr { pointer, length in bind(fd, pointer, socklen_t(length)) }
        guard rc == 0 else { throw failed("bind(\(description))") }
        guard listen(fd, backlog) == 0 else { throw failed("listen(\(description))") }
        return fd
    }
}
