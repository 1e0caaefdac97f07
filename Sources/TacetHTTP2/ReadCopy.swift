import NIOCore

/// In front of NIOHTTP2's frame decoder: each read is handed on as a copy of just its bytes.
/// The decoder keeps the last buffer it was given (empty, but holding its storage) until the
/// next read; given the buffer TLS decrypts into (32 KiB, reused by NIOSSL for every read), it
/// made NIOSSL copy that storage on every read and kept a second one alive per connection. A
/// copy of the few bytes read costs less than either.
final class ReadCopy: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        var copy = context.channel.allocator.buffer(capacity: bytes.readableBytes)
        copy.writeImmutableBuffer(bytes)
        context.fireChannelRead(wrapInboundOut(copy))
    }
}
