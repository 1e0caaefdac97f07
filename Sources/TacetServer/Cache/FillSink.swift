import Logging
import NIOCore
import NIOHTTP1
import TacetHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a fill's upstream exchange writes: not a client but the fill, which holds the bytes
/// for the store and passes them to its readers. It takes the address, logger and observer of
/// the request that started the fill (X-Forwarded-For, the upstream's metrics), and never
/// pushes back while the fill is stored (the store takes it at the upstream's pace, bounded by
/// `max_object`); a fill passed on to one reader follows that reader's pace.
final class FillSink: ResponseSink {
    private weak var fill: CacheFill?
    let eventLoop: any EventLoop
    let allocator: ByteBufferAllocator
    let remoteAddressString: String
    let client: String
    let observer: any HTTPObserver
    let logger: Logger
    let label: String
    private var writable = true
    private var done = false

    init(fill: CacheFill, like writer: ResponseWriter) {
        self.fill = fill
        self.eventLoop = writer.eventLoop
        self.allocator = writer.allocator
        self.remoteAddressString = writer.remoteAddress
        self.client = writer.clientAddress
        self.observer = writer.observer
        self.logger = writer.logger
        self.label = writer.routeLabel
    }

    var isWritable: Bool { writable }
    func setWritable(_ value: Bool) { writable = value }

    func isCurrent(_ id: UInt64) -> Bool { !done && fill != nil }
    func clientAddress(_ id: UInt64) -> String { client }
    func writeInterim(_ id: UInt64, status: HTTPResponseStatus, headers: HTTPHeaders) -> Bool { false }

    func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        guard !done, let fill else { return }
        fill.upstreamHead(head)
        if let body { fill.upstreamBody(body) }
        if end { endResponse(id) }
    }

    func writeBody(_ id: UInt64, _ buffer: ByteBuffer, flush: Bool) {
        guard !done, let fill else { return }
        fill.upstreamBody(buffer)
        if flush { fill.upstreamFlush() }
    }

    func flushResponse(_ id: UInt64) {
        guard !done else { return }
        fill?.upstreamFlush()
    }

    func writeFile(_ id: UInt64, descriptor fd: CInt, offset: Int, count: Int) {
        close(fd)  // a proxy writes no files
    }

    func endResponse(_ id: UInt64) {
        guard !done else { return }
        done = true
        fill?.upstreamFlush()
        fill?.upstreamEnd()
    }

    /// Trailers are not stored: the stored response ends without them.
    func endResponse(_ id: UInt64, trailers: HTTPHeaders) { endResponse(id) }

    func setRoutePausedReads(_ id: UInt64, _ paused: Bool) {}

    func abandon(_ id: UInt64, reason: ConnectionEndReason, logStatus: Int?, logEnd: String?) {
        guard !done else { return }
        done = true
        fill?.upstreamFailed(logStatus: logStatus ?? 502, why: logEnd ?? "upstream_closed")
    }

    func cancelStream(_ id: UInt64, logStatus: Int?, logEnd: String?) {
        abandon(id, reason: .serverClose, logStatus: logStatus, logEnd: logEnd)
    }

    func acceptsInterim(_ id: UInt64) -> Bool { false }
    func setRouteLabel(_ id: UInt64, _ label: String) {}
    func routeLabel(_ id: UInt64) -> String { label }
    func setGRPCStatus(_ id: UInt64, _ status: String) {}
    func setContentCoding(_ id: UInt64, _ note: CodingNote) {}
}
