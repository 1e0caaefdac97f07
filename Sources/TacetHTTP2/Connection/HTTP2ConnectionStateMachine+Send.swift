/// What the handler asks before it sends, and tells after: flow-control windows for DATA
/// (§6.9), a stream's end or reset from our side, credit given back for body taken.
extension HTTP2ConnectionStateMachine {
    /// How many bytes of DATA may go on `stream` now: the smaller of its window and the
    /// connection's, at most one frame of the peer's size. 0 when it must wait (or is gone).
    func sendable(_ stream: UInt32) -> Int {
        guard let state = streams[stream], !state.localClosed else { return 0 }
        return max(0, min(state.sendWindow, sendWindow, peer.maxFrameSize))
    }

    /// The connection's send window is open (some stream may go on).
    var connectionMaySend: Bool { sendWindow > 0 }

    mutating func sent(_ stream: UInt32, bytes: Int) {
        guard bytes > 0 else { return }
        streams[stream]?.sendWindow -= bytes
        adjustSendWindow(by: -bytes)
    }

    /// END_STREAM went on `stream` (HEADERS or DATA).
    mutating func endSent(_ stream: UInt32) {
        guard var state = streams[stream] else { return }
        state.localClosed = true
        store(stream, state)
    }

    /// We reset `stream`: what the client still sends on it is ignored.
    mutating func resetSent(_ stream: UInt32) {
        if streams.removeValue(forKey: stream) != nil { recentlyClosed.add(stream, .resetByUs) }
    }

    /// The route took `bytes` of a stream's body: the WINDOW_UPDATE increment due, when enough
    /// is owed (a quarter of the window, so a client is never starved by small updates).
    mutating func bodyTaken(_ stream: UInt32, bytes: Int) -> Int? {
        guard var state = streams[stream], !state.remoteClosed else { return nil }
        state.creditOwed += bytes
        guard state.creditOwed >= min(16 * 1024, configuration.initialWindowSize / 4) else {
            streams[stream] = state
            return nil
        }
        let increment = state.creditOwed
        state.creditOwed = 0
        state.receiveWindow += increment
        streams[stream] = state
        return increment
    }

    /// The connection's WINDOW_UPDATE increment due for the DATA received (returned at once:
    /// each stream's window is what bounds a paused route's body).
    mutating func connectionCreditDue() -> Int? {
        guard connectionCreditOwed >= min(32 * 1024, configuration.connectionWindowSize / 4) else { return nil }
        let increment = connectionCreditOwed
        connectionCreditOwed = 0
        receiveWindow += increment
        return increment
    }

    /// Our final GOAWAY names the last stream opened; any stream above it is refused.
    mutating func goingAway() -> UInt32 {
        setGoAwayLastStream(lastStreamID)
        return lastStreamID
    }
}
