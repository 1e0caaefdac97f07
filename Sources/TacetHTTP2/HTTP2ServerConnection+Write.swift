import NIOCore
import NIOHTTP1
import TacetHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What streams write: frames appended to the connection's one buffer, DATA only as far as
/// both windows allow (the rest queued on the stream), one write and flush per read or per
/// flush outside a read.
extension HTTP2ServerConnection {
    /// Past this, what is buffered is handed to the channel (not flushed) so its writability
    /// tracks a large response as it is produced.
    static let writeChunk = 64 * 1024

    func writeHeaders(_ exchange: HTTP2StreamExchange, _ head: ResponseHead, endStream: Bool) {
        guard machine.isOpen(exchange.id) else { return }
        let start = out.writerIndex
        out.writeRepeatingByte(0, count: FrameLimits.headerSize)
        ResponseBlock.write(head, date: HTTPDate.now, into: &out)
        finishHeaders(exchange.id, start: start, endStream: endStream)
        if endStream {
            machine.endSent(exchange.id)
            endWritten(exchange)
        }
    }

    func writeInterim(_ exchange: HTTP2StreamExchange, _ status: HTTPResponseStatus, headers: HTTPHeaders) {
        guard machine.isOpen(exchange.id) else { return }
        let start = out.writerIndex
        out.writeRepeatingByte(0, count: FrameLimits.headerSize)
        ResponseBlock.writeInterim(status, headers: headers, into: &out)
        finishHeaders(exchange.id, start: start, endStream: false)
    }

    /// The header block was encoded in place after a blank frame header: filled in, or, for a
    /// block over the peer's frame size, rewritten as HEADERS and CONTINUATION frames.
    private func finishHeaders(_ stream: UInt32, start: Int, endStream: Bool) {
        let length = out.writerIndex - start - FrameLimits.headerSize
        if length <= machine.peer.maxFrameSize {
            let flags = FrameFlags.endHeaders | (endStream ? FrameFlags.endStream : 0)
            FrameEncoder.setFrameHeader(&out, at: start, length: length, type: .headers, flags: flags, stream: stream)
            return
        }
        var block = ByteBuffer()
        block.writeBytes(out.readableBytesView.suffix(length))
        out.moveWriterIndex(to: start)
        FrameEncoder.headers(&out, stream: stream, block: block, endStream: endStream, maxFrameSize: machine.peer.maxFrameSize)
    }

    /// Body bytes: sent now as far as the windows allow, the rest queued in order.
    func writeData(_ exchange: HTTP2StreamExchange, _ buffer: ByteBuffer, endStream: Bool) {
        guard machine.isOpen(exchange.id) else { return }
        if exchange.outbound.isEmpty {
            var rest = buffer
            while true {
                let allowed = machine.sendable(exchange.id)
                if rest.readableBytes <= allowed || (rest.readableBytes == 0 && endStream) {
                    if rest.readableBytes == 0 && !endStream { return }
                    FrameEncoder.data(&out, stream: exchange.id, payload: rest, endStream: endStream)
                    machine.sent(exchange.id, bytes: rest.readableBytes)
                    if endStream {
                        machine.endSent(exchange.id)
                        endWritten(exchange)
                    }
                    handOverIfLarge()
                    return
                }
                guard allowed > 0, let part = rest.readSlice(length: allowed) else { break }
                FrameEncoder.data(&out, stream: exchange.id, payload: part, endStream: false)
                machine.sent(exchange.id, bytes: allowed)
                handOverIfLarge()
            }
            exchange.outbound.append(rest)
        } else {
            exchange.outbound.append(buffer)
        }
        if endStream { exchange.outbound.appendEnd() }
        block(exchange)
    }

    /// A file range: read into DATA frames as the windows and the channel allow.
    func writeFile(_ exchange: HTTP2StreamExchange, _ handle: NIOFileHandle, offset: Int, count: Int) {
        guard machine.isOpen(exchange.id) else {
            try? handle.close()
            return
        }
        exchange.outbound.append(file: handle, offset: offset, count: count)
        block(exchange)
        // Within a read the route usually ends the response next: drained at the read's end,
        // the file's last DATA frame carries END_STREAM (no empty DATA frame after it).
        if inRead {
            filesQueued = true
        } else {
            drain(exchange)
        }
    }

