import NIOCore

/// A request held while something off its path decides whether it may go on (a password checked
/// on a thread pool, an authentication subrequest): what the connection says meanwhile (body,
/// end, the client's half-close, writability) is kept, reading paused, and replayed to the next
/// responder's handler when it goes on; a refusal answers instead and drops it. A client gone
/// first (cancel) makes both a no-op. Event-loop only.
public final class DeferredRequest: RequestHandler {
    private enum Event {
        case body(ByteBuffer)
        case ended
        case halfClosed
        case writability(Bool)
    }

    private enum State {
        case waiting([Event])
        /// Handing what was kept to the next handler; what arrives meanwhile joins the end of
        /// the queue, so the handler sees everything in order.
        case replaying(any RequestHandler, [Event])
        case proceeding(any RequestHandler)
        case refused
        case cancelled(ConnectionEndReason)
    }

    private var state = State.waiting([])
    private let writer: ResponseWriter

    public init(writer: ResponseWriter) {
        self.writer = writer
        writer.pauseRequestBody(true)
    }

    /// Whether the client left while this was being decided.
    public var isCancelled: Bool {
        if case .cancelled = state { return true }
        return false
    }

    /// Goes on: `start` is the next responder's `respond`; what arrived meanwhile is handed to its
    /// handler, in order, before anything newer. Reading resumes first: over HTTP/2 that hands
    /// over held DATA at once, which is recorded like the rest.
    public func proceed(_ start: () -> (any RequestHandler)?) {
        guard case .waiting = state else { return }
        writer.pauseRequestBody(false)
        let handler = start()
        switch state {
        case .waiting(let events):
            guard let handler else {
                state = .refused  // the next answered without a handler: the body is not wanted
                return
            }
            state = .replaying(handler, events)
            replay(handler)
        case .cancelled(let reason):
            handler?.cancel(reason)
        case .replaying, .proceeding, .refused:
            return
        }
    }

    private func replay(_ handler: any RequestHandler) {
        while case .replaying(_, var events) = state {
            guard !events.isEmpty else {
                state = .proceeding(handler)
                return
            }
            let event = events.removeFirst()
            state = .replaying(handler, events)
            switch event {
            case .body(let buffer): handler.requestBodyPart(buffer)
            case .ended: handler.requestEnded()
            case .halfClosed: handler.clientHalfClosed()
            case .writability(let writable): handler.writabilityChanged(writable)
            }
        }
    }

    /// Answers here instead (`respond` writes the response); anything else that arrives is dropped.
    public func refuse(_ respond: () -> Void) {
        guard case .waiting = state else { return }
        state = .refused
        writer.pauseRequestBody(false)
        respond()
    }

    private func record(_ event: Event) {
        switch state {
        case .waiting(var events):
            state = .waiting([])  // one reference to the array while it grows
            events.append(event)
            state = .waiting(events)
        case .replaying(let handler, var events):
            state = .waiting([])
            events.append(event)
            state = .replaying(handler, events)
        case .proceeding, .refused, .cancelled:
            break
        }
    }

    public func requestBodyPart(_ buffer: ByteBuffer) {
        if case .proceeding(let handler) = state { handler.requestBodyPart(buffer) } else { record(.body(buffer)) }
    }

    public func requestEnded() {
        if case .proceeding(let handler) = state { handler.requestEnded() } else { record(.ended) }
    }

    public func clientHalfClosed() {
        if case .proceeding(let handler) = state { handler.clientHalfClosed() } else { record(.halfClosed) }
    }

    public func writabilityChanged(_ isWritable: Bool) {
        if case .proceeding(let handler) = state { handler.writabilityChanged(isWritable) } else { record(.writability(isWritable)) }
    }

    public func cancel(_ reason: ConnectionEndReason) {
        switch state {
        case .proceeding(let handler), .replaying(let handler, _): handler.cancel(reason)
        case .waiting, .refused, .cancelled: break
        }
        state = .cancelled(reason)
    }
}
