import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TacetTestSupport

/// An authentication service for `auth.request` tests (oauth2-proxy's /oauth2/auth, in short):
/// the session cookie decides. `session=good` is 200 with X-Auth-Request-User and -Email;
/// `session=forbidden` 403; `session=broken` 500; `session=slow` never answered; `session=gated`
/// answered 200 only once the test calls `release()`; anything else 401 with a challenge.
/// Records each request head.
final class AuthService: Stoppable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let channel: any Channel
    let port: Int
    private let state = NIOLockedValueBox((heads: [String](), gated: [(any Channel)](), seenGated: [EventLoopPromise<Void>](),
                                           closed: 0, waitingClose: [EventLoopPromise<Void>]()))

    init() async throws {
        let box = NIOLockedValueBox<AuthService?>(nil)
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AuthServiceHandler(service: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        box.withLockedValue { $0 = self }
    }

    var heads: [String] { state.withLockedValue { $0.heads } }

    /// Resolves once a `session=gated` request has arrived (and is held).
    func gatedArrived() async throws {
        let promise = group.next().makePromise(of: Void.self)
        let already = state.withLockedValue { s in
            if !s.gated.isEmpty { return true }
            s.seenGated.append(promise)
            return false
        }
        if already { promise.succeed() }
        try await promise.futureResult.get()
    }

    /// Resolves once a connection to the service has been closed (by Tacet).
    func connectionClosed() async throws {
        let promise = group.next().makePromise(of: Void.self)
        let already = state.withLockedValue { s in
            if s.closed > 0 { return true }
            s.waitingClose.append(promise)
            return false
        }
        if already { promise.succeed() }
        try await promise.futureResult.get()
    }

    fileprivate func closed() {
        let waiting = state.withLockedValue { s in
            s.closed += 1
            defer { s.waitingClose = [] }
            return s.waitingClose
        }
        for promise in waiting { promise.succeed() }
    }

    func release() {
        let held = state.withLockedValue { s in
            defer { s.gated = [] }
            return s.gated
        }
        for channel in held {
            channel.writeAndFlush(ByteBuffer(string: "HTTP/1.1 200 OK\r\nX-Auth-Request-User: gated\r\nContent-Length: 0\r\n\r\n"), promise: nil)
        }
    }

    fileprivate func received(_ head: String, on channel: any Channel) -> String? {
        let cookie = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("cookie:") }.map(String.init) ?? ""
        var waiting: [EventLoopPromise<Void>] = []
        let reply: String? = state.withLockedValue { s in
            s.heads.append(head)
            if cookie.contains("session=good") {
                return "HTTP/1.1 202 Accepted\r\nX-Auth-Request-User: alice\r\nX-Auth-Request-Email: alice@example.com\r\nContent-Length: 0\r\n\r\n"
            }
            if cookie.contains("session=forbidden") { return "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nnot you" }
            if cookie.contains("session=broken") { return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n" }
            if cookie.contains("session=slow") { return nil }
            if cookie.contains("session=gated") {
                s.gated.append(channel)
                waiting = s.seenGated
                s.seenGated = []
                return nil
            }
            return "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"sso\"\r\nContent-Length: 12\r\n\r\nsign in here"
        }
        for promise in waiting { promise.succeed() }
        return reply
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class AuthServiceHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let service: NIOLockedValueBox<AuthService?>
    var buffered = ""

    init(service: NIOLockedValueBox<AuthService?>) { self.service = service }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let service = service.withLockedValue({ $0 }) else { return }
        buffered += String(buffer: unwrapInboundIn(data))
        while let end = buffered.range(of: "\r\n\r\n") {
            let head = String(buffered[..<end.lowerBound])
            buffered = String(buffered[end.upperBound...])
            if let reply = service.received(head, on: context.channel) {
                context.writeAndFlush(NIOAny(ByteBuffer(string: reply)), promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        service.withLockedValue { $0 }?.closed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
