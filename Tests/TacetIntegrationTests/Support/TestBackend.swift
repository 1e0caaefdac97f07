import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import TacetTestSupport

/// An upstream for proxy tests, on 127.0.0.1:0. Answers each request after `delay`, or only
/// when the test calls `release()` (`gated`), and records what it saw: "request GET /x",
/// "body N", "answered /x", "gone /x" (its client closed before it answered), "connection".
final class TestBackend: Stoppable {
    enum Timing: Sendable { case immediate, delay(TimeAmount), gated }
    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    let port: Int
    let recorder = Recorder()
    let timing: Timing
    /// What to answer: status, body; `truncateAfter` cuts the body short and closes.
    struct Answer: Sendable {
        var status: HTTPResponseStatus = .ok
        var body = "backend says hi\n"
        var chunked = false
        var truncateAfter: Int?
        var bodySize: Int?
        /// Requests for these paths are never answered.
        var silentPaths: [String] = []
    }
    let answer: Answer
    private let gate = NIOLockedValueBox<(open: Bool, waiting: [(any EventLoop, @Sendable () -> Void)])>((false, []))

    init(timing: Timing = .immediate, answer: Answer = Answer()) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        self.timing = timing
        self.answer = answer
        let box = NIOLockedValueBox<TestBackend?>(nil)
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false)
                    try channel.pipeline.syncOperations.addHandler(BackendHandler(backend: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        box.withLockedValue { $0 = self }
    }

    func release() {
        let waiting = gate.withLockedValue { g in
            g.open = true
            defer { g.waiting.removeAll() }
            return g.waiting
        }
        for (loop, work) in waiting { loop.execute(work) }
    }

    fileprivate func schedule(on loop: any EventLoop, _ work: @escaping @Sendable () -> Void) {
        switch timing {
        case .immediate:
            work()
        case .delay(let amount):
            loop.scheduleTask(in: amount, work)
        case .gated:
            let open = gate.withLockedValue { g in
                if !g.open { g.waiting.append((loop, work)) }
                return g.open
            }
            if open { work() }
        }
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class BackendHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let backend: NIOLockedValueBox<TestBackend?>
    var uri = ""
    var bodyBytes = 0
    var answered = true

    init(backend: NIOLockedValueBox<TestBackend?>) { self.backend = backend }

    func channelActive(context: ChannelHandlerContext) {
        backend.withLockedValue { $0 }?.recorder.add("connection")
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let backend = backend.withLockedValue({ $0 }) else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            uri = head.uri
            bodyBytes = 0
            answered = false
            var line = "request \(head.method.rawValue) \(head.uri)"
            for name in ["x-forwarded-for", "via", "connection", "te", "x-hop", "expect"] {
                if let v = head.headers.first(name: name) { line += " \(name)=\(v)" }
            }
            backend.recorder.add(line)
            if let proto = head.headers.first(name: "x-forwarded-proto") { backend.recorder.add("proto \(proto) \(head.uri)") }
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            backend.recorder.add("body \(bodyBytes)")
            if backend.answer.silentPaths.contains(uri) { return }
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            backend.schedule(on: context.eventLoop) {
                let (handler, context) = loopBound.value
                handler.respond(context: context, backend: backend)
            }
        }
    }

    func respond(context: ChannelHandlerContext, backend: TestBackend) {
        guard context.channel.isActive, !answered else { return }
        answered = true
        backend.recorder.add("answered \(uri)")
        let a = backend.answer
        let body = a.bodySize.map { String(repeating: "z", count: $0) } ?? a.body
        var headers = HTTPHeaders()
        if a.chunked {
            headers.add(name: "Transfer-Encoding", value: "chunked")
        } else {
            headers.add(name: "Content-Length", value: String(body.utf8.count))
        }
        headers.add(name: "X-Hop", value: "1")
        headers.add(name: "Connection", value: "X-Hop")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: a.status, headers: headers))), promise: nil)
        if let cut = a.truncateAfter {
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: String(body.prefix(cut)))))), promise: nil)
            context.close(promise: nil)
            return
        }
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !answered { backend.withLockedValue { $0 }?.recorder.add("gone \(uri)") }
        context.fireChannelInactive()
    }
}
