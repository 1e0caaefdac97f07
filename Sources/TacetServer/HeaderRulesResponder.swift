import Logging
import NIOCore
import NIOHTTP1
import TacetConfig
import TacetHTTP

/// A route's header rules around its action: the request's fields set and removed before the
/// action sees it (so an upstream gets them), the response's on the head the action writes.
/// Order on a route: allow/deny, redirect, compression, these rules, `strip_prefix`, the action.
struct HeaderRulesResponder: Responder {
    let rules: HeaderRules
    let next: any Responder

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        var edited = request
        if !rules.request.isEmpty {
            for name in rules.request.remove { edited.headers.remove(name: name) }
            for field in rules.request.set {
                edited.headers.replaceOrAdd(name: field.name, value: field.value.expand(for: request, clientAddress: writer.clientAddress))
            }
        }
        guard !rules.response.isEmpty else { return next.respond(to: edited, writer: writer) }
        let values = rules.response.set.map { ($0.name, $0.value.expand(for: request, clientAddress: writer.clientAddress)) }
        let sink = HeaderEditingSink(base: writer, set: values, remove: rules.response.remove)
        return next.respond(to: edited, writer: ResponseWriter(sink: sink, id: 1))
    }
}

/// Passes a route's response through to the real writer, the head's fields edited on the way.
final class HeaderEditingSink: ResponseSink {
    let base: ResponseWriter
    let set: [(String, String)]
    let remove: [String]

    init(base: ResponseWriter, set: [(String, String)], remove: [String]) {
        self.base = base
        self.set = set
        self.remove = remove
    }

    /// The head with its fields edited; fields that came as bytes (a proxied response) are read
    /// back first, and the bytes dropped, so the edited fields are the ones sent.
    func edited(_ head: ResponseHead) -> ResponseHead {
        var head = head
        var headers = head.fields
        for name in remove { headers.remove(name: name) }
        for (name, value) in set { headers.replaceOrAdd(name: name, value: value) }
        head.headers = headers
        head.encodedFields = nil
        return head
    }

    var eventLoop: any EventLoop { base.eventLoop }
    var allocator: ByteBufferAllocator { base.allocator }
    var isWritable: Bool { base.isWritable }
    var remoteAddressString: String { base.remoteAddress }
    var observer: any HTTPObserver { base.observer }
    var logger: Logger { base.logger }
    func isCurrent(_ id: UInt64) -> Bool { base.isActive }
    func clientAddress(_ id: UInt64) -> String { base.clientAddress }
    func writeInterim(_ id: UInt64, status: HTTPResponseStatus, headers: HTTPHeaders) -> Bool {
        base.writeInterim(status, headers: headers)
    }
    func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        if end {
            base.respond(edited(head), body: body)
        } else {
            base.writeHead(edited(head), flush: flush)
            if let body { base.writeBody(body, flush: flush) }
        }
    }
    func writeBody(_ id: UInt64, _ buffer: ByteBuffer, flush: Bool) { base.writeBody(buffer, flush: flush) }
    func flushResponse(_ id: UInt64) { base.flush() }
    func writeFile(_ id: UInt64, descriptor fd: CInt, offset: Int, count: Int) { base.writeFile(descriptor: fd, offset: offset, count: count) }
    func endResponse(_ id: UInt64) { base.end() }
    func endResponse(_ id: UInt64, trailers: HTTPHeaders) { base.end(trailers: trailers) }
    func setRoutePausedReads(_ id: UInt64, _ paused: Bool) { base.pauseRequestBody(paused) }
    func abandon(_ id: UInt64, reason: ConnectionEndReason, logStatus: Int?, logEnd: String?) {
        base.abandon(reason, logStatus: logStatus, logEnd: logEnd)
    }
    func cancelStream(_ id: UInt64, logStatus: Int?, logEnd: String?) { base.cancelStream(logStatus: logStatus, logEnd: logEnd) }
    func acceptsInterim(_ id: UInt64) -> Bool { base.acceptsInterimResponses }
    func setRouteLabel(_ id: UInt64, _ label: String) { base.setRouteLabel(label) }
    func routeLabel(_ id: UInt64) -> String { base.routeLabel }
    func setGRPCStatus(_ id: UInt64, _ status: String) { base.setGRPCStatus(status) }
    func setContentCoding(_ id: UInt64, _ note: CodingNote) { base.setContentCoding(note) }
    func handOver(_ id: UInt64, to glue: any ChannelHandler) -> TunnelEnd? { base.handOver(to: glue) }
}
