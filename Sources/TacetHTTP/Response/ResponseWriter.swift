import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// How a route writes its response. Valid for one request: after the request ends or is
/// cancelled, writes are ignored. Use on the connection's event loop only. The route does not
/// know which protocol carries it: an HTTP/1.1 connection or an HTTP/2 stream.
public struct ResponseWriter {
    enum Sink {
        case http1(HTTPConnectionHandler)
        case other(any ResponseSink)
    }
    let sink: Sink
    let exchangeID: UInt64

    init(connection: HTTPConnectionHandler, exchangeID: UInt64) {
        self.sink = .http1(connection)
        self.exchangeID = exchangeID
    }

    /// A writer for exchange `id` of another protocol's `sink`.
    public init(sink: any ResponseSink, id: UInt64) {
        self.sink = .other(sink)
        self.exchangeID = id
    }

    public var eventLoop: any EventLoop { switch sink { case .http1(let c): c.eventLoop; case .other(let s): s.eventLoop } }
    public var allocator: ByteBufferAllocator { switch sink { case .http1(let c): c.allocator; case .other(let s): s.allocator } }
    /// False while the client is not taking bytes fast enough: pause producing until told.
    public var isWritable: Bool { switch sink { case .http1(let c): c.isWritable; case .other(let s): s.isWritable } }
    /// The peer's IP address (a load balancer's PROXY header's client, if one sent it): what a
    /// proxy appends to X-Forwarded-For.
    public var remoteAddress: String { switch sink { case .http1(let c): c.remoteAddressString; case .other(let s): s.remoteAddressString } }
    /// The client as far as Tacet can tell: X-Forwarded-For's, when a trusted proxy sent the
    /// request, else `remoteAddress`. For access control, redirects and logs.
    public var clientAddress: String { switch sink { case .http1(let c): c.clientAddress(exchangeID); case .other(let s): s.clientAddress(exchangeID) } }
    /// False once the request was cancelled or has been answered.
    public var isActive: Bool { switch sink { case .http1(let c): c.isCurrent(exchangeID); case .other(let s): s.isCurrent(exchangeID) } }

    /// A 1xx interim response. Ignored for HTTP/1.0 requests and after the final head.
    /// Returns false when it was not sent.
    @discardableResult
    public func writeInterim(_ status: HTTPResponseStatus, headers: HTTPHeaders = [:]) -> Bool {
        switch sink { case .http1(let c): c.writeInterim(exchangeID, status: status, headers: headers); case .other(let s): s.writeInterim(exchangeID, status: status, headers: headers) }
    }

    /// `flush: false` when the body follows at once (a file): head and body leave together.
    public func writeHead(_ head: ResponseHead, flush: Bool = true) {
        switch sink { case .http1(let c): c.writeHead(exchangeID, head, body: nil, end: false, flush: flush); case .other(let s): s.writeHead(exchangeID, head, body: nil, end: false, flush: flush) }
    }

    /// `flush: false` to gather several writes into one (then call `flush()` or `end()`).
    public func writeBody(_ buffer: ByteBuffer, flush: Bool = true) {
        switch sink { case .http1(let c): c.writeBody(exchangeID, buffer, flush: flush); case .other(let s): s.writeBody(exchangeID, buffer, flush: flush) }
    }

    /// Sends whatever was written without a flush.
    public func flush() {
        switch sink { case .http1(let c): c.flushResponse(exchangeID); case .other(let s): s.flushResponse(exchangeID) }
    }

    /// Sends `count` bytes of the open file `fd` from `offset`, and closes it (ownership passes
    /// here, whatever happens). Small files leave with the head in one write (call `end()`);
    /// larger ones by sendfile.
    public func writeFile(descriptor fd: CInt, offset: Int, count: Int) {
        switch sink { case .http1(let c): c.writeFile(exchangeID, descriptor: fd, offset: offset, count: count); case .other(let s): s.writeFile(exchangeID, descriptor: fd, offset: offset, count: count) }
    }

    public func end() {
        switch sink { case .http1(let c): c.endResponse(exchangeID); case .other(let s): s.endResponse(exchangeID) }
    }

