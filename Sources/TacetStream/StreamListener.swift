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
    private let settings: StreamSettings
    private let logger: Logger
    private let listener = NIOLockedValueBox<(any Channel)?>(nil)

    public init(group: any EventLoopGroup, settings: StreamSettings, logger: Logger) {
        self.group = group
        self.settings = settings
        self.logger = logger
    }

    /// Binds and starts accepting; returns the bound address (useful with port 0).
    public func start() async throws -> SocketAddress {
        let settings = self.settings
        let logger = self.logger
        let connector = UpstreamConnector(settings: settings, logger: logger)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Nothing is read until the upstream is connected (then the glue turns it on).
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let session = StreamSession(loop: channel.eventLoop, settings: settings,
                                                clientAddress: channel.remoteAddress, logger: logger)
                    let handler = GlueHandler(side: .client, session: session)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    session.attachClient(handler)
                    connector.connect(session: session, loop: channel.eventLoop)
                }
            }
            .bind(host: settings.host, port: settings.port).get()
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
