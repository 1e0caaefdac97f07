import NIOCore

extension ByteBuffer {
    /// Reads what is here of a body part of known size: up to `remaining` bytes as a slice (no
    /// copy), and how many are still to come. Nil when nothing is readable. Content-Length
    /// bodies (requests and responses) and chunk data all read this way.
    public mutating func readBodySlice(remaining: Int) -> (slice: ByteBuffer, left: Int)? {
        guard readableBytes > 0 else { return nil }
        let n = min(remaining, readableBytes)
        guard let slice = readSlice(length: n) else { return nil }
        return (slice, remaining - n)
    }
}
