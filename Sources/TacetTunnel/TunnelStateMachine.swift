/// The life of one byte tunnel (a proxied TCP stream, or an HTTP connection after a 101), as a
/// plain value: which directions are open, who closed first and how, and what the glue must do
/// next. No sockets, no timers: `TunnelSession` feeds it events and carries out the actions, and
/// the tests drive it directly.
///
/// The promises it keeps (docs/streams.md, "What it promises"; Upgrade tunnels keep the same):
/// - A FIN from one side is forwarded as a FIN (shutdown of our write side) to the other, after
///   every byte that came before it; the other direction stays open until its own FIN.
/// - Once both directions are done, both sockets close normally.
/// - An RST (or any error) on one side becomes an RST on the other, never a FIN: a FIN would tell
///   the other side the stream ended cleanly when it did not.
/// - `half_close_timeout` after the first FIN both sides are reset: the direction still open is
///   being cut, and a FIN would present the truncated stream as complete.
public struct TunnelStateMachine: Sendable {
    public enum Side: String, Sendable, Equatable {
        case client
        case upstream

        public var other: Side { self == .client ? .upstream : .client }
    }

    /// How a side ended its sending, or how the stream was cut.
    public enum How: String, Sendable, Equatable {
        case fin
        case rst
        case timeout
    }

    /// Why the stream ended as a whole.
    public enum End: String, Sendable, Equatable {
        /// Both FINs forwarded; both sockets closed normally.
        case clean
        /// One side reset (or failed); the other was reset.
        case reset
        /// `half_close_timeout` ran out; both were reset.
        case timeout
        /// No byte either way for the idle timeout while both directions were open (an Upgrade
        /// tunnel's `read_timeout`): both closed normally.
        case idle
    }

    public enum Action: Sendable, Equatable {
        case none
        /// Flush what is queued for `to`, then shut down its write side (our FIN to it).
        /// `armTimer`: this is the first FIN, start `half_close_timeout`.
        case forwardFIN(to: Side, armTimer: Bool)
        /// Both directions are done: close both sockets normally and cancel the timer.
        case close
        /// `gone` reset or failed: reset the other side (SO_LINGER 0, close), close `gone`.
        case reset(gone: Side)
        /// The half-close timeout: reset both sides.
        case resetBoth
    }

    private struct Half: Sendable {
        /// This side may still send to us (no FIN seen yet).
        var inputOpen = true
        /// We may still send to this side (no FIN forwarded to it yet).
        var outputOpen = true
        /// A FIN to this side is being forwarded (waiting for queued bytes to flush).
        var finPending = false
    }

    private var client = Half()
    private var upstream = Half()
    /// Which side closed first and how; nil while both are open.
    public private(set) var firstClose: (side: Side, how: How)?
    /// Set once, when the stream is over; later events change nothing.
    public private(set) var end: End?

    public init() {}

    public var isFinished: Bool { end != nil }

    /// Whether `side` may still send to us (no FIN from it yet).
    public func isInputOpen(_ side: Side) -> Bool { self[side].inputOpen }

    /// The side sent a FIN (its input to us is closed).
    public mutating func inputClosed(_ side: Side) -> Action {
        guard end == nil, self[side].inputOpen else { return .none }
        self[side].inputOpen = false
        let first = firstClose == nil
        if first { firstClose = (side, .fin) }
        guard self[side.other].outputOpen, !self[side.other].finPending else { return finishIfDone() }
        self[side.other].finPending = true
        return .forwardFIN(to: side.other, armTimer: first)
    }

    /// Our FIN to `side` went out (its queued bytes were flushed and its write side shut down).
    public mutating func outputShutDown(_ side: Side) -> Action {
        guard end == nil else { return .none }
        self[side].finPending = false
        self[side].outputOpen = false
        return finishIfDone()
    }

    /// The side reset, or a read or write on it failed.
    public mutating func failed(_ side: Side) -> Action {
        guard end == nil else { return .none }
        if firstClose == nil { firstClose = (side, .rst) }
        end = .reset
        return .reset(gone: side)
    }

    /// The side's channel closed without an error we saw. NIO closes a channel whose write side we
    /// had shut down when that side's FIN arrives (nothing is left open), so in that one state it
    /// is a FIN; otherwise the socket went away under us (RST, EPOLLHUP, failed write) and the
    /// other side must learn that the stream did not end cleanly.
    public mutating func channelClosed(_ side: Side) -> Action {
        guard end == nil else { return .none }
        if self[side].inputOpen, !self[side].outputOpen {
            return inputClosed(side)
        }
        return failed(side)
    }

    /// `half_close_timeout` after the first FIN.
    public mutating func halfCloseTimeout() -> Action {
        guard end == nil else { return .none }
        end = .timeout
        return .resetBoth
    }

    /// Nothing moved for the idle timeout. Both directions open: close both normally (nginx ends a
    /// silent WebSocket so). After a first FIN it is the half-close rule: reset both.
    public mutating func idleTimeout() -> Action {
        guard end == nil else { return .none }
        if firstClose != nil { return halfCloseTimeout() }
        end = .idle
        return .close
    }

    private mutating func finishIfDone() -> Action {
        let done = !client.inputOpen && !upstream.inputOpen && !client.outputOpen && !upstream.outputOpen
        guard done else { return .none }
        end = .clean
        return .close
    }

    private subscript(side: Side) -> Half {
        get { side == .client ? client : upstream }
        set { if side == .client { client = newValue } else { upstream = newValue } }
    }
}
