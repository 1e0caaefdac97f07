import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TacetTestSupport

/// An upstream that answers each request head (no bodies) with the exact bytes a test scripts,
/// however wrong: the k-th request on any connection gets `replies[k]` (the last one repeats),
/// written in one write, or in two (`then`) when the second part must come in a later segment.
/// Records connections and requests, and lets a test wait until Tacet closes a connection.
final class ScriptedBackend: Stoppable {
    struct Reply: Sendable {
        var bytes: String
        /// Written once the first write has gone out: a separate TCP segment.
        var then: String? = nil
    }

    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let channel: any Channel
    let port: Int
    let replies: [Reply]
    private let state = NIOLockedValueBox((connections: 0, requests: [String](), heads: [String](), closed: 0,
                                           waiting: [(Int, EventLoopPromise<Void>)]()))

    init(_ replies: [Reply]) async throws {
        self.replies = replies
        let box = NIOLockedValueBox<ScriptedBackend?>(nil)
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ScriptedHandler(backend: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        box.withLockedValue { $0 = self }
    }

    convenience init(_ replies: String...) async throws {
        try await self.init(replies.map { Reply(bytes: $0) })
    }

    var connections: Int { state.withLockedValue { $0.connections } }
    var requests: [String] { state.withLockedValue { $0.requests } }
    /// Each request's whole head, as it arrived.
    var heads: [String] { state.withLockedValue { $0.heads } }

    /// Resolves once `count` connections have been closed by Tacet (or ended otherwise).
    func closed(count: Int) async throws {
        let promise = group.next().makePromise(of: Void.self)
        let done = state.withLockedValue { s in
            if s.closed >= count { return true }
            s.waiting.append((count, promise))
            return false
        }
        if done { promise.succeed() }
        try await promise.futureResult.get()
    }

    fileprivate func opened() { state.withLockedValue { $0.connections += 1 } }
    fileprivate func request(_ head: String) -> Int {
        state.withLockedValue { s in
            s.requests.append(String(head.prefix { $0 != "\r" }))
            s.heads.append(head)
            return s.requests.count
        }
    }
    fileprivate func connectionClosed() {
        let ready = state.withLockedValue { s in
            s.closed += 1
            let n = s.closed
            let ready = s.waiting.filter { $0.0 <= n }.map(\.1)
            s.waiting.removeAll { $0.0 <= n }
            return ready
        }
        for promise in ready { promise.succeed() }
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class ScriptedHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let backend: NIOLockedValueBox<ScriptedBackend?>
    var buffered = ""
    var answered = 0

    init(backend: NIOLockedValueBox<ScriptedBackend?>) { self.backend = backend }

    func channelActive(context: ChannelHandlerContext) {
        backend.withLockedValue { $0 }?.opened()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let backend = backend.withLockedValue({ $0 }) else { return }
        buffered += String(buffer: unwrapInboundIn(data))
        while let end = buffered.range(of: "\r\n\r\n") {
            let head = String(buffered[..<end.lowerBound])
            buffered = String(buffered[end.upperBound...])
            _ = backend.request(head)
            let reply = backend.replies[min(answered, backend.replies.count - 1)]
            answered += 1
            let first = context.channel.writeAndFlush(ByteBuffer(string: reply.bytes))
            if let then = reply.then {
                let channel = context.channel
                first.whenSuccess { channel.writeAndFlush(ByteBuffer(string: then), promise: nil) }
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        backend.withLockedValue { $0 }?.connectionClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
