import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// How a route writes its response. Valid for one request: after the request ends or is
/// cancelled, writes are ignored. Use on the connection's event loop only.
public struct ResponseWriter {
    let connection: HTTPConnectionHandler
    let exchangeID: UInt64

    public var eventLoop: any EventLoop { connection.eventLoop }
    public var allocator: ByteBufferAllocator { connection.allocator }
    /// False while the client is not taking bytes fast enough: pause producing until told.
    public var isWritable: Bool { connection.isWritable }
    /// The peer's IP address (a load balancer's PROXY header's client, if one sent it): what a
    /// proxy appends to X-Forwarded-For.
    public var remoteAddress: String { connection.remoteAddressString }
    /// The client as far as Tacet can tell: X-Forwarded-For's, when a trusted proxy sent the
    /// request, else `remoteAddress`. For access control, redirects and logs.
    public var clientAddress: String { connection.clientAddress(exchangeID) }
    /// False once the request was cancelled or has been answered.
    public var isActive: Bool { connection.isCurrent(exchangeID) }

    /// A 1xx interim response. Ignored for HTTP/1.0 requests and after the final head.
    /// Returns false when it was not sent.
    @discardableResult
    public func writeInterim(_ status: HTTPResponseStatus, headers: HTTPHeaders = [:]) -> Bool {
        connection.writeInterim(exchangeID, status: status, headers: headers)
    }

    /// `flush: false` when the body follows at once (a file): head and body leave together.
    public func writeHead(_ head: ResponseHead, flush: Bool = true) {
        connection.writeHead(exchangeID, head, body: nil, end: false, flush: flush)
    }

    /// `flush: false` to gather several writes into one (then call `flush()` or `end()`).
    public func writeBody(_ buffer: ByteBuffer, flush: Bool = true) {
        connection.writeBody(exchangeID, buffer, flush: flush)
    }

    /// Sends whatever was written without a flush.
    public func flush() {
        connection.flushResponse(exchangeID)
    }

    /// Sends `count` bytes of the open file `fd` from `offset`, and closes it (ownership passes
    /// here, whatever happens). Small files leave with the head in one write (call `end()`);
    /// larger ones by sendfile.
    public func writeFile(descriptor fd: CInt, offset: Int, count: Int) {
        connection.writeFile(exchangeID, descriptor: fd, offset: offset, count: count)
    }

    public func end() {
        connection.endResponse(exchangeID)
    }

    /// Stop reading the request body (the route's destination is not writable) or start again.
    public func pauseRequestBody(_ paused: Bool) {
        connection.setRoutePausedReads(exchangeID, paused)
    }

    /// Gives up on this request and ends the connection: with no response if none started (a FIN
    /// policy decided the client is gone), or cut short so the client sees the truncation.
    /// The access log records `logStatus` (default 499 if nothing was sent) and `logEnd`.
    public func abandon(_ reason: ConnectionEndReason, logStatus: Int? = nil, logEnd: String? = nil) {
        connection.abandon(exchangeID, reason: reason, logStatus: logStatus, logEnd: logEnd)
    }

    /// Whether the client may receive interim (1xx) responses, and none has been refused yet.
    public var acceptsInterimResponses: Bool { connection.acceptsInterim(exchangeID) }

    /// After writing a `101 Switching Protocols` head: the connection stops speaking HTTP.
    /// `glue` takes the HTTP handler's place in the pipeline, with the bytes the client sent after
    /// its request (and its FIN, if it came) passed on to it. Returns how to report the tunnel's
    /// end, or nil (nothing changed) if there is no 101 or the connection is gone.
    public func handOver(to glue: any ChannelHandler) -> TunnelEnd? {
        connection.handOver(exchangeID, to: glue)
    }

    /// Names the route answering this request, for metrics.
    public func setRouteLabel(_ label: String) {
        connection.setRouteLabel(exchangeID, label)
    }

    /// The route label set by the router, for a route's own metrics.
    public var routeLabel: String { connection.routeLabel(exchangeID) }

    /// Where a route reports what only it knows (probes sent, probes answered by an RST).
    public var observer: any HTTPObserver { connection.observer }

    /// The connection's error log.
    public var logger: Logger { connection.logger }

    /// Head, whole body and end in one write.
    public func respond(_ head: ResponseHead, body: ByteBuffer?) {
        connection.writeHead(exchangeID, head, body: body, end: true)
    }
}
