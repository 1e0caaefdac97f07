import NIOCore

/// A route action: answers one request through a `ResponseWriter`.
///
/// Called on the connection's event loop. A responder knows nothing about sockets: it writes its
/// response and receives the body and a cancel; the connection handles framing, keep-alive, FIN
/// and RST.
public protocol Responder: Sendable {
    /// Starts answering `request`. Return a `RequestHandler` to receive the body and cancellation,
    /// or nil when the response needs neither (the connection then discards any body).
    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)?
}

/// One request's work in progress, as seen by the connection. All calls come on the event loop.
public protocol RequestHandler: AnyObject {
    /// A piece of the request body.
    func requestBodyPart(_ buffer: ByteBuffer)
    /// The request body is complete.
    func requestEnded()
    /// The client is gone, or too slow: stop all work for this request and free what it holds.
    /// Writes after this are ignored.
    func cancel(_ reason: ConnectionEndReason)
    /// The client sent FIN after the whole request: it will send nothing more, and may or may not
    /// still be reading. Routes with a FIN policy (proxy: serve / abort / probe) act on this.
    func clientHalfClosed()
    /// The connection can take more bytes again (true) or has too many queued (false).
    func writabilityChanged(_ isWritable: Bool)
}

extension RequestHandler {
    public func requestBodyPart(_ buffer: ByteBuffer) {}
    public func requestEnded() {}
    public func clientHalfClosed() {}
    public func writabilityChanged(_ isWritable: Bool) {}
}