    /// The end, with trailer fields (an upstream's `grpc-status`): over HTTP/2 a last HEADERS
    /// frame, over HTTP/1.1 in the last chunk (dropped when the body has a Content-Length).
    public func end(trailers: HTTPHeaders) {
        guard !trailers.isEmpty else { return end() }
        switch sink {
        case .http1(let c): c.endResponse(exchangeID, trailers: trailers)
        case .other(let s): s.endResponse(exchangeID, trailers: trailers)
        }
    }

    /// Stop reading the request body (the route's destination is not writable) or start again.
    public func pauseRequestBody(_ paused: Bool) {
        switch sink { case .http1(let c): c.setRoutePausedReads(exchangeID, paused); case .other(let s): s.setRoutePausedReads(exchangeID, paused) }
    }

    /// Gives up on this request and ends the connection: with no response if none started (a FIN
    /// policy decided the client is gone), or cut short so the client sees the truncation.
    /// The access log records `logStatus` (default 499 if nothing was sent) and `logEnd`.
    public func abandon(_ reason: ConnectionEndReason, logStatus: Int? = nil, logEnd: String? = nil) {
        switch sink { case .http1(let c): c.abandon(exchangeID, reason: reason, logStatus: logStatus, logEnd: logEnd); case .other(let s): s.abandon(exchangeID, reason: reason, logStatus: logStatus, logEnd: logEnd) }
    }

    /// The upstream reset the stream this response came from: cut the client off as `abandon`
    /// does, over HTTP/2 with RST_STREAM CANCEL (the upstream's reset passed on).
    public func cancelStream(logStatus: Int?, logEnd: String?) {
        switch sink {
        case .http1(let c): c.abandon(exchangeID, reason: .serverClose, logStatus: logStatus, logEnd: logEnd)
        case .other(let s): s.cancelStream(exchangeID, logStatus: logStatus, logEnd: logEnd)
        }
    }

    /// Whether the client may receive interim (1xx) responses, and none has been refused yet.
    public var acceptsInterimResponses: Bool { switch sink { case .http1(let c): c.acceptsInterim(exchangeID); case .other(let s): s.acceptsInterim(exchangeID) } }

    /// After writing a `101 Switching Protocols` head: the connection stops speaking HTTP.
    /// `glue` takes the HTTP handler's place in the pipeline, with the bytes the client sent after
    /// its request (and its FIN, if it came) passed on to it. Returns how to report the tunnel's
    /// end, or nil (nothing changed) if there is no 101 or the connection is gone, or over
    /// HTTP/2 (no 101 there: RFC 9113 §8.6). Through a route's wrappers (header rules,
    /// compression) it reaches the connection underneath.
    public func handOver(to glue: any ChannelHandler) -> TunnelEnd? {
        switch sink { case .http1(let c): c.handOver(exchangeID, to: glue); case .other(let s): s.handOver(exchangeID, to: glue) }
    }

    /// Names the route answering this request, for metrics.
    public func setRouteLabel(_ label: String) {
        switch sink { case .http1(let c): c.setRouteLabel(exchangeID, label); case .other(let s): s.setRouteLabel(exchangeID, label) }
    }

    /// A gRPC answer's `grpc-status`: the access line and the gRPC metric carry it.
    public func setGRPCStatus(_ status: String) {
        switch sink { case .http1(let c): c.setGRPCStatus(exchangeID, status); case .other(let s): s.setGRPCStatus(exchangeID, status) }
    }

    /// The body was compressed: the access line shows the coding and the ratio.
    public func setContentCoding(_ note: CodingNote) {
        switch sink { case .http1(let c): c.setContentCoding(exchangeID, note); case .other(let s): s.setContentCoding(exchangeID, note) }
    }

    /// The route label set by the router, for a route's own metrics.
    public var routeLabel: String { switch sink { case .http1(let c): c.routeLabel(exchangeID); case .other(let s): s.routeLabel(exchangeID) } }

    /// Where a route reports what only it knows (probes sent, probes answered by an RST).
    public var observer: any HTTPObserver { switch sink { case .http1(let c): c.observer; case .other(let s): s.observer } }

    /// The connection's error log.
    public var logger: Logger { switch sink { case .http1(let c): c.logger; case .other(let s): s.logger } }

    /// Head, whole body and end in one write.
    public func respond(_ head: ResponseHead, body: ByteBuffer?) {
        switch sink { case .http1(let c): c.writeHead(exchangeID, head, body: body, end: true); case .other(let s): s.writeHead(exchangeID, head, body: body, end: true, flush: true) }
    }
}