    /// The response's end: END_STREAM on an empty DATA frame, after anything queued.
    func endStream(_ exchange: HTTP2StreamExchange) {
        writeData(exchange, ByteBuffer(), endStream: true)
    }

    /// The response's end as trailers (RFC 9113 §8.1): a HEADERS frame with END_STREAM, after
    /// anything queued (it is not flow-controlled, but must not pass the DATA before it).
    func endStream(_ exchange: HTTP2StreamExchange, trailers: HTTPHeaders) {
        guard machine.isOpen(exchange.id) else { return }
        var block = allocator.buffer(capacity: 16 + trailers.count * 32)
        ResponseBlock.writeTrailers(trailers, into: &block)
        guard exchange.outbound.isEmpty else {
            exchange.outbound.appendEnd(trailers: block)
            self.block(exchange)
            return
        }
        writeTrailersFrame(exchange, block)
    }

    private func writeTrailersFrame(_ exchange: HTTP2StreamExchange, _ block: ByteBuffer) {
        FrameEncoder.headers(&out, stream: exchange.id, block: block, endStream: true, maxFrameSize: machine.peer.maxFrameSize)
        machine.endSent(exchange.id)
        endWritten(exchange)
    }

    /// RST_STREAM from our side; whatever the stream had queued is dropped.
    func reset(_ exchange: HTTP2StreamExchange, _ code: H2ErrorCode) {
        exchange.outbound.drop()
        if machine.isOpen(exchange.id) {
            FrameEncoder.rstStream(&out, stream: exchange.id, code: code)
            machine.resetSent(exchange.id)
        }
        retire(exchange)
        // Outside a read (a proxied answer cut off on its upstream's channel) nothing else
        // would send it: the stream is gone, so its writer's flush is ignored.
        flush()
    }

    private func block(_ exchange: HTTP2StreamExchange) {
        guard !exchange.isBlocked, !exchange.outbound.isEmpty else { return }
        exchange.isBlocked = true
        blocked.append(exchange)
        windowStallChanged(progress: false)
        exchange.writabilityMayHaveChanged()
    }

    /// What `exchange` has queued, as far as the windows and the channel allow.
    func drain(_ exchange: HTTP2StreamExchange) {
        while !exchange.outbound.isEmpty {
            if !exchange.outbound.hasData {
                let trailers = exchange.outbound.endTrailers
                exchange.outbound.endTaken()
                if let trailers {
                    writeTrailersFrame(exchange, trailers)
                    break
                }
                FrameEncoder.dataHeader(&out, stream: exchange.id, length: 0, endStream: true)
                machine.endSent(exchange.id)
                endWritten(exchange)
                break
            }
            let allowed = machine.sendable(exchange.id)
            guard allowed > 0, channelWritable, let piece = exchange.outbound.take(upTo: allowed) else { break }
            switch piece {
            case .bytes(let bytes, let end):
                FrameEncoder.data(&out, stream: exchange.id, payload: bytes, endStream: end)
                machine.sent(exchange.id, bytes: bytes.readableBytes)
                if end {
                    exchange.outbound.endTaken()
                    machine.endSent(exchange.id)
                    endWritten(exchange)
                }
            case .file(let fd, let offset, let count, let end):
                let read = readFileFrame(exchange.id, fd: fd, offset: offset, count: count, endStream: end)
                exchange.outbound.closeTaken()
                guard read else {
                    // The file shrank or could not be read: the stream cannot be finished whole.
                    exchange.fileFailed()
                    return
                }
                machine.sent(exchange.id, bytes: count)
                if end {
                    exchange.outbound.endTaken()
                    machine.endSent(exchange.id)
                    endWritten(exchange)
                }
            case .end:
                break
            }
            handOverIfLarge()
        }
        if exchange.outbound.isEmpty && exchange.isBlocked {
            exchange.isBlocked = false
            blocked.removeAll { $0 === exchange }
            windowStallChanged(progress: false)
        }
        exchange.writabilityMayHaveChanged()
        flush()
    }

