import NIOCore
import NIOHTTP1
import TacetHTTP
import TacetHTTP2

/// The exchange over a stream of an HTTP/2 upstream connection: the same machine and actions as
/// over HTTP/1.1; a stream instead of a connection of its own, the request as a header block
/// and DATA, the response's trailers kept for the client's end.
extension ProxyExchange: HTTP2UpstreamStreamDelegate {
    func openStream(server: Int, in pool: HTTP2UpstreamPool) {
        pool.stream(server: server, for: .init(delegate: self) { [self] stream, reused in
            guard let stream else {
                upstream.selector.recordFailure(server)
                perform(machine.connectFailed())
                return
            }
            guard machine.state == .connecting else {
                // Cancelled while waiting: its HEADERS never went, so letting go sends nothing.
                stream.release()
                return
            }
            self.stream = stream
            upstream.selector.connectionOpened(server)
            perform(machine.connected(reused: reused))
        })
    }

    /// The head as a header block (END_STREAM on it when there is no body), then what body came
    /// while connecting.
    func sendStreamRequest(body: [ByteBuffer], end: Bool) {
        guard let stream else { return }
        let fields = HeaderRewriting.upstreamFields(for: request, clientAddress: writer.remoteAddress)
        let address = upstream.selector.addresses[stream.server]
        let authority = request.headers.first(name: "host") ?? "\(address.host):\(address.port)"
        let noBody = request.framing == .none
        stream.sendHead(method: request.method.rawValue, scheme: upstream.settings.prelude == nil ? "http" : "https",
                        authority: authority, path: request.target, headers: fields, endStream: noBody)
        if !noBody {
            for part in body { stream.sendData(part, endStream: false) }
            if end { stream.sendData(ByteBuffer(), endStream: true) }
            writer.pauseRequestBody(!stream.isWritable)
        }
        armReadTimer()
    }

    /// The response is whole: the stream goes back (a request body still going is stopped
    /// with NO_ERROR, RFC 9113 §8.1).
    func finishStream() {
        guard let stream else { return }
        self.stream = nil
        cancelReadTimer()
        upstream.selector.connectionClosed(stream.server)
        stream.release()
    }

    // MARK: HTTP2UpstreamStreamDelegate

    func streamReceivedInterim(_ head: UpstreamResponseHead.Head) {
        perform(machine.responseHead(Self.relayed(head)))
    }

    func streamReceivedHead(_ head: UpstreamResponseHead.Head, endStream: Bool) {
        if let server = machine.server { upstream.selector.recordSuccess(server) }
        if endStream, let status = head.headers.first(name: "grpc-status") { writer.setGRPCStatus(GRPCStatus.logged(status)) }
        perform(machine.responseHead(Self.relayed(head)))
        if endStream { perform(machine.responseEnd()) }
    }

    func streamReceivedData(_ data: ByteBuffer, endStream: Bool) {
        if data.readableBytes > 0 { perform(machine.responseBodyPart(data)) }
        if endStream { perform(machine.responseEnd()) }
    }

    func streamReceivedTrailers(_ trailers: HTTPHeaders) {
        self.trailers = trailers
        if let status = trailers.first(name: "grpc-status") { writer.setGRPCStatus(GRPCStatus.logged(status)) }
        perform(machine.responseEnd())
    }

    func streamFailed(unprocessed: Bool, reset: Bool, reason: String) {
        guard let stream else { return }
        self.stream = nil
        // An answer under way that the upstream reset: the client's stream is reset (CANCEL) too.
        upstreamResetStream = reset
        cancelReadTimer()
        upstream.selector.connectionClosed(stream.server)
        writer.logger.debug("HTTP/2 upstream stream failed", metadata: ["upstream": "\(upstream.name)", "reason": "\(reason)"])
        if let server = machine.server, machine.state == .awaitingResponse, !unprocessed { upstream.selector.recordFailure(server) }
        perform(unprocessed ? machine.upstreamRefused() : machine.upstreamFailed())
    }

    func streamWritabilityChanged(_ writable: Bool) { upstreamWritabilityChanged(writable) }
    func streamReadComplete() { upstreamReadComplete() }
    func streamReadTimedOut() { upstreamReadTimedOut() }

    /// An HTTP/2 head as the machine and the client's writer take an HTTP/1.1 one: fields as
    /// `name: value` lines (Content-Length, Server and Date are the client connection's), Via added.
    static func relayed(_ head: UpstreamResponseHead.Head) -> UpstreamResponseParser.Head {
        var fields = ByteBuffer()
        fields.reserveCapacity(head.headers.count * 40 + 16)
        for (name, value) in head.headers where name != "content-length" && name != "server" && name != "date" {
            fields.field(name, value)
        }
        fields.field("via", "2.0 tacet")
        let framing: UpstreamResponseParser.Framing = head.contentLength.map { $0 == 0 ? .none : .length($0) } ?? .close
        return UpstreamResponseParser.Head(status: HTTPResponseStatus(statusCode: head.status), keepAlive: true,
                                           framing: framing, fields: fields, contentLength: head.contentLength, upgrade: nil,
                                           date: head.headers.first(name: "date").flatMap { $0.utf8.count <= UpstreamResponseParser.maxDateLength ? $0 : nil })
    }
}
