import Logging
import NIOCore
import TacetUpstream

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One proxied connection: the two `GlueHandler`s, the state machine, the half-close timer,
/// byte counts and the log line. Lives on the client's event loop (the upstream channel is
/// created on the same loop), so nothing here is locked.
final class StreamSession {
    private let loop: any EventLoop
    private let settings: StreamSettings
    private let logger: Logger
    private let started: NIODeadline
    private var machine = StreamProxyStateMachine()
    private var client: GlueHandler?
    private var upstream: GlueHandler?
    private var timer: Scheduled<Void>?
    private var record: StreamLogRecord
    /// The upstream server index while connected (for least_conn counts).
    private var server: Int?
    /// The client went away while the upstream connect was in progress.
    private(set) var clientGoneWhileConnecting = false
    private var logged = false

    init(loop: any EventLoop, settings: StreamSettings, listen: String, clientAddress: SocketAddress?, logger: Logger) {
        self.loop = loop
        self.settings = settings
        self.logger = logger
        self.started = .now()
        self.record = StreamLogRecord(listen: listen, client: clientAddress)
    }

    func attachClient(_ handler: GlueHandler) { client = handler }

    /// The upstream connected: glue the two sides and start reading both.
    func glue(upstream handler: GlueHandler, server: Int) {
        self.upstream = handler
        self.server = server
        record.upstream = settings.group.servers[server]
        try? handler.context?.channel.syncOptions?.setOption(.autoRead, value: true)
        try? client?.context?.channel.syncOptions?.setOption(.autoRead, value: true)
        handler.startForwarding()
        client?.startForwarding()
    }

    /// No server could be reached: reset the client at once (it must not take our FIN for an
    /// empty answer) and log.
    func connectFailed() {
        record.firstClose = "upstream_unreachable"
        record.end = "connect_failed"
        // Log before the reset: closing the client re-enters through its channelInactive.
        let channel = client?.context?.channel
        finish()
        if let channel { Self.reset(channel) }
    }

    // MARK: data

    func forward(_ bytes: ByteBuffer, from side: StreamProxyStateMachine.Side) {
        if side == .client { record.bytesUp += bytes.readableBytes } else { record.bytesDown += bytes.readableBytes }
        handler(side.other)?.context?.write(NIOAny(bytes), promise: nil)
    }

    func flush(to side: StreamProxyStateMachine.Side) {
        handler(side)?.context?.flush()
    }

    func isWritable(_ side: StreamProxyStateMachine.Side) -> Bool {
        handler(side)?.context?.channel.isWritable ?? false
    }

    func becameWritable(_ side: StreamProxyStateMachine.Side) {
        handler(side.other)?.partnerBecameWritable()
    }

    // MARK: events

    func inputClosed(_ side: StreamProxyStateMachine.Side) {
        perform(machine.inputClosed(side))
    }

    func failed(_ side: StreamProxyStateMachine.Side) {
        guard isGlued else {
            clientGone()
            return
        }
        perform(machine.failed(side))
    }

    func channelClosed(_ side: StreamProxyStateMachine.Side) {
        guard isGlued else {
            clientGone()
            return
        }
        perform(machine.channelClosed(side))
    }

    private var isGlued: Bool { upstream != nil || machine.isFinished }

    /// Before the upstream connected, only the client can fail; the connector sees the flag,
    /// resets the upstream connection if it still comes up, and logs.
    private func clientGone() {
        guard !clientGoneWhileConnecting, !logged else { return }
        clientGoneWhileConnecting = true
        record.firstClose = "client_rst"
        record.end = "reset"
        if let channel = client?.context?.channel { channel.close(promise: nil) }
    }

    /// The connector gave up on a client that left while connecting; log it once.
    func finishAbandoned() { finish() }

    // MARK: actions

    private func perform(_ action: StreamProxyStateMachine.Action) {
        switch action {
        case .none:
            return
        case .forwardFIN(let side, let armTimer):
            if armTimer { armHalfCloseTimer() }
            forwardFIN(to: side)
        case .close:
            client?.context?.close(promise: nil)
            upstream?.context?.close(promise: nil)
            finish()
        case .reset(let gone):
            if let channel = handler(gone.other)?.context?.channel { Self.reset(channel) }
            if let channel = handler(gone)?.context?.channel { Self.reset(channel) }
            finish()
        case .resetBoth:
            for side in [StreamProxyStateMachine.Side.client, .upstream] {
                if let channel = handler(side)?.context?.channel { Self.reset(channel) }
            }
            finish()
        }
    }

    /// Our FIN to `side`, after every byte queued for it: an empty write completes only when
    /// everything before it has been written, and only then is the write side shut down.
    /// When `side` has already sent its own FIN there is nothing left to keep open: the
    /// machine then closes both sockets normally.
    private func forwardFIN(to side: StreamProxyStateMachine.Side) {
        guard let context = handler(side)?.context else {
            perform(machine.failed(side))
            return
        }
        let empty = context.channel.allocator.buffer(capacity: 0)
        context.writeAndFlush(NIOAny(empty)).assumeIsolated().whenComplete { result in
            guard case .success = result else {
                self.perform(self.machine.failed(side))
                return
            }
            guard self.machine.isInputOpen(side), let context = self.handler(side)?.context else {
                self.perform(self.machine.outputShutDown(side))
                return
            }
            context.close(mode: .output).assumeIsolated().whenComplete { result in
                switch result {
                case .success: self.perform(self.machine.outputShutDown(side))
                case .failure: self.perform(self.machine.failed(side))
                }
            }
        }
    }

    private func armHalfCloseTimer() {
        timer = loop.assumeIsolated().scheduleTask(in: settings.halfCloseTimeout) {
            self.perform(self.machine.halfCloseTimeout())
        }
    }

    /// Closes with SO_LINGER {1, 0}: the kernel sends an RST instead of a FIN. On the channel's
    /// own loop the option is set synchronously, before the close. (NIO's `.socketOption`
    /// takes C ints only; `linger` is a struct, hence `SocketOptionProvider`.)
    static func reset(_ channel: any Channel) {
        guard channel.isActive else { return }
        if let provider = channel as? any SocketOptionProvider {
            provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenFailure { _ in }
        }
        channel.close(promise: nil)
    }

    private func finish() {
        guard !logged else { return }
        logged = true
        timer?.cancel()
        timer = nil
        if let server { settings.group.connectionClosed(server) }
        if let first = machine.firstClose { record.firstClose = "\(first.side.rawValue)_\(first.how.rawValue)" }
        if let end = machine.end { record.end = end.rawValue }
        record.duration = .now() - started
        settings.observer.streamClosed(listen: record.listen, end: record.end,
                                       bytesUp: record.bytesUp, bytesDown: record.bytesDown)
        logger.info("stream closed", metadata: record.metadata)
        // Break the session <-> handler cycle; late events reach a finished machine and do nothing.
        client = nil
        upstream = nil
    }

    private func handler(_ side: StreamProxyStateMachine.Side) -> GlueHandler? {
        side == .client ? client : upstream
    }
}
