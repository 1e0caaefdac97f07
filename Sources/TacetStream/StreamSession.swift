import Logging
import NIOCore
import TacetTunnel
import TacetUpstream

/// One proxied TCP connection as the stream proxy sees it: the upstream connect in progress,
/// then a `TunnelSession` (the glue, the state machine, the timers), and the log line and counts
/// once it ends. Lives on the client's event loop.
final class StreamSession: TunnelSessionDelegate {
    private let settings: StreamSettings
    private let logger: Logger
    private let started: NIODeadline
    let tunnel: TunnelSession
    private var clientChannel: (any Channel)?
    private var record: StreamLogRecord
    /// The upstream server index while connected (for least_conn counts).
    private var server: Int?
    /// The client went away while the upstream connect was in progress.
    private(set) var clientGoneWhileConnecting = false
    private var logged = false

    init(loop: any EventLoop, settings: StreamSettings, listen: String, clientAddress: SocketAddress?, logger: Logger) {
        self.settings = settings
        self.logger = logger
        self.started = .now()
        self.record = StreamLogRecord(listen: listen, client: clientAddress)
        self.tunnel = TunnelSession(loop: loop, halfCloseTimeout: settings.halfCloseTimeout)
        tunnel.delegate = self
    }

    /// The client's channel, with its `GlueHandler` (made on `tunnel`) in the pipeline.
    func attachClient(_ channel: any Channel) { clientChannel = channel }

    /// The client's address and the one it connected to, for a PROXY header.
    var clientAddresses: (source: SocketAddress?, destination: SocketAddress?) {
        (clientChannel?.remoteAddress, clientChannel?.localAddress)
    }

    /// The upstream connected, its `GlueHandler` in place: glue the two sides and read both.
    func glue(server: Int) {
        self.server = server
        record.upstream = settings.group.servers[server]
        tunnel.glue()
    }

    /// No server could be reached: reset the client at once (it must not take our FIN for an
    /// empty answer) and log.
    func connectFailed() {
        record.firstClose = "upstream_unreachable"
        record.end = "connect_failed"
        // Log before the reset: closing the client re-enters through its channelInactive.
        let channel = clientChannel
        tunnel.abandon()
        channel?.resetNow()
    }

    /// Before the upstream connected, only the client can fail; the connector sees the flag,
    /// resets the upstream connection if it still comes up, and logs.
    func tunnelSideGoneBeforeGlue(_ side: TunnelStateMachine.Side) {
        guard !clientGoneWhileConnecting, !logged else { return }
        clientGoneWhileConnecting = true
        record.firstClose = "client_rst"
        record.end = "reset"
        clientChannel?.close(promise: nil)
    }

    /// The connector gave up on a client that left while connecting; log it once.
    func finishAbandoned() { tunnel.abandon() }

    func tunnelEnded(_ session: TunnelSession) {
        guard !logged else { return }
        logged = true
        clientChannel = nil
        if let server { settings.group.connectionClosed(server) }
        let machine = session.machine
        if let first = machine.firstClose { record.firstClose = "\(first.side.rawValue)_\(first.how.rawValue)" }
        if let end = machine.end { record.end = end.rawValue }
        record.bytesUp = session.bytesUp
        record.bytesDown = session.bytesDown
        record.duration = .now() - started
        settings.observer.streamClosed(listen: record.listen, end: record.end,
                                       bytesUp: record.bytesUp, bytesDown: record.bytesDown)
        logger.info("stream closed", metadata: record.metadata)
    }
}
