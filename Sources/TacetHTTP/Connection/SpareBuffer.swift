import NIOCore

/// The last buffer a connection handed on (to NIO, or to code that copies it), kept for its next
/// message: once nobody else holds it, `clear(minimumCapacity:)` reuses its storage instead of
/// allocating (two allocations per message: the storage object and its bytes). If it is still
/// held (a write waiting for a full socket), `take` gets a new one, so nothing is overwritten.
/// A buffer grown past `maxCapacity` is let go: an idle connection never holds a large one.
public struct SpareBuffer: Sendable {
    public static let maxCapacity = 8192

    @usableFromInline var buffer: ByteBuffer?

    public init() {}

    /// An empty buffer of at least `capacity` bytes, on the spare's storage when it is free.
    @inlinable
    public mutating func take(capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard var spare = buffer.take() else { return allocator.buffer(capacity: capacity) }
        spare.clear(minimumCapacity: capacity)
        return spare
    }

    /// Keeps `handedOn` for the next `take`.
    @inlinable
    public mutating func keep(_ handedOn: ByteBuffer) {
        buffer = handedOn.capacity <= Self.maxCapacity ? handedOn : nil
    }

    public mutating func drop() {
        buffer = nil
    }
}
