import Logging
import NIOCore
import TacetTunnel
import TacetUpstream
import TacetProxyProtocol

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
    /// An upstream connect was started (on a `proxy_protocol` listener, only once the header is
    /// read): until then a client that leaves is logged here, there is no connector to do it.
    private var connecting = false
    /// The client and the address it connected to, as a balancer's PROXY header named them.
    private var proxied: (source: ProxiedAddress, destination: ProxiedAddress)?
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

    /// The client's address and the one it connected to, for a PROXY header sent upstream:
    /// those a balancer's header named, else the socket's.
    var clientAddresses: (source: ProxiedAddress?, destination: ProxiedAddress?) {
        if let proxied { return (proxied.source, proxied.destination) }
        return (Self.proxied(clientChannel?.remoteAddress), Self.proxied(clientChannel?.localAddress))
    }

    static func proxied(_ address: SocketAddress?) -> ProxiedAddress? {
        guard let address, let ip = address.ipAddress, let port = address.port else { return nil }
        return ProxiedAddress(ip: ip, port: port)
    }

    /// The balancer's PROXY header was read: a proxied connection's client is the one it names
    /// (a LOCAL one, the balancer's own health check, keeps the socket's).
    func headerRead(_ header: ProxyHeader) {
        guard case .proxied(let source, let destination) = header else { return }
        proxied = (source, destination)
        record.client = try? SocketAddress(ipAddress: source.ip, port: source.port)
    }

    /// No good PROXY header: the reader closes the client, and the stream is logged and counted
    /// as `refused` (never connected upstream).
    func headerRefused(_ why: ProxyProtocolReader.Refusal) {
        record.firstClose = "proxy_header_\(why.rawValue)"
        record.end = "refused"
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
        if record.end != "refused" {
            record.firstClose = "client_rst"
            record.end = "reset"
        }
        clientChannel?.close(promise: nil)
        if !connecting { tunnel.abandon() }
    }

    /// The connector is about to connect: from here it logs a client that leaves.
    func connectStarted() { connecting = true }

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
