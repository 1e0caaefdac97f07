import Logging
import NIOCore
import NIOHTTP1
import TacetHTTP
import TacetTunnel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an authentication subrequest's answer goes instead of a client: the proxy's exchange
/// writes into it as into any response, and it keeps the status, the fields and (bounded) the
/// body, then calls `done` once, on the event loop. A reset or cut-short answer is `.failed`.
final class SubrequestSink: ResponseSink {
    enum Outcome {
        /// `ownRefusal`: the proxy's own 502 or 504 (the service could not be reached, or was too slow).
        case answered(status: Int, fields: HTTPHeaders, body: ByteBuffer, ownRefusal: Bool)
        case failed
    }

    static let maxBody = 64 * 1024

    let eventLoop: any EventLoop
    let allocator: ByteBufferAllocator
    let logger: Logger
    private let client: String
    private var head: ResponseHead?
    private var body: ByteBuffer
    private var done: ((Outcome) -> Void)?

    init(eventLoop: any EventLoop, allocator: ByteBufferAllocator, logger: Logger, clientAddress: String,
         done: @escaping (Outcome) -> Void) {
        self.eventLoop = eventLoop
        self.allocator = allocator
        self.logger = logger
        self.client = clientAddress
        self.body = allocator.buffer(capacity: 0)
        self.done = done
    }

    private func finish(_ outcome: Outcome) {
        guard let done else { return }
        self.done = nil
        done(outcome)
    }

    private func finishAnswered() {
        guard let head else { return finish(.failed) }
        finish(.answered(status: Int(head.status.code), fields: head.fields, body: body, ownRefusal: head.isRefusal))
    }

    var isWritable: Bool { true }
    var remoteAddressString: String { client }
    var observer: any HTTPObserver { NoObserver() }
    func isCurrent(_ id: UInt64) -> Bool { done != nil }
    func clientAddress(_ id: UInt64) -> String { client }
    func writeInterim(_ id: UInt64, status: HTTPResponseStatus, headers: HTTPHeaders) -> Bool { false }
    func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        self.head = head
        if let body { writeBody(id, body, flush: flush) }
        if end { finishAnswered() }
    }
    func writeBody(_ id: UInt64, _ buffer: ByteBuffer, flush: Bool) {
        var buffer = buffer
        let room = Self.maxBody - body.readableBytes
        if room > 0, let slice = buffer.readSlice(length: min(room, buffer.readableBytes)) { body.writeImmutableBuffer(slice) }
    }
    func flushResponse(_ id: UInt64) {}
    func writeFile(_ id: UInt64, descriptor fd: CInt, offset: Int, count: Int) { close(fd) }
    func endResponse(_ id: UInt64) { finishAnswered() }
    func endResponse(_ id: UInt64, trailers: HTTPHeaders) { finishAnswered() }
    func setRoutePausedReads(_ id: UInt64, _ paused: Bool) {}
    func abandon(_ id: UInt64, reason: ConnectionEndReason, logStatus: Int?, logEnd: String?) { finish(.failed) }
    func cancelStream(_ id: UInt64, logStatus: Int?, logEnd: String?) { finish(.failed) }
    func acceptsInterim(_ id: UInt64) -> Bool { false }
    func setRouteLabel(_ id: UInt64, _ label: String) {}
    func routeLabel(_ id: UInt64) -> String { "auth" }
    func setGRPCStatus(_ id: UInt64, _ status: String) {}
    func setContentCoding(_ id: UInt64, _ note: CodingNote) {}
}
