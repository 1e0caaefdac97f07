import NIOCore

/// A stream's response bytes waiting for flow-control window (RFC 9113 §6.9): buffers and file
/// ranges in order, then its end. The connection takes pieces of at most the window it has; a
/// file range is read only when its turn comes, straight into the frame buffer, so a large
/// file never sits in memory and needs no sendfile (which TLS cannot pass anyway).
struct OutboundQueue {
    enum Item {
        case bytes(ByteBuffer)
        case file(NIOFileHandle, offset: Int, count: Int)
    }

    /// What to send next: `endStream` when it is the last of the response.
    enum Piece {
        case bytes(ByteBuffer, endStream: Bool)
        case file(CInt, offset: Int, count: Int, endStream: Bool)
        /// Only the end is left: an empty DATA with END_STREAM.
        case end
    }

    private var items = CircularBuffer<Item>()
    /// Bytes queued (what a stream's writability reads).
    private(set) var queuedBytes = 0
    /// The response's end is queued behind the items.
    private(set) var endQueued = false
    /// The end is a trailers block (HEADERS with END_STREAM), not END_STREAM on DATA.
    private(set) var endTrailers: ByteBuffer?

    var isEmpty: Bool { items.isEmpty && !endQueued }
    var hasData: Bool { !items.isEmpty }

    mutating func append(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else { return }
        queuedBytes += buffer.readableBytes
        items.append(.bytes(buffer))
    }

    mutating func append(file: NIOFileHandle, offset: Int, count: Int) {
        queuedBytes += count
        items.append(.file(file, offset: offset, count: count))
    }

    mutating func appendEnd(trailers: ByteBuffer? = nil) {
        endQueued = true
        endTrailers = trailers
    }

    /// The last DATA carries END_STREAM only when no trailers follow it.
    private var dataEnds: Bool { items.isEmpty && endQueued && endTrailers == nil }

    /// The next piece of at most `limit` bytes (limit > 0), taken off the queue. A file's handle
    /// is closed once its last byte is taken.
    mutating func take(upTo limit: Int) -> Piece? {
        guard let first = items.first else { return endQueued ? .end : nil }
        switch first {
        case .bytes(var buffer):
            if buffer.readableBytes <= limit {
                items.removeFirst()
                queuedBytes -= buffer.readableBytes
                return .bytes(buffer, endStream: dataEnds)
            }
            let part = buffer.readSlice(length: limit) ?? ByteBuffer()
            items[items.startIndex] = .bytes(buffer)
            queuedBytes -= limit
            return .bytes(part, endStream: false)
        case .file(let handle, let offset, let count):
            let n = min(count, limit)
            queuedBytes -= n
            let fd = (try? handle.withUnsafeFileDescriptor { $0 }) ?? -1
            if n == count {
                items.removeFirst()
                // Closed by the caller after its read: `closeTaken` below.
                pendingClose = handle
                return .file(fd, offset: offset, count: n, endStream: dataEnds)
            }
            items[items.startIndex] = .file(handle, offset: offset + n, count: count - n)
            return .file(fd, offset: offset, count: n, endStream: false)
        }
    }

    /// The END_STREAM of `.end` (or of the last piece) was taken.
    mutating func endTaken() {
        endQueued = false
        endTrailers = nil
    }

    /// A file whose last range was just taken: closed once it has been read.
    private var pendingClose: NIOFileHandle?

    mutating func closeTaken() {
        try? pendingClose?.close()
        pendingClose = nil
    }

    /// The stream is gone: every file still queued is closed.
    mutating func drop() {
        closeTaken()
        for case .file(let handle, _, _) in items { try? handle.close() }
        items.removeAll()
        queuedBytes = 0
        endQueued = false
        endTrailers = nil
    }
}
