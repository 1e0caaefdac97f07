import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TacetTestSupport

/// An origin for cache tests, cache-tests style: `answer` scripts each response from the request
/// head (status, fields, body), and may hold part of it (`gated`: the head and the first half go
/// out, the rest when the test calls `release()`) or cut it short (Content-Length promised, half
/// sent, then the connection closed). Records every request head, and lets a test wait until
/// `count` have arrived.
final class CacheOrigin: Stoppable {
    struct Answer: Sendable {
        var status = 200
        var fields: [String] = []
        var body = "origin body"
        var gated = false
        var cutShort = false
        /// Chunked instead of Content-Length.
        var chunked = false
        /// Nothing at all until `release()`.
        var held = false

        init(status: Int = 200, _ fields: [String] = [], body: String = "origin body", gated: Bool = false,
             cutShort: Bool = false, chunked: Bool = false) {
            self.status = status
            self.fields = fields
            self.body = body
            self.gated = gated
            self.cutShort = cutShort
            self.chunked = chunked
        }

        static func held(_ answer: Answer) -> Answer {
            var answer = answer
            answer.held = true
            return answer
        }
    }

    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let channel: any Channel
    let port: Int
    private let state: NIOLockedValueBox<(heads: [String], held: [(any Channel, ByteBuffer)], released: Bool,
                                          waiting: [(Int, EventLoopPromise<Void>)])>
    let answer: @Sendable (String) -> Answer

    init(_ answer: @escaping @Sendable (String) -> Answer) async throws {
        self.answer = answer
        state = NIOLockedValueBox((heads: [], held: [], released: false, waiting: []))
        let box = NIOLockedValueBox<CacheOrigin?>(nil)
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CacheOriginHandler(origin: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        box.withLockedValue { $0 = self }
    }

    var heads: [String] { state.withLockedValue { $0.heads } }
    var count: Int { state.withLockedValue { $0.heads.count } }

    /// Resolves once `count` requests have arrived.
    func arrived(_ count: Int) async throws {
        let promise = group.next().makePromise(of: Void.self)
        let done = state.withLockedValue { s in
            if s.heads.count >= count { return true }
            s.waiting.append((count, promise))
            return false
        }
        if done { promise.succeed() }
        try await promise.futureResult.get()
    }

    /// Sends the held second halves, and every later gated answer whole.
    func release() {
        let held = state.withLockedValue { s in
            s.released = true
            defer { s.held = [] }
            return s.held
        }
        for (channel, rest) in held { channel.writeAndFlush(rest, promise: nil) }
    }

    fileprivate func received(_ head: String) -> Answer {
        let ready = state.withLockedValue { s in
            s.heads.append(head)
            let n = s.heads.count
            let ready = s.waiting.filter { $0.0 <= n }.map(\.1)
            s.waiting.removeAll { $0.0 <= n }
            return ready
        }
        for promise in ready { promise.succeed() }
        return answer(head)
    }

    /// Holds `rest` for `release()`; false when already released (send it now).
    fileprivate func hold(_ channel: any Channel, _ rest: ByteBuffer) -> Bool {
        state.withLockedValue { s in
            if s.released { return false }
            s.held.append((channel, rest))
            return true
        }
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class CacheOriginHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let origin: NIOLockedValueBox<CacheOrigin?>
    var pending = ""

    init(origin: NIOLockedValueBox<CacheOrigin?>) {
        self.origin = origin
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending += String(buffer: unwrapInboundIn(data))
        while let end = pending.range(of: "\r\n\r\n") {
            let head = String(pending[..<end.lowerBound])
            pending = String(pending[end.upperBound...])
            guard let origin = origin.withLockedValue({ $0 }) else { return }
            respond(origin.received(head), head: head, context: context, origin: origin)
        }
    }

    private func respond(_ answer: CacheOrigin.Answer, head: String, context: ChannelHandlerContext, origin: CacheOrigin) {
        let isHEAD = head.hasPrefix("HEAD ")
        var text = "HTTP/1.1 \(answer.status) X\r\n" + answer.fields.map { $0 + "\r\n" }.joined()
        let noBody = answer.status == 304 || answer.status == 204
        let body = Array(answer.body.utf8)
        if answer.chunked && !noBody {
            text += "Transfer-Encoding: chunked\r\n\r\n"
        } else if !noBody {
            text += "Content-Length: \(body.count)\r\n\r\n"
        } else {
            text += "\r\n"
        }
        var first = ByteBuffer(string: text)
        var rest = ByteBuffer()
        if !isHEAD && !noBody {
            let half = body.count / 2
            func framed(_ part: ArraySlice<UInt8>, last: Bool) -> ByteBuffer {
                guard answer.chunked else { return ByteBuffer(bytes: part) }
                var b = ByteBuffer()
                if !part.isEmpty { b.writeString(String(part.count, radix: 16) + "\r\n"); b.writeBytes(part); b.writeString("\r\n") }
                if last { b.writeString("0\r\n\r\n") }
                return b
            }
            if answer.gated || answer.cutShort {
                var a = framed(body[..<half], last: false)
                first.writeBuffer(&a)
                rest = framed(body[half...], last: true)
            } else {
                var all = framed(body[...], last: true)
                first.writeBuffer(&all)
            }
        }
        if answer.held {
            var whole = first
            whole.writeImmutableBuffer(rest)
            if !origin.hold(context.channel, whole) { context.writeAndFlush(wrapOutboundOut(whole), promise: nil) }
            return
        }
        context.writeAndFlush(wrapOutboundOut(first), promise: nil)
        if answer.cutShort {
            context.close(promise: nil)
        } else if answer.gated, !origin.hold(context.channel, rest) {
            context.writeAndFlush(wrapOutboundOut(rest), promise: nil)
        }
    }
}
