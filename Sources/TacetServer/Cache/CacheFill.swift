import NIOCore
import NIOHTTP1
import TacetCache
import TacetHTTP

/// How a zone finds a fill from any event loop: the fill lives on `eventLoop`, and is reached there.
final class FillHandle: FillReference {
    let eventLoop: any EventLoop
    let fill: NIOLoopBound<CacheFill>

    init(_ fill: CacheFill) {
        self.eventLoop = fill.eventLoop
        self.fill = NIOLoopBound(fill, eventLoop: fill.eventLoop)
    }

    /// Runs `body` with the fill on its loop (at once when already there).
    func withFill(_ body: @escaping @Sendable (CacheFill) -> Void) {
        if eventLoop.inEventLoop { return body(fill.value) }
        let fill = self.fill
        eventLoop.execute { body(fill.value) }
    }
}

/// What a fill tells one reader, on the reader's loop.
enum FillEvent: Sendable {
    /// The head (the fill's response, with this reader's Cache-Status to add), then the bytes so far.
    case start(ResponseHead, replay: [ByteBuffer], stored: Bool)
    case body(ByteBuffer)
    case flush
    case end
    case truncate(logStatus: Int, why: String)
    /// Look again without waiting: the entry was refreshed (`revalidated`), may answer stale
    /// (`staleIfError`), or this reader goes upstream on its own.
    case release(FillRelease)
}

enum FillRelease: Sendable, Equatable {
    case lookAgain
    case revalidated
    case staleIfError
    case goUpstream(detail: String)
}

/// One reader as a fill knows it: where to reach it, and what its request asked for (its Vary variant).
struct ReaderLink: Sendable {
    let eventLoop: any EventLoop
    let reader: NIOLoopBound<CacheReader>
    let headers: HTTPHeaders

    /// A release always comes on a later turn of the reader's loop: the reader then looks in
    /// the zone again, which must not happen inside the fill's own step.
    func send(_ event: FillEvent) {
        var later = !eventLoop.inEventLoop
        if case .release = event { later = true }
        if !later { return reader.value.fillSent(event) }
        let reader = self.reader
        eventLoop.execute { reader.value.fillSent(event) }
    }
}

/// One upstream fetch for a key, on the loop of the request that started it (`FillMachine`
/// decides; this carries it out). The upstream exchange writes into `FillSink`; the bytes are
/// held for the store and for readers that join late, and passed to every reader as they come.
final class CacheFill {
    let eventLoop: any EventLoop
    let route: CacheResponder
    let primary: String
    let fillKey: String
    /// The request that started it, as the store's variant is computed from it.
    let firstHeaders: HTTPHeaders
    /// The entry being revalidated or refreshed, if any.
    let stale: CacheZone.Entry?
    var machine: FillMachine
    var readers: [Int: ReaderLink] = [:]
    var sink: FillSink?
    var head: ResponseHead?
    var held: [ByteBuffer] = []
    var exchange: (any RequestHandler)?
    let requestTime = CacheZone.now()
    /// What the zone holds (and readers hold): weak here, so a finished fill is freed.
    weak var handle: FillHandle?
    /// What the store gets at the end, decided at the head.
    var pending: (header: EntryHeader, vary: [String])?

    /// `first` nil: a background refresh nobody waits for.
    init(route: CacheResponder, eventLoop: any EventLoop, primary: String, fillKey: String, firstHeaders: HTTPHeaders,
         stale: CacheZone.Entry?, first: (id: Int, link: ReaderLink)?) {
        self.route = route
        self.eventLoop = eventLoop
        self.primary = primary
        self.fillKey = fillKey
        self.firstHeaders = firstHeaders
        self.stale = stale
        self.machine = FillMachine(first: first?.id, maxObjectSize: route.zone.settings.maxObject)
        if let first { readers[first.id] = first.link }
        firstID = first?.id
    }

    let firstID: Int?

