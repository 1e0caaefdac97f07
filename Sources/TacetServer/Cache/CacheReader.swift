import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import TacetCache
import TacetHTTP
import TacetProxy

/// One client's GET or HEAD on a cached route: answered from the store when `Reuse` allows;
/// else it joins the fill for its key, or starts one, or (hit-for-miss, lock timeout, a fill
/// that would not do) goes upstream on its own. Leaving (RST, or FIN under `abort` before an
/// answer) only takes this reader off the fill: the fill goes on for whoever else wants it.
final class CacheReader: RequestHandler {
    enum State {
        case looking
        case waiting(FillHandle, id: Int)
        case streaming(FillHandle, id: Int)
        case passing(any RequestHandler)
        case done
    }

    let route: CacheResponder
    let request: Request
    let writer: ResponseWriter
    let primary: String
    private var state = State.looking
    private var lockTimer: Scheduled<Void>?
    private var outcome = CacheStatus.Outcome.miss
    private var sawRequestEnd = false
    private var halfClosed = false
    /// Looks after a release, bounded so two fills cannot hand a reader back and forth.
    private var looks = 0
    private static let ids = NIOLockedValueBox(0)

    init(route: CacheResponder, request: Request, writer: ResponseWriter, primary: String) {
        self.route = route
        self.request = request
        self.writer = writer
        self.primary = primary
    }

    func start() {
        looks += 1
        let now = CacheZone.now()
        let headers = request.headers
        let lookup = route.zone.lookup(primary: primary, field: { headers[$0] }, now: now)
        let ccValues = request.headers["cache-control"]
        let requestCC = ccValues.isEmpty ? CacheControl() : CacheControl(values: ccValues)
        if let entry = lookup.entry {
            let stored = (entry.facts ?? EntryFacts(header: entry.header, date: { HTTPDate.parse($0) })).stored(entry.header, now: now)
            let pragma = ccValues.isEmpty && request.headers["pragma"].contains { $0.lowercased().contains("no-cache") }
            switch Reuse.decide(stored, request: requestCC, pragmaNoCache: pragma, overrides: route.overrides) {
            case .fresh(let ttl):
                if serve(entry, CacheStatus(outcome: .hit, ttl: ttl), now: now) { return }
            case .staleWhileRevalidate(let ttl):
                if serve(entry, CacheStatus(outcome: .updating, ttl: ttl), now: now) {
                    if lookup.fill == nil { refreshInBackground(stale: entry, fillKey: lookup.fillKey) }
                    return
                }
            case .revalidate, .fetch:
                outcome = .expired
                return fetch(lookup, stale: entry)
            case .unsatisfiable:
                return onlyIfCached()
            }
        }
        if requestCC?.onlyIfCached == true { return onlyIfCached() }
        if lookup.hitForMiss { return pass(detail: "uncacheable") }
        fetch(lookup, stale: nil)
    }

    /// Joins the fill in progress for the key, or starts one.
    private func fetch(_ lookup: CacheZone.Lookup, stale: CacheZone.Entry?) {
        guard looks <= 3 else { return pass(detail: "busy") }
        let id = Self.ids.withLockedValue { value -> Int in
            value &+= 1
            return value
        }
        let link = ReaderLink(eventLoop: writer.eventLoop, reader: NIOLoopBound(self, eventLoop: writer.eventLoop), headers: request.headers)
        if let existing = lookup.fill as? FillHandle { return join(existing, id: id, link: link) }
        let fill = CacheFill(route: route, eventLoop: writer.eventLoop, primary: primary, fillKey: lookup.fillKey,
                             firstHeaders: request.headers, stale: stale, first: (id, link))
        let handle = FillHandle(fill)
        fill.handle = handle
        if let other = route.zone.register(handle, key: lookup.fillKey) as? FillHandle { return join(other, id: id, link: link) }
        state = .waiting(handle, id: id)
        fill.start(request: request, writer: writer)
    }

