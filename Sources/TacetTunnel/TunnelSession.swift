import NIOCore

/// What a tunnel's owner hears: `StreamSession` for a TCP stream, the proxy's `UpgradeTunnel`
/// for an HTTP connection after a 101.
package protocol TunnelSessionDelegate: AnyObject {
    /// A side failed or closed before the two were glued (a stream's client leaving while its
    /// upstream connect is in progress).
    func tunnelSideGoneBeforeGlue(_ side: TunnelStateMachine.Side)
    /// The tunnel is over. Called once, after its end actions have been carried out.
    func tunnelEnded(_ session: TunnelSession)
}

/// One tunnel: the two `GlueHandler`s, the state machine, the half-close and idle timers and
/// the byte counts. Carries out what `TunnelStateMachine` decides. Lives on the client's event
/// loop (the upstream channel is on the same loop), so nothing here is locked.
package final class TunnelSession {
    package typealias Side = TunnelStateMachine.Side

    private let loop: any EventLoop
    private let halfCloseTimeout: TimeAmount
    /// No byte either way for this long ends the tunnel (nil: never).
    private let idleTimeout: TimeAmount?
    package private(set) var machine = TunnelStateMachine()
    /// Bytes from the client to the upstream, and back.
    package private(set) var bytesUp = 0
    package private(set) var bytesDown = 0
    /// Held until the end (the session keeps its owner alive while the tunnel runs).
    package var delegate: (any TunnelSessionDelegate)?
    private var client: GlueHandler?
    private var upstream: GlueHandler?
    private var halfCloseTimer: Scheduled<Void>?
    private var idleTimer = LazyTimer()
    private var ended = false

    package init(loop: any EventLoop, halfCloseTimeout: TimeAmount, idleTimeout: TimeAmount? = nil) {
        self.loop = loop
        self.halfCloseTimeout = halfCloseTimeout
        self.idleTimeout = idleTimeout
    }

    package func attach(_ handler: GlueHandler) {
        if handler.side == .client { client = handler } else { upstream = handler }
    }

    /// Both sides are attached: pass on what each held, and read both.
    package func glue() {
        try? upstream?.context?.channel.syncOptions?.setOption(.autoRead, value: true)
        try? client?.context?.channel.syncOptions?.setOption(.autoRead, value: true)
        isGlued = true
        touch()
        upstream?.startForwarding()
        client?.startForwarding()
    }

    package private(set) var isGlued = false

    /// The tunnel was never glued (a stream's upstream could not be reached): report the end.
    package func abandon() {
        finish()
    }

    // MARK: data

    func forward(_ bytes: ByteBuffer, from side: Side) {
        if side == .client { bytesUp += bytes.readableBytes } else { bytesDown += bytes.readableBytes }
        if idleTimeout != nil { touch() }
        handler(side.other)?.context?.write(NIOAny(bytes), promise: nil)
    }

    func flush(to side: Side) {
        handler(side)?.context?.flush()
    }

    func isWritable(_ side: Side) -> Bool {
        handler(side)?.context?.channel.isWritable ?? false
    }

    func becameWritable(_ side: Side) {
        handler(side.other)?.partnerBecameWritable()
    }

    // MARK: events

    func inputClosed(_ side: Side) {
        perform(machine.inputClosed(side))
    }

    func failed(_ side: Side) {
        guard isGlued || machine.isFinished else {
            delegate?.tunnelSideGoneBeforeGlue(side)
            return
        }
        perform(machine.failed(side))
    }

    func channelClosed(_ side: Side) {
        guard isGlued || machine.isFinished else {
            delegate?.tunnelSideGoneBeforeGlue(side)
            return
        }
        perform(machine.channelClosed(side))
    }

    // MARK: actions

    private func perform(_ action: TunnelStateMachine.Action) {
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
            handler(gone.other)?.context?.channel.resetNow()
            handler(gone)?.context?.channel.resetNow()
            finish()
        case .resetBoth:
            client?.context?.channel.resetNow()
            upstream?.context?.channel.resetNow()
            finish()
        }
    }

    /// Our FIN to `side`, after every byte queued for it: an empty write completes only when
    /// everything before it has been written, and only then is the write side shut down.
    /// When `side` has already sent its own FIN there is nothing left to keep open: the
    /// machine then closes both sockets normally.
    private func forwardFIN(to side: Side) {
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
        halfCloseTimer = loop.assumeIsolated().scheduleTask(in: halfCloseTimeout) {
            self.perform(self.machine.halfCloseTimeout())
        }
    }

    /// Bytes moved: the idle deadline moves later (one task per tunnel, re-armed lazily).
    private func touch() {
        guard let idleTimeout else { return }
        idleTimer.move(to: loop.now + idleTimeout, schedule: scheduleIdle)
    }

    private func scheduleIdle(at deadline: NIODeadline) -> Scheduled<Void> {
        loop.assumeIsolated().scheduleTask(deadline: deadline) {
            guard self.idleTimer.fired(now: self.loop.now, schedule: self.scheduleIdle) else { return }
            self.perform(self.machine.idleTimeout())
        }
    }

    private func finish() {
        guard !ended else { return }
        ended = true
        halfCloseTimer?.cancel()
        halfCloseTimer = nil
        idleTimer.cancel()
        let delegate = self.delegate
        self.delegate = nil
        // Break the session <-> handler cycle; late events reach a finished machine and do nothing.
        client = nil
        upstream = nil
        delegate?.tunnelEnded(self)
    }

    private func handler(_ side: Side) -> GlueHandler? {
        side == .client ? client : upstream
    }
}
