import NIOCore
import NIOHTTP1

/// Frames out: request heads, DATA within both windows (queued per stream until they open),
/// resets, window given back; one buffer per flush.
extension HTTP2UpstreamConnection {
    func writeHead(_ stream: HTTP2UpstreamStream, method: String, scheme: String, authority: String, path: String,
                   headers: HTTPHeaders, endStream: Bool) {
        var block = allocator.buffer(capacity: 128 + path.utf8.count + authority.utf8.count + headers.count * 40)
        UpstreamRequestBlock.write(method: method, scheme: scheme, authority: authority, path: path,
                                   headers: headers, into: &block)
        FrameEncoder.headers(&out, stream: stream.id, block: block, endStream: endStream, maxFrameSize: machine.peer.maxFrameSize)
        if endStream { machine.endSent(stream.id) }
        flush()
    }

    /// Request body: sent within the windows, the rest queued until they open.
    func writeData(_ stream: HTTP2UpstreamStream, _ buffer: ByteBuffer, endStream: Bool) {
        stream.outbound.append(buffer)
        if endStream { stream.outbound.appendEnd() }
        drain(stream)
    }

    /// What `stream` has queued, as far as the windows and the channel allow.
    func drain(_ stream: HTTP2UpstreamStream) {
        while !stream.outbound.isEmpty {
            if !stream.outbound.hasData {
                stream.outbound.endTaken()
                FrameEncoder.dataHeader(&out, stream: stream.id, length: 0, endStream: true)
                machine.endSent(stream.id)
                break
            }
            let allowed = machine.sendable(stream.id)
            guard allowed > 0, channelWritable, let piece = stream.outbound.take(upTo: allowed) else { break }
            if case .bytes(let bytes, let end) = piece {
                FrameEncoder.data(&out, stream: stream.id, payload: bytes, endStream: end)
                machine.sent(stream.id, bytes: bytes.readableBytes)
                if end {
                    stream.outbound.endTaken()
                    machine.endSent(stream.id)
                }
            }
            if out.readableBytes >= 64 * 1024 { writeOut() }
        }
        if stream.outbound.isEmpty {
            unblock(stream)
        } else if !stream.isBlocked {
            stream.isBlocked = true
            blocked.append(stream)
        }
        stream.writabilityMayHaveChanged()
        if !machine.isOpen(stream.id) { retireIfDone(stream) }
        flush()
    }

    func drainBlocked() {
        for stream in blocked where machine.connectionMaySend && channelWritable { drain(stream) }
    }

    func unblock(_ stream: HTTP2UpstreamStream) {
        guard stream.isBlocked else { return }
        stream.isBlocked = false
        blocked.removeAll { $0 === stream }
    }

    /// RST_STREAM from our side (CANCEL: the client is gone; NO_ERROR: the response is whole
    /// and the request's rest is not needed).
    func reset(_ stream: HTTP2UpstreamStream, _ code: H2ErrorCode, failing reason: String? = nil) {
        if machine.isOpen(stream.id) {
            if stream.headSent { FrameEncoder.rstStream(&out, stream: stream.id, code: code) }
            machine.resetSent(stream.id)
        }
        if let reason {
            streams.removeValue(forKey: stream.id)
            unblock(stream)
            stream.fail(unprocessed: false, reason: reason)
            streamEnded()
        } else {
            retire(stream)
        }
        flush()
    }

    /// The stream needs the connection no more.
    func retire(_ stream: HTTP2UpstreamStream) {
        unblock(stream)
        stream.closed()
        guard streams.removeValue(forKey: stream.id) != nil else { return }
        streamEnded()
    }

    /// Both ends are closed and nobody holds the stream: it goes.
    private func retireIfDone(_ stream: HTTP2UpstreamStream) {
        if stream.delegate == nil { retire(stream) }
    }

    func streamEnded() {
        if streams.isEmpty {
            streams = [:]
            machine.releaseIdleStorage()
            if isDraining {
                close()
                return
            }
        }
        if !isDraining { owner?.connectionHasRoom(self) }
    }

    /// Response body relayed: the stream's window reopens when enough is owed.
    func bodyTaken(_ stream: HTTP2UpstreamStream, bytes: Int) {
        guard let increment = machine.bodyTaken(stream.id, bytes: bytes) else { return }
        FrameEncoder.windowUpdate(&out, stream: stream.id, increment: increment)
        flush()
    }

    /// In a read, its end flushes; outside one, the end of the event loop's turn, so the
    /// requests of many client connections in one turn leave in one write.
    func flush() {
        guard !inRead, !flushScheduled, context != nil else { return }
        flushScheduled = true
        eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            self.flushOut()
        }
    }

    func writeOut() {
        guard let context, out.readableBytes > 0 else { return }
        let bytes = out
        out = ByteBuffer()
        context.write(wrapOutboundOut(bytes), promise: nil)
        wroteSinceFlush = true
    }

    func flushOut() {
        guard let context, context.channel.isActive else { return }
        writeOut()
        if wroteSinceFlush {
            wroteSinceFlush = false
            context.flush()
        }
    }

    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        channelWritable = context.channel.isWritable
        if channelWritable {
            drainBlocked()
            flushOut()
        }
        for stream in Array(streams.values) { stream.writabilityMayHaveChanged() }
        context.fireChannelWritabilityChanged()
    }
}
