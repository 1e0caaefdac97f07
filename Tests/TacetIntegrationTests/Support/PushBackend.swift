import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TacetTestSupport

/// An upstream whose response the test writes piece by piece: each `write` is one write and
/// flush on the connection that sent the request, so a test can send an event, wait for the
/// client to see it, then send the next (no delays). Answers one request per connection.
final class PushBackend: Stoppable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let channel: any Channel
    let port: Int
    private let requests = NIOLockedValueBox<(heads: [String], waiting: [EventLoopPromise<any Channel>], ready: [any Channel])>(([], [], []))

    init() async throws {
        let box = NIOLockedValueBox<PushBackend?>(nil)
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(PushHandler(backend: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        box.withLockedValue { $0 = self }
    }

    /// The request heads received so far, as text.
    var heads: [String] { requests.withLockedValue { $0.heads } }

    /// The connection of the next request whose head arrived (waits for it).
    func nextRequest() async throws -> any Channel {
        let promise = group.next().makePromise(of: (any Channel).self)
        let ready: (any Channel)? = requests.withLockedValue { state in
            if !state.ready.isEmpty { return state.ready.removeFirst() }
            state.waiting.append(promise)
            return nil
        }
        if let ready { promise.succeed(ready) }
        return try await promise.futureResult.get()
    }

    fileprivate func received(_ head: String, on channel: any Channel) {
        let waiter: EventLoopPromise<any Channel>? = requests.withLockedValue { state in
            state.heads.append(head)
            if state.waiting.isEmpty {
                state.ready.append(channel)
                return nil
            }
            return state.waiting.removeFirst()
        }
        waiter?.succeed(channel)
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

extension Channel {
    /// One write of `bytes`, flushed, done when it has gone to the socket.
    func push(_ bytes: [UInt8]) async throws {
        try await writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    func push(_ text: String) async throws { try await push(Array(text.utf8)) }

    /// `text` as one chunk of a chunked body.
    func pushChunk(_ bytes: [UInt8]) async throws {
        try await push(Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10])
    }
}

private final class PushHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let backend: NIOLockedValueBox<PushBackend?>
    private let buffered = NIOLockedValueBox("")

    init(backend: NIOLockedValueBox<PushBackend?>) { self.backend = backend }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let text = String(buffer: unwrapInboundIn(data))
        let head: String? = buffered.withLockedValue { buffered in
            buffered += text
            guard let end = buffered.range(of: "\r\n\r\n") else { return nil }
            let head = String(buffered[..<end.upperBound])
            buffered = String(buffered[end.upperBound...])
            return head
        }
        if let head { backend.withLockedValue { $0 }?.received(head, on: context.channel) }
    }
}
