import NIOCore

extension ByteBuffer {
    /// The largest buffer a connection keeps between messages for its next one.
    public static let recyclableCapacity = 8192

    /// This buffer, to keep for the next message on the same connection: once NIO has written it,
    /// `clear(minimumCapacity:)` reuses its storage instead of allocating (two allocations per
    /// message: the storage object and its bytes). Nil if it has grown past `recyclableCapacity`,
    /// so an idle connection never holds a large buffer.
    public var recyclable: ByteBuffer? {
        capacity <= Self.recyclableCapacity ? self : nil
    }
}