    /// Sends the upstream request: the client's, as a GET, without its own conditionals and
    /// ranges (the cache answers those), with the stored entry's validators when revalidating.
    func start(request: Request, writer: ResponseWriter) {
        var upstream = request
        upstream.method = .GET
        for name in ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range"] {
            upstream.headers.remove(name: name)
        }
        if let stale {
            let facts = ResponseFacts(stale.header)
            if let etag = facts.etag { upstream.headers.add(name: "If-None-Match", value: etag) }
            if let modified = stale.header.fields.first(where: { $0.name.lowercased() == "last-modified" })?.value {
                upstream.headers.add(name: "If-Modified-Since", value: modified)
            }
        }
        let sink = FillSink(fill: self, like: writer)
        self.sink = sink
        exchange = route.fillProxy.respond(to: upstream, writer: ResponseWriter(sink: sink, id: 1))
    }

    // MARK: readers

    func join(_ link: ReaderLink, id: Int) {
        readers[id] = link
        perform(machine.join(id))
    }

    func leave(_ id: Int) {
        perform(machine.leave(id))
        readers[id] = nil
    }

    func lockTimedOut(_ id: Int) {
        perform(machine.lockTimedOut(id), release: .goUpstream(detail: "lock-timeout"))
    }

    func readerWritabilityChanged(_ id: Int, _ writable: Bool) {
        // Only a fill passed on to its one reader, not stored, follows that reader's pace.
        guard case .streaming(storing: false) = machine.state, machine.reading == [id] else { return }
        sink?.setWritable(writable)
        exchange?.writabilityChanged(writable)
    }

    // MARK: the upstream side (FillSink)

    func upstreamHead(_ head: ResponseHead) {
        let status = Int(head.status.code)
        var fields = head.fields
        // The origin's Date is stored with the rest: a hit sends it, and ages count from it.
        if let date = head.date { fields.add(name: "Date", value: date) }
        // A 5xx the origin gave a lifetime is stored like any response (nginx does; RFC 9111 §3).
        let decision = head.isRefusal ? nil : StoreDecision.decide(status: status, fields: fields, first: firstHeaders, primary: primary,
                                                                   requestTime: requestTime, defaultTTL: route.defaultTTL)
        if head.isRefusal || status >= 500,
           let stale, Reuse.mayServeOnError(ResponseFacts.stored(stale.header, now: CacheZone.now()), overrides: route.overrides) {
            finish(machine.revalidated(), release: .staleIfError)
            exchange?.cancel(.serverClose)
            return
        }
        if head.isRefusal || (status >= 500 && decision == nil) {
            // The origin failing (or Tacet's own 502/504): every waiter gets this one answer,
            // nothing is stored or remembered, and the origin is not asked once per waiter.
            self.head = head
            unregister()
            return perform(machine.error())
        }
        if status == 304, let stale {
            route.zone.refresh(stale, header: Self.merged(stale.header, with: fields, requestTime: requestTime, defaultTTL: route.defaultTTL))
            finish(machine.revalidated(), release: .revalidated)
            return
        }
        self.head = head
        if let decision {
            pending = (decision.header, decision.vary)
            // Readers whose request this response's Vary does not match are not served from it.
            let mismatched = readers.filter { id, link in
                id != firstID && Variant.key(fields: decision.vary, request: { link.headers[$0] }) != decision.header.variant
            }.map(\.key)
            perform(machine.mismatched(mismatched), release: .goUpstream(detail: "vary"))
        }
        let length: Int? = if case .length(let n) = head.body { n } else { nil }
        let actions = machine.head(storable: decision != nil, knownLength: length)
        if machine.state != .streaming(storing: true) {
            // Not stored: out of the zone before anyone is released, so nobody joins it again;
            // a response found not storable is remembered first (hit-for-miss).
            unregister()
            if decision == nil { route.zone.markHitForMiss(primary, now: CacheZone.now()) }
        }
        perform(actions)
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        if case .streaming(storing: true) = machine.state { held.append(buffer) }
        lastBody = buffer
        perform(machine.body(buffer.readableBytes))
        lastBody = nil
    }

    func upstreamFlush() {
        for id in machine.reading { readers[id]?.send(.flush) }
    }

    func upstreamEnd() {
        perform(machine.end())
    }

    func upstreamFailed(logStatus: Int, why: String) {
        truncation = (logStatus, why)
        perform(machine.failed())
    }

    private var lastBody: ByteBuffer?
    private var truncation: (Int, String) = (502, "upstream_closed")

    // MARK: actions

    private func finish(_ actions: [FillMachine.Action], release: FillRelease) {
        unregister()
        perform(actions, release: release)
    }

    func perform(_ actions: [FillMachine.Action], release: FillRelease = .lookAgain) {
        for action in actions {
            switch action {
            case .start(let ids, let replay):
                guard let head else { continue }
                let stored = pending != nil && machine.state == .streaming(storing: true)
                for id in ids { readers[id]?.send(.start(head, replay: replay > 0 ? held : [], stored: stored)) }
            case .body(let ids):
                guard let lastBody else { continue }
                for id in ids { readers[id]?.send(.body(lastBody)) }
            case .end(let ids):
                for id in ids { readers[id]?.send(.end) }
            case .truncate(let ids):
                for id in ids { readers[id]?.send(.truncate(logStatus: truncation.0, why: truncation.1)) }
            case .release(let ids):
                for id in ids { readers.removeValue(forKey: id)?.send(.release(release)) }
            case .store:
                if let pending {
                    let body = Self.joined(held)
                    var header = pending.header
                    header.bodyLength = body.readableBytes
                    header.responseTime = max(header.responseTime, requestTime)
                    route.zone.store(header: header, body: body, vary: pending.vary)
                }
                held = []
            case .discard:
                held = []
                pending = nil
            case .markHitForMiss:
                break  // marked in upstreamHead, before any reader is released
            case .cancelUpstream:
                exchange?.cancel(.clientRST)
                exchange = nil
            }
        }
        switch machine.state {
        case .complete, .failed, .cancelled:
            unregister()
            readers = [:]
        case .awaitingHead, .streaming:
            break
        }
    }

    private func unregister() {
        if let handle { route.zone.unregister(handle, key: fillKey) }
    }

    static func joined(_ parts: [ByteBuffer]) -> ByteBuffer {
        if parts.count == 1, let only = parts.first { return only }
        var body = ByteBufferAllocator().buffer(capacity: parts.reduce(0) { $0 + $1.readableBytes })
        for var part in parts { body.writeBuffer(&part) }
        return body
    }

    /// A 304's fields over the stored ones (RFC 9111 §4.3.4), with the times and lifetime anew.
    static func merged(_ stored: EntryHeader, with fields: HTTPHeaders, requestTime: Int, defaultTTL: Int?) -> EntryHeader {
        var merged = HTTPHeaders()
        let updated = Set(fields.map { $0.name.lowercased() }).subtracting(["content-length", "content-encoding", "content-type", "content-range"])
        for field in stored.fields where !updated.contains(field.name.lowercased()) { merged.add(name: field.name, value: field.value) }
        for field in fields where updated.contains(field.name.lowercased()) { merged.add(name: field.name, value: field.value) }
        var header = stored
        header.fields = merged.map { ($0.name, $0.value) }
        header.requestTime = requestTime
        header.responseTime = CacheZone.now()
        let facts = ResponseFacts(status: stored.status, fields: merged)
        let cc = facts.cacheControl ?? CacheControl()
        let response = facts.freshness(cacheControl: cc)
        header.lifetime = Freshness.lifetime(response, responseTime: header.responseTime, defaultTTL: defaultTTL) ?? 0
        header.initialAge = Freshness.currentAge(response, requestTime: requestTime, responseTime: header.responseTime, now: header.responseTime)
        return header
    }
}
