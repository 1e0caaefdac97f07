import Logging
import NIOCore
import NIOHTTP1
import TacetHTTP

#if canImport(Glibc)
import Glibc
#endif

/// Stands between a route and the real writer for one response: decides from the head whether
/// to compress (`CompressionChoice`), edits the head's fields, and compresses the body as it is
/// written, whichever protocol carries it. Bounded: the compressor's window, one read of a file
/// (64 KiB), and up to `emitThreshold` of output not yet handed on.
///
/// A head whose body is compressed waits for the first output: if the whole body arrives before
/// anything had to leave (a fixed response, a small file), the head goes with a Content-Length.
final class CompressingSink: ForwardingSink {
    private enum Mode { case awaitingHead, passing, compressing, refused, finished }
    private enum PendingEnd { case none, plain, trailers(HTTPHeaders) }

    private let coding: ContentCoding?
    private let accept: AcceptEncoding?
    private let hasRange: Bool
    private let isHEAD: Bool
    private let settings: CompressionSettings
    /// Validators the request's If-None-Match named with the negotiated coding's suffix, which
    /// the route saw without it: a 304 for one of them goes back with the suffix.
    private let strippedTags: Set<String>
    /// Where compressors come from (tests put a failing one here).
    private let makeEncoder: (ContentCoding, EncoderParameters) -> (any ContentEncoder)?

    private var mode = Mode.awaitingHead
    private var encoder: (any ContentEncoder)?
    private var deferredHead: ResponseHead?
    private var pending: ByteBuffer
    private var unflushedInput = false
    private var bytesIn = 0
    private var bytesOut = 0
    private var file: (fd: CInt, offset: Int, remaining: Int)?
    private var readBuffer: ByteBuffer?
    private var pumpScheduled = false
    private var pendingEnd = PendingEnd.none
    /// A file's last read was compressed with `.finish`: the body is complete.
    private var encoderFinished = false

    /// Output handed on once this much is waiting, flush or not.
    static let emitThreshold = 32 * 1024
    /// One read(2) of a file being compressed.
    static let fileReadSize = 64 * 1024
    /// Reads of a file per event-loop turn before the others get theirs.
    static let readsPerTurn = 4

    init(base: ResponseWriter, coding: ContentCoding?, accept: AcceptEncoding?, hasRange: Bool, isHEAD: Bool,
         settings: CompressionSettings, strippedTags: Set<String>,
         makeEncoder: @escaping (ContentCoding, EncoderParameters) -> (any ContentEncoder)? = ContentEncoders.make) {
        self.makeEncoder = makeEncoder
        self.coding = coding
        self.accept = accept
        self.hasRange = hasRange
        self.isHEAD = isHEAD
        self.settings = settings
        self.strippedTags = strippedTags
        self.pending = base.allocator.buffer(capacity: 0)
        super.init(base: base)
    }

    /// Whether the response is not done yet: a file still being read and compressed.
    var isBusy: Bool { mode == .compressing && file != nil }

    // MARK: the head

