import NIOCore
import NIOHTTP1

/// What a stream of an upstream connection reports to the exchange using it.
package protocol HTTP2UpstreamStreamDelegate: AnyObject {
    /// A 1xx (never 101): the final head is still to come.
    func streamReceivedInterim(_ head: UpstreamResponseHead.Head)
    /// The final response head; `endStream`: there is nothing after it (a trailers-only answer).
    func streamReceivedHead(_ head: UpstreamResponseHead.Head, endStream: Bool)
    func streamReceivedData(_ data: ByteBuffer, endStream: Bool)
    /// The response's trailers, which end it.
    func streamReceivedTrailers(_ trailers: HTTPHeaders)
    /// The stream ended without its whole response: reset by the upstream, a malformed answer,
    /// or the connection lost. `unprocessed`: the upstream cannot have acted on the request
    /// (REFUSED_STREAM, a stream above its GOAWAY's last one, RFC 9113 §8.7): safe to retry.
    /// `reset`: the upstream reset this stream (RST_STREAM), rather than the connection failing.
    func streamFailed(unprocessed: Bool, reset: Bool, reason: String)
    /// The request body may go on (or should wait): the stream's window and the channel.
    func streamWritabilityChanged(_ writable: Bool)
    /// The upstream's read that brought this stream's frames is handled: flush what was relayed.
    func streamReadComplete()
    /// The read deadline passed with nothing from the upstream on this stream.
    func streamReadTimedOut()
}

/// One request's stream on an `HTTP2UpstreamConnection`: what the proxy's exchange sends
/// (head, body, end, a cancel) and the flow control of both directions. A value in the
/// connection's table, not a channel. Only touched on the connection's event loop.
package final class HTTP2UpstreamStream {
    package let id: UInt32
    unowned let connection: HTTP2UpstreamConnection
    weak var delegate: (any HTTP2UpstreamStreamDelegate)?
    /// Request DATA waiting for window.
    var outbound = OutboundQueue()
    var isBlocked = false
    /// Until it ends, is reset (either way) or the connection goes.
    var open = true
    /// The exchange has stopped relaying (its client is not taking bytes): the stream's window
    /// is not reopened meanwhile, so the upstream stops once it is spent.
    private var paused = false
    /// Body delivered while paused, given back as window when the exchange resumes.
    private var withheld = 0
    var readDeadline: NIODeadline?
    private var reportedWritable = true
    /// The final head came (DATA before it is the upstream's error).
    var headReceived = false
    /// Our HEADERS went: before that, the upstream knows nothing of the stream, and letting go
    /// of it sends nothing (an RST_STREAM on a stream it never saw is its protocol error).
    var headSent = false
    /// In the connection's list of streams told at the end of this read (no scan per frame).
    var inReaders = false

    init(id: UInt32, connection: HTTP2UpstreamConnection, delegate: any HTTP2UpstreamStreamDelegate) {
        self.id = id
        self.connection = connection
        self.delegate = delegate
    }

    package var server: Int { connection.server }

    /// The connection takes bytes and less than 64 KiB of request body waits for window.
    package var isWritable: Bool { open && connection.channelWritable && outbound.queuedBytes < 64 * 1024 }

    /// The request's header block (pseudo-fields and the fields to pass, connection-specific
    /// ones dropped); `endStream`: the request has no body.
    package func sendHead(method: String, scheme: String, authority: String, path: String,
                          headers: HTTPHeaders, endStream: Bool) {
        guard open, !headSent else { return }
        headSent = true
        connection.writeHead(self, method: method, scheme: scheme, authority: authority, path: path,
                             headers: headers, endStream: endStream)
    }

    package func sendData(_ buffer: ByteBuffer, endStream: Bool) {
        guard open else { return }
        connection.writeData(self, buffer, endStream: endStream)
    }

    /// The exchange is gone (its client reset, the route gave up): RST_STREAM CANCEL at once.
    package func cancel() {
        guard open else { return }
        delegate = nil
        connection.reset(self, .cancel)
    }

    /// The exchange lets go after the whole response: nothing is sent (the stream is closed,
    /// or its request body is still going and is stopped with NO_ERROR, §8.1).
    package func release() {
        delegate = nil
        readDeadline = nil
        guard open else { return }
        connection.reset(self, .noError)
    }

    package func setReadsPaused(_ paused: Bool) {
        guard self.paused != paused else { return }
        self.paused = paused
        if !paused && withheld > 0 {
            let bytes = withheld
            withheld = 0
            connection.bodyTaken(self, bytes: bytes)
        }
    }

    package func setReadDeadline(_ deadline: NIODeadline) {
        readDeadline = deadline
        connection.readDeadlineSet(deadline)
    }

    package func clearReadDeadline() { readDeadline = nil }

    package func flush() { connection.flush() }

    package var allocator: ByteBufferAllocator { connection.allocator }

    // MARK: from the connection

    /// DATA for the exchange; its window reopens now, or when the exchange resumes.
    func received(_ data: ByteBuffer, endStream: Bool) {
        let bytes = data.readableBytes
        delegate?.streamReceivedData(data, endStream: endStream)
        guard !endStream, bytes > 0, open else { return }
        if paused {
            withheld += bytes
        } else {
            connection.bodyTaken(self, bytes: bytes)
        }
    }

    /// The stream is over for the connection (ended, reset, or the connection gone).
    func closed() {
        open = false
        readDeadline = nil
        outbound.drop()
    }

    func fail(unprocessed: Bool, reset: Bool = false, reason: String) {
        let delegate = self.delegate
        self.delegate = nil
        closed()
        delegate?.streamFailed(unprocessed: unprocessed, reset: reset, reason: reason)
    }

    func writabilityMayHaveChanged() {
        let writable = isWritable
        guard writable != reportedWritable else { return }
        reportedWritable = writable
        delegate?.streamWritabilityChanged(writable)
    }
}
