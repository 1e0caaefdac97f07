/// One fill: the upstream response for a key that missed, and everyone who wants it (pure: the
/// handler that carries it out and the sockets are elsewhere). The client that started it is
/// only its first reader: when it leaves, the fill goes on as long as another reader or the
/// store still wants the bytes; when nobody does, the upstream request is cancelled (the route's
/// `on_client_fin` then decides as for any proxied request). Readers that join get what has
/// arrived so far and then each piece as it comes, not the whole body at the end. A response
/// found not storable releases every waiting reader at once to go upstream on its own, and the
/// key is remembered as such for a while (hit-for-miss). A response cut short is never stored,
/// and every reader sees the truncation.
public struct FillMachine: Sendable {
    public typealias Reader = Int

    public enum State: Sendable, Equatable {
        /// The request is upstream; readers wait for the head.
        case awaitingHead
        /// Bytes arriving; `storing`: the store wants them too.
        case streaming(storing: Bool)
        case complete
        case failed
        /// Nobody wanted it any more: the upstream request was cancelled.
        case cancelled
    }

    public enum Action: Sendable, Equatable {
        /// Send the head, then everything held so far (`replay` bytes), to these readers.
        case start([Reader], replay: Int)
        case body([Reader])
        case end([Reader])
        /// The response was cut short: these readers see it end without its last bytes.
        case truncate([Reader])
        /// Not storable, or no longer to be waited for: these go upstream on their own.
        case release([Reader])
        /// The response is whole and storable: commit what was written.
        case store
        /// Drop what was written for the store.
        case discard
        /// Remember the key as not storable for a while.
        case markHitForMiss
        case cancelUpstream
    }

    public private(set) var state = State.awaitingHead
    /// Readers waiting for the head, then those being sent the body.
    public private(set) var waiting: [Reader] = []
    public private(set) var reading: [Reader] = []
    /// Bytes held for readers that join late and for the store.
    public private(set) var held = 0
    /// The most a fill holds for the store; past it the response is passed on, not stored.
    public let maxObjectSize: Int

    /// `first` nil: a background refresh (stale-while-revalidate) that only the store wants.
    public init(first: Reader?, maxObjectSize: Int) {
        waiting = first.map { [$0] } ?? []
        self.maxObjectSize = maxObjectSize
    }

    /// A reader for the same key arrives.
    public mutating func join(_ reader: Reader) -> [Action] {
        switch state {
        case .awaitingHead:
            waiting.append(reader)
            return []
        case .streaming(storing: true):
            reading.append(reader)
            return [.start([reader], replay: held)]
        case .streaming(storing: false), .failed, .cancelled:
            return [.release([reader])]
        case .complete:
            return [.release([reader])]  // the entry is stored: the caller answers it from there
        }
    }

    /// The response head: `storable` as `Storability` decided.
    public mutating func head(storable: Bool, knownLength: Int?) -> [Action] {
        guard state == .awaitingHead else { return [] }
        let first = waiting.first.map { [$0] } ?? []
        let others = Array(waiting.dropFirst())
        let fits = knownLength.map { $0 <= maxObjectSize } ?? true
        if storable && fits {
            state = .streaming(storing: true)
            reading = waiting
            waiting = []
            return reading.isEmpty ? [] : [.start(reading, replay: 0)]
        }
        state = .streaming(storing: false)
        reading = first
        waiting = []
        var actions: [Action] = []
        if !first.isEmpty { actions.append(.start(first, replay: 0)) }
        if !others.isEmpty { actions.append(.release(others)) }
        if !storable { actions.append(.markHitForMiss) }
        if first.isEmpty { actions.append(.cancelUpstream); state = .cancelled }
        return actions
    }

    public mutating func body(_ bytes: Int) -> [Action] {
        guard case .streaming(let storing) = state else { return [] }
        var actions: [Action] = []
        if storing {
            held += bytes
            if held > maxObjectSize {
                state = .streaming(storing: false)
                actions.append(.discard)
                if reading.isEmpty {
                    state = .cancelled
                    return actions + [.cancelUpstream]
                }
            }
        }
        if !reading.isEmpty { actions.insert(.body(reading), at: 0) }
        return actions
    }

    public mutating func end() -> [Action] {
        guard case .streaming(let storing) = state else { return [] }
        state = .complete
        // Stored before anyone sees the end: a reader's next request finds the entry.
        var actions: [Action] = storing ? [.store] : []
        if !reading.isEmpty { actions.append(.end(reading)) }
        reading = []
        return actions
    }

    /// The upstream failed or cut the body short (Content-Length not reached, no last chunk,
    /// a reset, the read timeout): nothing is stored.
    public mutating func failed() -> [Action] {
        var actions: [Action] = []
        switch state {
        case .awaitingHead:
            // No head yet: every reader gets what an uncached request would (a 502 or 504).
            if !waiting.isEmpty { actions.append(.release(waiting)) }
        case .streaming(let storing):
            if !reading.isEmpty { actions.append(.truncate(reading)) }
            if storing { actions.append(.discard) }
        case .complete, .failed, .cancelled:
            return []
        }
        state = .failed
        waiting = []
        reading = []
        return actions
    }

    /// A reader is gone (FIN with nothing more to wait for, or RST).
    public mutating func leave(_ reader: Reader) -> [Action] {
        waiting.removeAll { $0 == reader }
        reading.removeAll { $0 == reader }
        switch state {
        case .awaitingHead where waiting.isEmpty:
            // Nobody waits, and nothing yet says the store wants it: spare the backend.
            state = .cancelled
            return [.cancelUpstream]
        case .streaming(storing: false) where reading.isEmpty:
            state = .cancelled
            return [.cancelUpstream]
        default:
            return []
        }
    }

    /// No upstream answer (Tacet's own 502 or 504): every waiter gets that answer, none stored
    /// and nothing remembered, so a failing origin is not asked once per waiter.
    public mutating func error() -> [Action] {
        guard state == .awaitingHead else { return [] }
        state = .streaming(storing: false)
        reading = waiting
        waiting = []
        return reading.isEmpty ? [] : [.start(reading, replay: 0)]
    }

    /// The origin answered a revalidation 304: the stored entry is fresh again, and everyone
    /// waiting is answered from it.
    public mutating func revalidated() -> [Action] {
        guard state == .awaitingHead else { return [] }
        state = .complete
        defer { waiting = [] }
        return waiting.isEmpty ? [] : [.release(waiting)]
    }

    /// Readers whose request the response's Vary does not match: they look again on their own.
    public mutating func mismatched(_ readers: [Reader]) -> [Action] {
        guard state == .awaitingHead else { return [] }
        let leaving = waiting.filter(readers.contains)
        waiting.removeAll(where: readers.contains)
        return leaving.isEmpty ? [] : [.release(leaving)]
    }

    /// A reader waited `lock_timeout` for the head: it goes upstream on its own.
    public mutating func lockTimedOut(_ reader: Reader) -> [Action] {
        guard state == .awaitingHead, let index = waiting.firstIndex(of: reader) else { return [] }
        waiting.remove(at: index)
        return [.release([reader])]
    }
}
