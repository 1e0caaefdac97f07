import NIOCore

/// What is left of a frame that did not arrive whole, between two reads: our own copy, never
/// the read buffer's storage, and compacted so that body slices the routes still hold do not
/// keep a growing buffer alive. Both roles' connection handlers read through it.
struct PendingBytes {
    private var buffer = ByteBuffer()

    /// `bytes` from the channel, handed to `process` after what was pending (with no copy when
    /// nothing was); what `process` leaves unread is kept for the next read.
    mutating func read(_ bytes: inout ByteBuffer, allocator: ByteBufferAllocator, _ process: (inout ByteBuffer) -> Void) {
        if buffer.readableBytes == 0 {
            process(&bytes)
            if bytes.readableBytes > 0 {
                buffer = allocator.buffer(capacity: max(bytes.readableBytes, 1024))
                buffer.writeBuffer(&bytes)
            }
            return
        }
        buffer.writeBuffer(&bytes)
        process(&buffer)
        if buffer.readableBytes == 0 {
            buffer = ByteBuffer()
        } else if buffer.readerIndex > 64 * 1024 {
            var rest = allocator.buffer(capacity: buffer.readableBytes)
            rest.writeBuffer(&buffer)
            buffer = rest
        }
    }
}
