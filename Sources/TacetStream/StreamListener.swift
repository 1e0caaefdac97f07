import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TacetUpstream

/// A `streams:` listener: accepts TCP connections and glues each to an upstream server,
/// forwarding FIN, RST and backpressure per direction. Both channels allow half-closure; the
/// upstream channel lives on the client's event loop, so the pair never crosses threads.
public final class StreamListener: Sendable {
    private let group: any EventLoopGroup
    /// What new connections get; replaced by `update(_:)` on reload, read once per accept.
    private let current: NIOLockedValueBox<(settings: StreamSettings, connector: UpstreamConnector)>
    private let logger: Logger
    private let listener = NIOLockedValueBox<(any Channel)?>(nil)
    /// The address bound, from the settings this listener was created with; `update` never
    /// moves it (a reload that changes it makes a new listener instead).
    public let host: String
    public let port: Int

    public init(group: any EventLoopGroup, settings: StreamSettings, logger: Logger) {
        self.group = group
        self.current = NIOLockedValueBox((settings, UpstreamConnector(settings: settings, logger: logger)))
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
        let connector = UpstreamConnector(settings: settings, logger: logger)
        current.withLockedValue { $0 = (settings, connector) }
    }

    /// Binds and starts accepting; returns the bound address (useful with port 0).
    public func start() async throws -> SocketAddress {
        let current = self.current
        let logger = self.logger
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Nothing is read until the upstream is connected (then the glue turns it on).
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let (settings, connector) = current.withLockedValue { $0 }
                return channel.eventLoop.makeCompletedFuture {
                    let session = StreamSession(loop: channel.eventLoop, settings: settings,
                                                clientAddress: channel.remoteAddress, logger: logger)
                    let handler = GlueHandler(side: .client, session: session)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    session.attachClient(handler)
                    connector.connect(session: session, loop: channel.eventLoop)
                }
            }
            .bind(host: host, port: port).get()
        listener.withLockedValue { $0 = channel }
        guard let address = channel.localAddress else { throw ChannelError.inappropriateOperationForState }
        return address
    }

    /// Stops accepting. Streams in progress keep running until they end or the event loops stop.
    public func stop() async {
        let channel = listener.withLockedValue { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
    }
}
