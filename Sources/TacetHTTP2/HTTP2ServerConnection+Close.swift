import NIOCore
import TacetHTTP

/// How an HTTP/2 connection ends: the client's FIN (streams in flight are answered, as on
/// HTTP/1.1), Tacet's stop (GOAWAY with 2^31-1 and a PING, then GOAWAY with the last stream
/// once the PING returns, §6.8), idle, a connection error (GOAWAY with its code, then closed;
/// a flood at once), and the staged close under all of them. One lazy timer holds the
/// earliest deadline: idle, a write stalled past the send timeout, the linger, and each
/// stream's body timeout.
extension HTTP2ServerConnection {
    /// The client's FIN (or `close_notify`): it sends nothing more. Streams whose request came
    /// whole go on (their route's `on_client_fin` decides); one cut off mid-body cannot finish.
    func clientFinished() {
        inputClosed = true
        endReason = .clientFIN
        if closing == .lingering {
            closeNow()
            return
        }
        for exchange in Array(exchanges.values) { exchange.clientHalfClosed() }
        flushOut()
        exchangeEnded()
    }

    /// Tacet is stopping (or reloading): the first GOAWAY and its PING.
    func quiesce() {
        guard closing == .open else { return }
        closing = .quiescing
        FrameEncoder.goAway(&out, lastStream: UInt32(Int32.max), code: .noError)
        FrameEncoder.ping(&out, ack: false, opaque: Self.quiescePing)
        flushOut()
    }

    /// The second GOAWAY: the streams opened so far finish, later ones are refused.
    func sendFinalGoAway() {
        let last = machine.goingAway()
        FrameEncoder.goAway(&out, lastStream: last, code: .noError)
        closing = .goingAway
        if exchanges.isEmpty { closeStaged() } else { flushOut() }
    }

    /// GOAWAY with the error and the last stream processed; the connection closes once it is out
    /// (a flood, at once: no linger for a client that broke a limit).
    func connectionError(_ code: H2ErrorCode, _ reason: String, lastStream: UInt32, flood: String?) {
        FrameEncoder.goAway(&out, lastStream: lastStream, code: code, debug: reason)
        for exchange in Array(exchanges.values) { exchange.connectionFailed() }
        if let flood {
            listener.observer.http2ConnectionError(reason: flood)
            log.logger.info("HTTP/2 client broke a limit; connection closed", metadata: [
                "peer": "\(log.remoteAddress)", "reason": "\(flood)",
            ])
            closeNow()
        } else {
            log.logger.debug("HTTP/2 connection error", metadata: ["peer": "\(log.remoteAddress)", "code": "\(code)",
                                                                  "reason": "\(reason)"])
            closeStaged()
        }
    }

    /// An exchange ended: after the client's FIN or our final GOAWAY, the last one closes the
    /// connection; otherwise the idle clock starts when none is left.
    func exchangeEnded() {
        guard let context else { return }
        if inputClosed {
            // No WINDOW_UPDATE can come any more: what flow control holds back is not waited for.
            if exchanges.values.allSatisfy(\.routeFinished) { closeStaged() }
        } else if exchanges.isEmpty {
            if closing == .goingAway {
                closeStaged()
            } else if closing == .open {
                moveIdleDeadline(now: context.eventLoop.now)
            }
        }
    }

    /// Our FIN after what is queued, then the client's bytes read and discarded until its end,
    /// `lingerTimeout` per read and `lingerTotal` in all. With the client's FIN already in,
    /// nothing is left to linger for: closed once what is queued has reached the socket.
    func closeStaged() {
        guard let context, closing != .lingering, closing != .closed else { return }
        if inputClosed {
            closeNow()
            return
        }
        closing = .lingering
        flushOut()
        let now = context.eventLoop.now
        lingerUntil = now + settings.lingerTotal
        context.close(mode: .output, promise: nil)
        armLinger(now: now)
        context.read()
    }

    /// Closed once what is queued is written (bounded by the linger total).
    func closeNow() {
        guard let context, closing != .closed else { return }
        closing = .closed
        writeOut()
        let flushed = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer()), promise: flushed)
        wroteSinceFlush = false
        flushed.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        lingerUntil = context.eventLoop.now + settings.lingerTotal
        moveTimer()
    }

    func armLinger(now: NIODeadline) {
        guard let until = lingerUntil else { return }
        lingerNext = min(now + settings.lingerTimeout, until)
        moveTimer()
    }

    func moveIdleDeadline(now: NIODeadline) {
        idleDeadline = now + settings.keepaliveTimeout
        moveTimer()
    }

    /// A stream's body deadline: the timer moves only if it is the earliest.
    func bodyDeadlineSet(_ deadline: NIODeadline) {
        if let earliest = bodyEarliest, earliest <= deadline { return }
        bodyEarliest = deadline
        moveTimer()
    }

    /// Streams waiting for window get `send_timeout` from the last progress (a WINDOW_UPDATE,
    /// SETTINGS that grew the window, the channel writable again), as a channel that takes
    /// nothing does: nginx applies send_timeout to a stream waiting for window too.
    func windowStallChanged(progress: Bool) {
        guard let context else { return }
        if blocked.isEmpty {
            windowStalledDeadline = nil
            return
        }
        if progress || windowStalledDeadline == nil {
            windowStalledDeadline = context.eventLoop.now + settings.sendTimeout
            moveTimer()
        }
    }

    /// The timer set for the earliest deadline there is (it fires early at worst, and looks again).
    func moveTimer() {
        guard let context else { return }
        var earliest: NIODeadline?
        let lingering = closing == .lingering || closing == .closed
        for deadline in [idleDeadline, stalledDeadline, windowStalledDeadline, bodyEarliest, lingering ? lingerNext : nil] {
            if let deadline, earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        }
        timer.move(to: earliest) { deadline in
            context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in self.timerFired() }
        }
    }

    private func timerFired() {
        guard let context else { return }
        let now = context.eventLoop.now
        let due = timer.fired(now: now) { deadline in
            context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in self.timerFired() }
        }
        guard due else { return }
        if closing == .lingering || closing == .closed, let next = lingerNext, now >= next {
            if closing == .lingering { endReason = .timeout }
            context.close(promise: nil)
            return
        }
        if let stalled = stalledDeadline, now >= stalled {
            // The client has taken nothing for the send timeout.
            endReason = .timeout
            context.close(promise: nil)
            return
        }
        if let stalled = windowStalledDeadline, now >= stalled {
            // Streams have waited for window for the send timeout: a client that stops reading
            // at the HTTP/2 level (zero window, no WINDOW_UPDATE) holds their buffers otherwise.
            endReason = .timeout
            log.logger.debug("HTTP/2 window stalled", metadata: ["peer": "\(log.remoteAddress)"])
            context.close(promise: nil)
            return
        }
        if let idle = idleDeadline, now >= idle {
            idleDeadline = nil
            if exchanges.isEmpty && closing == .open {
                endReason = .timeout
                FrameEncoder.goAway(&out, lastStream: machine.lastStreamID, code: .noError)
                closeStaged()
                return
            }
        }
        bodyEarliest = nil
        for exchange in Array(exchanges.values) {
            guard let deadline = exchange.bodyDeadline else { continue }
            if now >= deadline {
                exchange.bodyTimedOut()
            } else if bodyEarliest.map({ deadline < $0 }) ?? true {
                bodyEarliest = deadline
            }
        }
        flushOut()
        moveTimer()
    }
}