    override func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        guard mode == .awaitingHead else { return }
        var fields = head.fields
        let choice = CompressionChoice.decide(coding: coding, accept: accept, hasRange: hasRange,
                                              response: .init(head, fields: fields), settings: settings)
        switch choice {
        case .untouched:
            mode = .passing
            forward(head, body: body, end: end, flush: flush)
        case .identity:
            mode = .passing
            VariantFields.addVary(&fields)
            if head.status == .notModified, let etag = fields.first(name: "etag"), strippedTags.contains(etag), let coding {
                fields.replaceOrAdd(name: "ETag", value: VariantFields.suffixed(etag: etag, coding))
            }
            forward(Self.replacing(head, fields: fields), body: body, end: end, flush: flush)
        case .notAcceptable:
            mode = .refused
            var headers = HTTPHeaders()
            VariantFields.addVary(&headers)
            ErrorResponse.write(base, status: 406, reason: "not acceptable: the client refuses identity and every encoding offered", headers: headers)
        case .compress(let coding):
            VariantFields.addVary(&fields)
            let identity = Self.replacing(head, fields: fields)
            fields.remove(name: "accept-ranges")
            fields.replaceOrAdd(name: "Content-Encoding", value: coding.token)
            if let etag = fields.first(name: "etag") {
                fields.replaceOrAdd(name: "ETag", value: VariantFields.suffixed(etag: etag, coding))
            }
            var edited = Self.replacing(head, fields: fields)
            edited.body = .stream
            var sizeHint: Int?
            if case .length(let count) = head.body { sizeHint = count } else if end { sizeHint = body?.readableBytes }
            if isHEAD {
                // The fields a GET would get, and no body.
                mode = .passing
                return forward(edited, body: nil, end: end, flush: flush)
            }
            guard let encoder = makeEncoder(coding, EncoderParameters(level: settings.level(coding), sizeHint: sizeHint)) else {
                // A compressor that would not start (out of memory): the body as it is is still a right answer.
                mode = .passing
                base.logger.warning("compression: the \(coding.token) encoder could not start; sent identity")
                return forward(identity, body: body, end: end, flush: flush)
            }
            mode = .compressing
            self.encoder = encoder
            deferredHead = edited
            if let body { compress(body, mode: end ? .finish : .continue) }
            if end {
                finish(trailers: nil, alreadyFinished: body != nil)
            } else if flush, body != nil {
                flushOutput()
            }
        }
    }

    private static func replacing(_ head: ResponseHead, fields: HTTPHeaders) -> ResponseHead {
        var head = head
        head.headers = fields
        head.encodedFields = nil
        return head
    }

    private func forward(_ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        if end {
            base.respond(head, body: body)
        } else {
            base.writeHead(head, flush: flush && body == nil)
            if let body { base.writeBody(body, flush: flush) }
        }
    }

    // MARK: the body

    override func writeBody(_ id: UInt64, _ buffer: ByteBuffer, flush: Bool) {
        switch mode {
        case .passing: base.writeBody(buffer, flush: flush)
        case .compressing:
            guard file == nil, !encoderFinished else { return }
            compress(buffer, mode: flush ? .flush : .continue)
            if flush {
                emit(flush: true)
            } else if pending.readableBytes >= Self.emitThreshold {
                emit(flush: false)
            }
        case .awaitingHead, .refused, .finished: break
        }
    }

    override func flushResponse(_ id: UInt64) {
        switch mode {
        case .passing: base.flush()
        case .compressing: if file == nil, !encoderFinished { flushOutput() }
        case .awaitingHead, .refused, .finished: break
        }
    }

    /// What the route wrote so far goes out, decodable: an upstream that paused, an event.
    private func flushOutput() {
        if unflushedInput { compress(nil, mode: .flush) }
        guard mode == .compressing else { return }
        emit(flush: true)
    }

    override func writeFile(_ id: UInt64, descriptor fd: CInt, offset: Int, count: Int) {
        switch mode {
        case .passing: base.writeFile(descriptor: fd, offset: offset, count: count)
        case .compressing where file == nil && count <= 0:
            close(fd)
        case .compressing where file == nil:
            file = (fd, offset, count)
            pumpFile()
        default: close(fd)
        }
    }

    override func endResponse(_ id: UInt64) { end(trailers: nil) }

    override func endResponse(_ id: UInt64, trailers: HTTPHeaders) { end(trailers: trailers) }

    private func end(trailers: HTTPHeaders?) {
        switch mode {
        case .passing:
            if let trailers { base.end(trailers: trailers) } else { base.end() }
        case .compressing:
            if file != nil {
                pendingEnd = trailers.map { .trailers($0) } ?? .plain
            } else {
                finish(trailers: trailers, alreadyFinished: encoderFinished)
            }
        case .awaitingHead:
            // No head: let the connection say what it says for a route that wrote none.
            mode = .finished
            base.end()
        case .refused, .finished: break
        }
    }

    // MARK: compressing

    private func compress(_ input: ByteBuffer?, mode encodeMode: EncodeMode) {
        guard let encoder else { return }
        let before = pending.readableBytes
        do throws(CompressionError) {
            if let input {
                bytesIn += input.readableBytes
                try encoder.encode(input, mode: encodeMode, into: &pending)
                unflushedInput = encodeMode == .continue && (unflushedInput || input.readableBytes > 0)
            } else {
                try encoder.encode(UnsafeRawBufferPointer(start: nil, count: 0), mode: encodeMode, into: &pending)
                unflushedInput = false
            }
            bytesOut += pending.readableBytes - before
        } catch {
            fail(error)
        }
    }

    /// Hands on the output so far (with the head, the first time).
    private func emit(flush: Bool) {
        if let head = deferredHead {
            deferredHead = nil
            base.writeHead(head, flush: false)
        }
        if pending.readableBytes > 0 {
            base.writeBody(pending, flush: flush)
            pending = base.allocator.buffer(capacity: 0)
        } else if flush {
            base.flush()
        }
    }

    private func finish(trailers: HTTPHeaders?, alreadyFinished: Bool) {
        if !alreadyFinished { compress(nil, mode: .finish) }
        guard mode == .compressing, let encoder else { return }
        mode = .finished
        base.setContentCoding(CodingNote(coding: encoder.coding.token, uncompressedBytes: bytesIn, compressedBytes: bytesOut))
        base.observer.compressed(route: base.routeLabel, coding: encoder.coding.token, bytesIn: bytesIn, bytesOut: bytesOut)
        self.encoder = nil
        if var head = deferredHead, trailers == nil {
            // The whole body is known: it goes with its length, in one write.
            deferredHead = nil
            head.body = .length(pending.readableBytes)
            base.respond(head, body: pending)
            return
        }
        emit(flush: false)
        if let trailers { base.end(trailers: trailers) } else { base.end() }
    }

    /// A compressor failed: the response is cut short as a truncated one is (HTTP/1.1: no last
    /// chunk and a close; HTTP/2: RST_STREAM), or refused with a 500 if nothing went out yet.
    private func fail(_ error: CompressionError) {
        releaseFile()
        encoder = nil
        mode = .finished
        base.logger.error("compression failed: \(error.description)")
        base.observer.compressionFailed(route: base.routeLabel)
        if deferredHead != nil {
            deferredHead = nil
            ErrorResponse.write(base, status: 500, reason: "compression failed")
        } else {
            base.abandon(.serverClose, logStatus: nil, logEnd: "compression_error")
        }
    }

    // MARK: files

    /// Reads and compresses the file while the client takes bytes, a few reads per turn.
    private func pumpFile() {
        var reads = 0
        while mode == .compressing, let current = file {
            guard base.isActive else { return cancelled() }
            guard base.isWritable else { return }  // writabilityChanged resumes
            if reads == Self.readsPerTurn {
                scheduleNextPump()
                return
            }
            reads += 1
            var buffer = readBuffer ?? base.allocator.buffer(capacity: min(current.remaining, Self.fileReadSize))
            buffer.clear()
            let want = min(current.remaining, Self.fileReadSize)
            let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { room in
                max(0, pread(current.fd, room.baseAddress, want, off_t(current.offset)))
            }
            readBuffer = buffer
            guard got > 0 else {
                fail(CompressionError("the file ended before its length (\(current.remaining) bytes short)"))
                return
            }
            let remaining = current.remaining - got
            file = remaining > 0 ? (current.fd, current.offset + got, remaining) : nil
            if remaining == 0 { close(current.fd) }
            // A file is the body's last part (a route writes nothing after it).
            compress(buffer, mode: remaining == 0 ? .finish : .continue)
            if remaining == 0 { encoderFinished = true }
            if mode == .compressing, pending.readableBytes >= Self.emitThreshold, file != nil { emit(flush: true) }
        }
        guard mode == .compressing, file == nil else { return }
        switch pendingEnd {
        case .none: break
        case .plain: finish(trailers: nil, alreadyFinished: encoderFinished)
        case .trailers(let trailers): finish(trailers: trailers, alreadyFinished: encoderFinished)
        }
    }

    private func scheduleNextPump() {
        guard !pumpScheduled else { return }
        pumpScheduled = true
        base.eventLoop.assumeIsolated().execute { [self] in
            pumpScheduled = false
            pumpFile()
        }
    }

    private func releaseFile() {
        if let file { close(file.fd) }
        file = nil
    }

    private func cancelled() {
        releaseFile()
        encoder = nil
        mode = .finished
    }

    // MARK: from the connection (through `CompressionHandler`)

    func writabilityChanged(_ writable: Bool) {
        if writable, file != nil { pumpFile() }
    }

    func cancel() { cancelled() }

    // MARK: passed through, but for the mode

    override func isCurrent(_ id: UInt64) -> Bool { base.isActive && mode != .refused }
    override func abandon(_ id: UInt64, reason: ConnectionEndReason, logStatus: Int?, logEnd: String?) {
        cancelled()
        super.abandon(id, reason: reason, logStatus: logStatus, logEnd: logEnd)
    }
    override func cancelStream(_ id: UInt64, logStatus: Int?, logEnd: String?) {
        cancelled()
        super.cancelStream(id, logStatus: logStatus, logEnd: logEnd)
    }
    override func handOver(_ id: UInt64, to glue: any ChannelHandler) -> TunnelEnd? {
        guard mode == .passing else { return nil }
        mode = .finished
        return base.handOver(to: glue)
    }
}
