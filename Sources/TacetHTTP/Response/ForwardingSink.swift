import Logging
import NIOCore
import NIOHTTP1


/// A route's wrapper between its action and the real writer (header rules, compression, error
/// pages, CORS): every call passed on to `base` unchanged; a subclass overrides the calls it
/// changes. One place for the pass-through, so a call added to `ResponseSink` (as `handOver`
/// was) reaches the connection through every wrapper.
open class ForwardingSink: ResponseSink {
    public let base: ResponseWriter

    public init(base: ResponseWriter) {
        self.base = base
    }

    open var eventLoop: any EventLoop { base.eventLoop }
    open var allocator: ByteBufferAllocator { base.allocator }
    open var isWritable: Bool { base.isWritable }
    open var remoteAddressString: String { base.remoteAddress }
    open var observer: any HTTPObserver { base.observer }
    open var logger: Logger { base.logger }
    open func isCurrent(_ id: UInt64) -> Bool { base.isActive }
    open func clientAddress(_ id: UInt64) -> String { base.clientAddress }
    open func writeInterim(_ id: UInt64, status: HTTPResponseStatus, headers: HTTPHeaders) -> Bool {
        base.writeInterim(status, headers: headers)
    }
    open func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        if end {
            base.respond(head, body: body)
        } else {
            base.writeHead(head, flush: flush)
            if let body { base.writeBody(body, flush: flush) }
        }
    }
    open func writeBody(_ id: UInt64, _ buffer: ByteBuffer, flush: Bool) { base.writeBody(buffer, flush: flush) }
    open func flushResponse(_ id: UInt64) { base.flush() }
    open func writeFile(_ id: UInt64, descriptor fd: CInt, offset: Int, count: Int) {
        base.writeFile(descriptor: fd, offset: offset, count: count)
    }
    open func endResponse(_ id: UInt64) { base.end() }
    open func endResponse(_ id: UInt64, trailers: HTTPHeaders) { base.end(trailers: trailers) }
    open func setRoutePausedReads(_ id: UInt64, _ paused: Bool) { base.pauseRequestBody(paused) }
    open func abandon(_ id: UInt64, reason: ConnectionEndReason, logStatus: Int?, logEnd: String?) {
        base.abandon(reason, logStatus: logStatus, logEnd: logEnd)
    }
    open func cancelStream(_ id: UInt64, logStatus: Int?, logEnd: String?) { base.cancelStream(logStatus: logStatus, logEnd: logEnd) }
    open func acceptsInterim(_ id: UInt64) -> Bool { base.acceptsInterimResponses }
    open func setRouteLabel(_ id: UInt64, _ label: String) { base.setRouteLabel(label) }
    open func routeLabel(_ id: UInt64) -> String { base.routeLabel }
    open func setGRPCStatus(_ id: UInt64, _ status: String) { base.setGRPCStatus(status) }
    open func setContentCoding(_ id: UInt64, _ note: CodingNote) { base.setContentCoding(note) }
    open func handOver(_ id: UInt64, to glue: any ChannelHandler) -> TunnelEnd? { base.handOver(to: glue) }
}
