import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Above the TLS handler: a file the connection writes by sendfile (`FileRegion`) is read here,
/// in chunks, into buffers TLS can encrypt; sendfile cannot pass through TLS, and NIOSSL takes
/// buffers only. One chunk is read when the channel can take it, so a large file to a slow
/// client holds at most the channel's high-water mark plus a chunk. Writes that follow the file
/// (the next response's head) wait behind it, in order. The file write's promise completes
/// when its last chunk is written; a file that gives fewer bytes than promised (it shrank) fails
/// it, and the connection closes rather than pass a short body on as whole.
final class FileRegionReader: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = IOData
    typealias OutboundOut = ByteBuffer

    static let chunkSize = 64 * 1024

    private struct File {
        var region: FileRegion
        var promise: EventLoopPromise<Void>?
    }

    private var file: File?
    /// Writes and flushes issued while a file was being read, in order.
    private var queued: [(IOData?, EventLoopPromise<Void>?)] = []
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        failAll(ChannelError.ioOnClosedChannel)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let data = unwrapOutboundIn(data)
        if file != nil {
            queued.append((data, promise))
            return
        }
        switch data {
        case .byteBuffer(let buffer):
            context.write(wrapOutboundOut(buffer), promise: promise)
        case .fileRegion(let region):
            file = File(region: region, promise: promise)
        }
    }

    func flush(context: ChannelHandlerContext) {
        if file != nil {
            queued.append((nil, nil))
            pump(context)
        } else {
            context.flush()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pump(context) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    /// Reads and writes chunks while the channel takes them; then the queued writes, once the
    /// file is done.
    private func pump(_ context: ChannelHandlerContext) {
        while var current = file, context.channel.isWritable {
            let remaining = current.region.endIndex - current.region.readerIndex
            if remaining == 0 {
                file = nil
                current.promise?.succeed(())
                drainQueue(context)
                return
            }
            let wanted = min(remaining, Self.chunkSize)
            var buffer = context.channel.allocator.buffer(capacity: wanted)
            let offset = current.region.readerIndex
            let got: Int
            do {
                got = try current.region.fileHandle.withUnsafeFileDescriptor { fd in
                    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { space in
                        max(0, pread(fd, space.baseAddress, wanted, off_t(offset)))
                    }
                }
            } catch {
                fail(current, error, context)
                return
            }
            guard got > 0 else {
                fail(current, IOError(errnoCode: EIO, reason: "file shorter than its response"), context)
                return
            }
            current.region.moveReaderIndex(forwardBy: got)
            file = current
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }

    private func drainQueue(_ context: ChannelHandlerContext) {
        while file == nil, !queued.isEmpty {
            let (data, promise) = queued.removeFirst()
            guard let data else {
                context.flush()
                continue
            }
            switch data {
            case .byteBuffer(let buffer):
                context.write(wrapOutboundOut(buffer), promise: promise)
            case .fileRegion(let region):
                file = File(region: region, promise: promise)
                pump(context)
            }
        }
    }

    private func fail(_ current: File, _ error: any Error, _ context: ChannelHandlerContext) {
        file = nil
        current.promise?.fail(error)
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        let current = file
        file = nil
        current?.promise?.fail(error)
        let pending = queued
        queued = []
        for (_, promise) in pending { promise?.fail(error) }
    }
}
