import NIOCore
import NIOHTTP1
import TacetTunnel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The response side of a connection, called through `ResponseWriter`. The connection, not the
/// route, chooses framing (Content-Length, chunked, close-delimited) and the Connection header.
extension HTTPConnectionHandler {
    func writeInterim(_ id: UInt64, status: HTTPResponseStatus, headers: HTTPHeaders) -> Bool {
        guard let current = exchange, current.id == id, !machine.responseComplete, machine.responseStatus == nil,
              current.request.acceptsInterimResponses, (100..<200).contains(status.code), status.code != 101,
              let context else { return false }
        var buffer = allocator.buffer(capacity: 64)
        ResponseEncoder.writeInterim(status: status, headers: headers, into: &buffer)
        log.bytesOut += buffer.readableBytes
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
        return true
    }

    func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool = true) {
        guard let current = exchange, current.id == id, machine.responseStatus == nil, let context else { return }
        let plan = machine.responseHead(status: Int(head.status.code), body: head.body, close: head.close)
        let framing = plan.framing

        var buffer = spare.take(capacity: 192 + (body?.readableBytes ?? 0), allocator: allocator)
        ResponseEncoder.writeHead(status: head.status, headers: head.headers, encodedFields: head.encodedFields,
                                  framing: framing, connection: plan.connection, date: dateCache, originDate: head.date,
                                  into: &buffer)
        if var body, !current.suppressBody, framing != .none, body.readableBytes > 0 {
            current.bodyBytes += body.readableBytes
            if framing == .chunked {
                ResponseEncoder.writeChunkHeader(size: body.readableBytes, into: &buffer)
                buffer.writeBuffer(&body)
                buffer.writeStaticString("\r\n")
            } else {
                buffer.writeBuffer(&body)
            }
        }
        if end && framing == .chunked && !current.suppressBody {
            buffer.writeStaticString("0\r\n\r\n")
        }
        log.bytesOut += buffer.readableBytes
        if flush || end {
            releaseHeld(flush: false)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
            spare.keep(buffer)
        } else {
            hold(&buffer)
        }
        if end { responseFinished() }
    }

    /// Bodies up to this size written unflushed join the held head: one write, not two.
    static var coalesceLimit: Int { 4096 }

    /// Keeps unflushed response bytes here rather than in NIO's queue, so the head and a small
    /// body after it (a proxied response arriving in one read) go out as one buffer in one write.
    func hold(_ bytes: inout ByteBuffer) {
        if held == nil {
            held = bytes
        } else {
            held?.writeBuffer(&bytes)
        }
    }

    /// Hands the held bytes to NIO (before any other write, flush or close), flushing if asked.
    func releaseHeld(flush: Bool) {
        guard let context else {
            held = nil
            return
        }
        if let bytes = held {
            held = nil
            if flush {
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(bytes)), promise: nil)
                spare.keep(bytes)
                return
            }
            context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: nil)
            spare.keep(bytes)
        }
        if flush { context.flush() }
    }

    func flushResponse(_ id: UInt64) {
        guard let current = exchange, current.id == id, context != nil else { return }
        releaseHeld(flush: true)
    }

    func writeBody(_ id: UInt64, _ buffer: ByteBuffer, flush: Bool = true) {
        guard let current = exchange, current.id == id, !machine.responseComplete, machine.responseStatus != nil,
              let context else { return }
        guard !current.suppressBody, buffer.readableBytes > 0 else { return }
        current.bodyBytes += buffer.readableBytes
        if machine.responseFraming == .none { return }
        if buffer.readableBytes <= Self.coalesceLimit, var joined = held.take() {
            // Appended in place (taken out of `held` first, so the storage is not shared).
            let before = joined.readableBytes
            var body = buffer
            if machine.responseFraming == .chunked { ResponseEncoder.writeChunkHeader(size: body.readableBytes, into: &joined) }
            joined.writeBuffer(&body)
            if machine.responseFraming == .chunked { joined.writeStaticString("\r\n") }
            log.bytesOut += joined.readableBytes - before
            held = joined
            if flush { releaseHeld(flush: true) }
            return
        }
        releaseHeld(flush: false)
        switch machine.responseFraming {
        case .none:
            return
        case .chunked:
            var header = allocator.buffer(capacity: 12)
            ResponseEncoder.writeChunkHeader(size: buffer.readableBytes, into: &header)
            context.write(wrapOutboundOut(.byteBuffer(header)), promise: nil)
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
            context.write(wrapOutboundOut(.byteBuffer(ByteBuffer(string: "\r\n"))), promise: nil)
            log.bytesOut += header.readableBytes + buffer.readableBytes + 2
        case .contentLength, .closeDelimited:
            log.bytesOut += buffer.readableBytes
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
        }
        if flush { context.flush() }
    }

    /// Files up to this size are read into the response's own buffer and leave with its head in
    /// one write, one TCP segment: cheaper than a sendfile call and a second segment (measured:
    /// bench/README.md, `bench/run.sh`). Larger ones go by sendfile.
    static var copyLimit: Int { 16 * 1024 }

    /// Sends `count` bytes of the file `fd` (ownership passes here) from `offset`.
    func writeFile(_ id: UInt64, descriptor fd: CInt, offset: Int, count: Int) {
        guard let current = exchange, current.id == id, !machine.responseComplete, machine.responseStatus != nil,
              let context, !current.suppressBody, count > 0, machine.responseFraming != .none else {
            Self.closeFile(fd)
            return
        }
        current.bodyBytes += count
        log.bytesOut += count
        if count <= Self.copyLimit, machine.responseFraming != .chunked, copyIntoHeld(fd, offset: offset, count: count) {
            Self.closeFile(fd)
            return
        }
        releaseHeld(flush: false)
        if machine.responseFraming == .chunked {
            var header = allocator.buffer(capacity: 12)
            ResponseEncoder.writeChunkHeader(size: count, into: &header)
            context.write(wrapOutboundOut(.byteBuffer(header)), promise: nil)
        }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
        let region = FileRegion(fileHandle: handle, readerIndex: offset, endIndex: offset + count)
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.write(wrapOutboundOut(.fileRegion(region)), promise: promise)
        if machine.responseFraming == .chunked {
            context.write(wrapOutboundOut(.byteBuffer(ByteBuffer(string: "\r\n"))), promise: nil)
        }
        context.flush()
        // The file is closed when the kernel has taken it, or when the client is gone.
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            try? handle.close()
            if case .failure(let error) = result, !(error is ChannelError) {
                perform(machine.connectionFailed(Self.reason(for: error, writing: true)))
            }
        }
    }

    private static func closeFile(_ fd: CInt) {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #elseif canImport(Darwin)
        _ = Darwin.close(fd)
        #endif
    }

    /// Appends the file's bytes to the held response bytes (the head, usually). False, with
    /// nothing appended, when the file gave fewer bytes than asked (it shrank since fstat):
    /// sendfile then fails the response as it would have anyway.
    private func copyIntoHeld(_ fd: CInt, offset: Int, count: Int) -> Bool {
        var buffer = held.take() ?? spare.take(capacity: count, allocator: allocator)
        let before = buffer.writerIndex
        var copied = 0
        while copied < count {
            let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - copied) { space in
                max(0, pread(fd, space.baseAddress, count - copied, off_t(offset + copied)))
            }
            if n == 0 { break }
            copied += n
        }
        if copied < count { buffer.moveWriterIndex(to: before) }
        held = buffer.readableBytes > 0 ? buffer : nil
        return copied == count
    }

    /// `trailers` go in the last chunk of a chunked response (RFC 9112 §7.1.2); under a
    /// Content-Length there is nowhere for them, and they are dropped.
    func endResponse(_ id: UInt64, trailers: HTTPHeaders? = nil) {
        guard let current = exchange, current.id == id, !machine.responseComplete, machine.responseStatus != nil,
              context != nil else { return }
        if machine.responseFraming == .chunked && !current.suppressBody {
            var last: ByteBuffer
            if let trailers, !trailers.isEmpty {
                last = allocator.buffer(capacity: 8 + trailers.count * 32)
                last.writeStaticString("0\r\n")
                for (name, value) in trailers {
                    last.writeString(name)
                    last.writeStaticString(": ")
                    last.writeString(value)
                    last.writeStaticString("\r\n")
                }
                last.writeStaticString("\r\n")
            } else {
                last = ByteBuffer(staticString: "0\r\n\r\n")
            }
            log.bytesOut += last.readableBytes
            hold(&last)
        }
        // Nothing may be left unflushed: a head written with `flush: false` and no body after it.
        releaseHeld(flush: true)
        responseFinished()
    }

    /// The route gives up: see `ConnectionStateMachine.routeAbandoned`. `logStatus` and `logEnd`
    /// replace what the access log would otherwise say (e.g. 502 `upstream_closed`).
    func abandon(_ id: UInt64, reason: ConnectionEndReason, logStatus: Int?, logEnd: String?) {
        guard let current = exchange, current.id == id, !machine.responseComplete else { return }
        exchange?.handler = nil
        abandonLog = (logStatus, logEnd ?? reason.rawValue)
        perform(machine.routeAbandoned(reason))
    }

    private func responseFinished() {
        guard exchange != nil else { return }
        // A response ended from outside a read (a proxied one, say): the log line, the timers
        // and the next pipelined request share one clock reading.
        let outermost = beginBatch()
        defer { endBatch(outermost) }
        perform(machine.responseEnded())
    }
}

extension HTTPConnectionHandler {
    func acceptsInterim(_ id: UInt64) -> Bool {
        guard let current = exchange, current.id == id else { return false }
        return machine.responseStatus == nil && current.request.acceptsInterimResponses
    }
}

extension HTTPConnectionHandler {
    func setRouteLabel(_ id: UInt64, _ label: String) {
        guard let current = exchange, current.id == id else { return }
        current.routeLabel = label
    }

    func routeLabel(_ id: UInt64) -> String {
        guard let current = exchange, current.id == id else { return "-" }
        return current.routeLabel
    }

    func setGRPCStatus(_ id: UInt64, _ status: String) {
        guard let current = exchange, current.id == id else { return }
        current.grpcStatus = status
    }

    func setContentCoding(_ id: UInt64, _ note: CodingNote) {
        guard let current = exchange, current.id == id else { return }
        current.coding = note
    }
}

extension HTTPConnectionHandler {
    func clientAddress(_ id: UInt64) -> String {
        guard let current = exchange, current.id == id, let client = current.client else { return log.remoteAddress }
        return client
    }
}
