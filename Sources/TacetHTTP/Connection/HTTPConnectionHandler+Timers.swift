import NIOCore

/// The connection's one timer (keep-alive, header, body or linger, as the machine says) and the
/// send timeout.
extension HTTPConnectionHandler {
    /// One lazily re-armed timer per connection: moving a deadline later costs no rescheduling,
    /// which keeps keep-alive traffic off the scheduler.
    func updateTimer(refresh: Bool = false) {
        let kind = machine.timer
        guard refresh || kind != timerKind || timerRequest != machine.requestsServed else { return }
        timerKind = kind
        timerRequest = machine.requestsServed
        // The loop's clock, not the wall clock: the same thing on a real loop, and lets
        // EmbeddedEventLoop's advanceTime drive the timers in tests.
        let now = self.now
        let deadline: NIODeadline?
        switch kind {
        case .none:
            deadline = nil
        case .keepAlive:
            deadline = now + (machine.requestsServed == 0 ? settings.headerTimeout : settings.keepaliveTimeout)
        case .header:
            deadline = now + settings.headerTimeout
        case .body:
            deadline = now + settings.bodyTimeout
        case .linger:
            let total = lingerUntil ?? now + settings.lingerTotal
            lingerUntil = total
            deadline = min(now + settings.lingerTimeout, total)
        }
        // Removed from its channel: nothing is scheduled any more.
        guard context != nil else { return }
        timer.move(to: deadline, schedule: scheduleTimer)
    }

    private func scheduleTimer(at deadline: NIODeadline) -> Scheduled<Void> {
        eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            guard timer.fired(now: eventLoop.now, schedule: scheduleTimer) else { return }
            timerKind = .none
            perform(machine.timeoutFired())
            updateTimer()
        }
    }

    func cancelTimers() {
        timer.cancel()
        sendTimer?.cancel()
        sendTimer = nil
    }
}
