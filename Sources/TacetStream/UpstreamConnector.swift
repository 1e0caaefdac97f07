import Logging
import NIOCore
import TacetTunnel
import NIOPosix
import TacetUpstream
import TacetProxyProtocol

/// Connects a session's upstream side: picks a server, connects on the client's event loop
/// with the connect timeout, and on failure tries the next server not tried yet. When none is
/// left the client is reset at once.
///
/// One connector per listener and event loop: its `ClientBootstrap` is built on first use and
/// reused for every connection on that loop (a bootstrap is only configuration), and the upstream's
/// `GlueHandler` is added when the connect completes, on the same loop, before any event can
/// reach the channel (it does not read until glued).
struct UpstreamConnector: Sendable {
    let settings: StreamSettings
    let logger: Logger
    /// `HOST:PORT` of the listener, formatted once for the log lines.
    let listen: String
    /// Each server's address when its host is an IP literal, resolved once here: NIO's
    /// `connect(host:port:)` runs getaddrinfo for every connection, which costs more than
    /// the rest of a short connection.
    private let addresses: [SocketAddress?]
    /// Not Sendable: made and used on its loop only (the connector itself may be made on any
    /// thread, e.g. by a reload).
    private let bootstrap: NIOLoopBoundBox<ClientBootstrap?>

    init(settings: StreamSettings, logger: Logger, loop: any EventLoop) {
        self.settings = settings
        self.logger = logger
        self.listen = settings.listenDescription
        self.addresses = settings.group.servers.map { try? SocketAddress(ipAddress: $0.host, port: $0.port) }
        self.bootstrap = NIOLoopBoundBox.makeEmptyBox(valueType: ClientBootstrap.self, eventLoop: loop)
    }

    private func makeBootstrap(_ loop: any EventLoop) -> ClientBootstrap {
        // Options are set synchronously in the initializer (before the channel registers):
        // the bootstrap's own option list applies each through a chain of futures, a measurable
        // part of a short connection. TCP_NODELAY is NIO's default on a ClientBootstrap.
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(settings.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let options = channel.syncOptions else { throw ChannelError.operationUnsupported }
                    try options.setOption(.autoRead, value: false)
                    try options.setOption(.allowRemoteHalfClosure, value: true)
                }
            }
        self.bootstrap.value = bootstrap
        return bootstrap
    }

    func connect(session: StreamSession, loop: any EventLoop, tried: Set<Int> = []) {
        loop.assertInEventLoop()
        session.connectStarted()
        if session.clientGoneWhileConnecting {
            session.finishAbandoned()
            return
        }
        let group = settings.group
        guard let index = group.pick(excluding: tried) else {
            session.connectFailed()
            return
        }
        let server = group.servers[index]
        group.connectionOpened(index)
        let bootstrap = self.bootstrap.value ?? makeBootstrap(loop)
        let connected: EventLoopFuture<any Channel>
        if let address = addresses[index] {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: server.host, port: server.port)
        }
        connected
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    group.recordSuccess(index)
                    guard !session.clientGoneWhileConnecting,
                          (try? channel.pipeline.syncOperations.addHandler(GlueHandler(side: .upstream, session: session.tunnel))) != nil else {
                        group.connectionClosed(index)
                        channel.resetNow()
                        session.finishAbandoned()
                        return
                    }
                    if let version = settings.sendProxyProtocol {
                        // First on the wire, before any byte of the client's.
                        let (source, destination) = session.clientAddresses
                        let header = ProxyHeaderEncoder.encode(version, source: source, destination: destination)
                        channel.writeAndFlush(ByteBuffer(bytes: header), promise: nil)
                    }
                    session.glue(server: index)
                case .failure(let error):
                    group.recordFailure(index)
                    group.connectionClosed(index)
                    logger.warning("stream upstream connect failed", metadata: [
                        "listen": "\(listen)", "upstream": "\(server)", "error": "\(error)",
                    ])
                    connect(session: session, loop: loop, tried: tried.union([index]))
                }
            }
    }
}