    private func join(_ handle: FillHandle, id: Int, link: ReaderLink) {
        state = .waiting(handle, id: id)
        let timeout = route.lockTimeout
        lockTimer = writer.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            self?.lockTimer = nil
            handle.withFill { $0.lockTimedOut(id) }
        }
        handle.withFill { $0.join(link, id: id) }
    }

    /// stale-while-revalidate: one refresh, which nobody waits for.
    private func refreshInBackground(stale: CacheZone.Entry, fillKey: String) {
        let fill = CacheFill(route: route, eventLoop: writer.eventLoop, primary: primary, fillKey: fillKey,
                             firstHeaders: request.headers, stale: stale, first: nil)
        let handle = FillHandle(fill)
        fill.handle = handle
        guard route.zone.register(handle, key: fillKey) == nil else { return }
        fill.start(request: request, writer: writer)
    }

    private func serve(_ entry: CacheZone.Entry, _ status: CacheStatus, now: Int) -> Bool {
        guard StoredAnswer.write(entry, status: status, request: request, writer: writer, zone: route.zone, now: now) else {
            route.zone.forget(entry)
            return false
        }
        state = .done
        return true
    }

    private func onlyIfCached() {
        state = .done
        route.zone.count(CacheStatus.Outcome.miss.rawValue)
        ErrorResponse.write(writer, status: 504, reason: "not cached",
                            headers: ["Cache-Status": CacheStatus(outcome: .miss, detail: "only-if-cached").fieldValue])
    }

    /// Upstream on its own, not stored: the route's proxy with the client's own request.
    private func pass(detail: String) {
        route.zone.count(CacheStatus.Outcome.miss.rawValue)
        let sink = CacheStatusSink(base: writer, status: CacheStatus(outcome: .miss, detail: detail), invalidate: nil)
        guard let inner = route.proxy.respond(to: request, writer: ResponseWriter(sink: sink, id: 0)) else {
            state = .done
            return
        }
        state = .passing(inner)
        if halfClosed { inner.clientHalfClosed() }
        if sawRequestEnd { inner.requestEnded() }
    }

    // MARK: what the fill sends

    func fillSent(_ event: FillEvent) {
        guard case .waiting(let handle, let id) = state, case .start(var head, let replay, let stored) = event else {
            return streaming(event)
        }
        lockTimer?.cancel()
        lockTimer = nil
        route.zone.count(outcome.rawValue)
        head.addField("Cache-Status", CacheStatus(outcome: outcome, stored: stored).fieldValue)
        if request.method == .HEAD {
            state = .done
            writer.writeHead(head)
            writer.end()
            handle.withFill { $0.leave(id) }
            return
        }
        state = .streaming(handle, id: id)
        writer.writeHead(head, flush: replay.isEmpty)
        for part in replay { writer.writeBody(part, flush: false) }
        if !replay.isEmpty { writer.flush() }
    }

    private func streaming(_ event: FillEvent) {
        switch (state, event) {
        case (.streaming, .body(let buffer)):
            writer.writeBody(buffer, flush: false)
        case (.streaming, .flush):
            writer.flush()
        case (.streaming, .end):
            state = .done
            writer.end()
        case (.streaming, .truncate(let status, let why)):
            state = .done
            writer.abandon(.serverClose, logStatus: status, logEnd: why)
        case (.waiting, .release(let release)), (.streaming, .release(let release)):
            lockTimer?.cancel()
            lockTimer = nil
            state = .looking
            released(release)
        default:
            break
        }
    }

    private func released(_ release: FillRelease) {
        switch release {
        case .lookAgain:
            start()
        case .goUpstream(let detail):
            pass(detail: detail)
        case .revalidated, .staleIfError:
            // The origin just confirmed the entry (or failed, and stale may answer): serve it.
            let now = CacheZone.now()
            let headers = request.headers
            let lookup = route.zone.lookup(primary: primary, field: { headers[$0] }, now: now)
            let status = CacheStatus(outcome: release == .revalidated ? .revalidated : .stale)
            if let entry = lookup.entry, serve(entry, status, now: now) { return }
            pass(detail: "gone")
        }
    }

    // MARK: RequestHandler (the client)

    func requestEnded() {
        sawRequestEnd = true
        if case .passing(let inner) = state { inner.requestEnded() }
    }

    func clientHalfClosed() {
        halfClosed = true
        switch state {
        case .passing(let inner):
            inner.clientHalfClosed()
        case .waiting(let handle, let id) where route.policy == .abort:
            // nginx's choice, as the route asked: a FIN before the answer means gone.
            leave(handle, id)
            writer.abandon(.clientFIN)
        default:
            break
        }
    }

    func cancel(_ reason: ConnectionEndReason) {
        switch state {
        case .passing(let inner): inner.cancel(reason)
        case .waiting(let handle, let id), .streaming(let handle, let id): leave(handle, id)
        case .looking, .done: break
        }
        state = .done
    }

    func writabilityChanged(_ isWritable: Bool) {
        switch state {
        case .passing(let inner): inner.writabilityChanged(isWritable)
        case .streaming(let handle, let id): handle.withFill { $0.readerWritabilityChanged(id, isWritable) }
        default: break
        }
    }

    private func leave(_ handle: FillHandle, _ id: Int) {
        lockTimer?.cancel()
        lockTimer = nil
        state = .done
        handle.withFill { $0.leave(id) }
    }
}
