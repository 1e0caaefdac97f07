import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback server that answers every connection with the same bytes and closes, recording
/// what it received first (for checking the health request).
struct FixedReplyServer {
    let channel: any Channel
    let port: Int
    private let received: NIOLockedValueBox<[String]>

    func requests() -> [String] { received.withLockedValue { $0 } }

    static func start(group: any EventLoopGroup, reply: String) async throws -> FixedReplyServer {
        let received = NIOLockedValueBox<[String]>([])
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyHandler(reply: reply, received: received))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FixedReplyServer(channel: channel, port: channel.localAddress?.port ?? 0, received: received)
    }

    func close() async throws { try await channel.close() }
}

private final class ReplyHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let reply: String
    let received: NIOLockedValueBox<[String]>

    init(reply: String, received: NIOLockedValueBox<[String]>) {
        self.reply = reply
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        received.withLockedValue { $0.append(String(buffer: bytes)) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(string: reply))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
