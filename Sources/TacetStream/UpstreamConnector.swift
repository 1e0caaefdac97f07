import Logging
import NIOCore
import NIOPosix
import TacetUpstream

/// Connects a session's upstream side: picks a server, connects on the client's event loop
/// with the connect timeout, and on failure tries the next server not tried yet. When none is
/// left the client is reset at once.
struct UpstreamConnector {
    let settings: StreamSettings
    let logger: Logger
    /// Each server's address when its host is an IP literal, resolved once here: NIO's
    /// `connect(host:port:)` runs getaddrinfo for every connection, which costs more than
    /// the rest of a short connection.
    private let addresses: [SocketAddress?]

    init(settings: StreamSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        self.addresses = settings.group.servers.map { try? SocketAddress(ipAddress: $0.host, port: $0.port) }
    }

    func connect(session: StreamSession, loop: any EventLoop, tried: Set<Int> = []) {
        loop.assertInEventLoop()
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
        let bound = NIOLoopBound(session, eventLoop: loop)
        let handlerBox = NIOLoopBoundBox<GlueHandler?>(nil, eventLoop: loop)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(settings.connectTimeout)
            .channelOption(.autoRead, value: false)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = GlueHandler(side: .upstream, session: bound.value)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    handlerBox.value = handler
                }
            }
        let connected: EventLoopFuture<any Channel>
        if let address = addresses[index] {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: server.host, port: server.port)
        }
        connected
            .assumeIsolated()
            .whenComplete { result in
                let session = bound.value
                switch result {
                case .success(let channel):
                    group.recordSuccess(index)
                    guard !session.clientGoneWhileConnecting, let handler = handlerBox.value else {
                        group.connectionClosed(index)
                        StreamSession.reset(channel)
                        session.finishAbandoned()
                        return
                    }
                    session.glue(upstream: handler, server: index)
                case .failure(let error):
                    group.recordFailure(index)
                    group.connectionClosed(index)
                    logger.warning("stream upstream connect failed", metadata: [
                        "listen": "\(settings.listenDescription)", "upstream": "\(server)", "error": "\(error)",
                    ])
                    connect(session: session, loop: loop, tried: tried.union([index]))
                }
            }
    }
}