    /// Every waiting stream, in the order they began to wait, while the connection's window lasts.
    func drainBlocked() {
        for exchange in blocked where machine.connectionMaySend && channelWritable {
            drain(exchange)
        }
    }

    /// A DATA frame of `count` file bytes read straight into the frame buffer.
    private func readFileFrame(_ stream: UInt32, fd: CInt, offset: Int, count: Int, endStream: Bool) -> Bool {
        let start = out.writerIndex
        FrameEncoder.dataHeader(&out, stream: stream, length: count, endStream: endStream)
        let got = out.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes in
            guard let base = bytes.baseAddress, fd >= 0 else { return 0 }
            var done = 0
            while done < count {
                let n = pread(fd, base + done, count - done, off_t(offset + done))
                if n > 0 {
                    done += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            return done
        }
        guard got == count else {
            out.moveWriterIndex(to: start)
            return false
        }
        return true
    }

    /// END_STREAM is in `out`: the exchange is told when it has left. A request still
    /// uploading is told to stop with RST_STREAM NO_ERROR (§8.1), after the end.
    func endWritten(_ exchange: HTTP2StreamExchange) {
        deliveries.append(exchange)
        if machine.isOpen(exchange.id) {
            FrameEncoder.rstStream(&out, stream: exchange.id, code: .noError)
            machine.resetSent(exchange.id)
        }
        retire(exchange)
    }

    /// The stream's exchange needs the connection no more.
    func retire(_ exchange: HTTP2StreamExchange) {
        if exchange.isBlocked {
            exchange.isBlocked = false
            blocked.removeAll { $0 === exchange }
            windowStallChanged(progress: false)
        }
        guard exchanges.removeValue(forKey: exchange.id) != nil else { return }
        if exchanges.isEmpty {
            // An idle connection keeps no table storage (hundreds of bytes each, per connection).
            exchanges = [:]
            machine.releaseIdleStorage()
        }
        exchangeEnded()
    }

    /// Body the route has taken: the stream's window reopened when enough is owed.
    func bodyTaken(_ exchange: HTTP2StreamExchange, bytes: Int) {
        guard let increment = machine.bodyTaken(exchange.id, bytes: bytes) else { return }
        FrameEncoder.windowUpdate(&out, stream: exchange.id, increment: increment)
        flush()
    }

    /// Within a read, one flush at its end covers every stream's writes. Outside one (a proxied
    /// answer arrives on its upstream's channel, a window reopens) the flush waits for the end
    /// of the event loop's turn, so every answer completed in that turn leaves in one write
    /// and one TLS record rather than one each.
    func flush() {
        guard !inRead, !flushScheduled, let context else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            self.flushOut()
        }
    }

    /// A large response produced in one go: handed to the channel in pieces so that its
    /// writability (and with it the routes' backpressure) follows.
    private func handOverIfLarge() {
        if out.readableBytes >= Self.writeChunk { writeOut() }
    }

    func writeOut() {
        guard let context, out.readableBytes > 0 else { return }
        let bytes = out
        // Empty until the next frame: an idle connection holds no output buffer.
        out = ByteBuffer()
        if deliveries.isEmpty {
            context.write(wrapOutboundOut(bytes), promise: nil)
        } else {
            let delivered = deliveries
            deliveries.removeAll()
            let promise = context.eventLoop.makePromise(of: Void.self)
            promise.futureResult.assumeIsolated().whenComplete { result in
                let success: Bool
                if case .success = result { success = true } else { success = false }
                for exchange in delivered { exchange.endDelivered(success) }
            }
            context.write(wrapOutboundOut(bytes), promise: promise)
        }
        wroteSinceFlush = true
    }

    func flushOut() {
        guard let context, context.channel.isActive || out.readableBytes == 0 else { return }
        writeOut()
        if wroteSinceFlush {
            wroteSinceFlush = false
            context.flush()
        }
    }
}
