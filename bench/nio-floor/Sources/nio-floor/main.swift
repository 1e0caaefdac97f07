import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// `nio-floor fixed PORT THREADS`: answers every request head ("\r\n\r\n") with one constant
/// response, flushed once per read. No parser, no router, no timers: NIO's own cost per request.
///
/// `nio-floor stream PORT THREADS UPSTREAM_PORT`: the same, with half-close passed on (a FIN
/// becomes a FIN to the other side): the least a TCP stream proxy on NIO can do per connection.
///
/// With `REUSEPORT=1` in the environment the listening socket sets SO_REUSEPORT, so that several
/// single-threaded processes can share one port (nginx's `listen ... reuseport`): to tell the
/// cost of threads in one process from that of event loops as such.
///
/// `nio-floor proxy PORT THREADS UPSTREAM_PORT`: each client connection gets its own upstream
/// connection on the same event loop, opened at accept, and bytes go both ways unparsed. The least
/// an HTTP proxy on NIO can do per request (Tacet parses, pools and rewrites on top of this).

final class FixedHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    static let response: StaticString = "HTTP/1.1 200 OK\r\nServer: floor\r\nDate: Thu, 26 Nov 2026 04:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n"
    /// How many bytes of "\r\n\r\n" the previous read ended with.
    private var matched = 0
    private var pendingWrite = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        var heads = 0
        bytes.withUnsafeReadableBytes { raw in
            for byte in raw {
                switch (matched, byte) {
                case (0, 13), (2, 13): matched += 1
                case (1, 10): matched = 2
                case (3, 10): heads += 1; matched = 0
                case (_, 13): matched = 1
                default: matched = 0
                }
            }
        }
        guard heads > 0 else { return }
        var out = context.channel.allocator.buffer(capacity: Self.response.utf8CodeUnitCount * heads)
        for _ in 0..<heads { out.writeStaticString(Self.response) }
        context.write(wrapOutboundOut(out), promise: nil)
        pendingWrite = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if pendingWrite {
            pendingWrite = false
            context.flush()
        }
    }
}

/// One side of a glued pair: what it reads is written to the partner; flush per read batch.
final class GlueHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var partner: GlueHandler?
    var context: ChannelHandlerContext?
    private var pendingFlush = false

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil; partner = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.context?.write(data, promise: nil)
        partner?.pendingFlush = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard let partner, partner.pendingFlush else { return }
        partner.pendingFlush = false
        partner.context?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.context?.close(promise: nil)
    }

    /// `stream` mode: the FIN goes on to the partner; when both sides have sent theirs, close.
    private var inputClosed = false
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else { return }
        inputClosed = true
        guard let partner, let partnerContext = partner.context else { return }
        if partner.inputClosed {
            partnerContext.close(promise: nil)
            context.close(promise: nil)
        } else {
            partnerContext.close(mode: .output, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

let args = CommandLine.arguments
guard args.count >= 4, let port = Int(args[2]), let threads = Int(args[3]) else {
    print("usage: nio-floor fixed PORT THREADS | nio-floor proxy|stream PORT THREADS UPSTREAM_PORT")
    exit(2)
}
let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let mode = args[1]
let upstreamPort = args.count > 4 ? Int(args[4]) ?? 0 : 0
let upstreamAddress = try SocketAddress(ipAddress: "127.0.0.1", port: upstreamPort)

let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .serverChannelOption(ChannelOptions.Types.SocketOption(level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET), name: NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: getenv("REUSEPORT") == nil ? 0 : 1)
    .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
    .childChannelOption(.allowRemoteHalfClosure, value: mode == "stream")
    .childChannelInitializer { channel in
        if mode == "fixed" {
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(FixedHandler())
            }
        }
        // proxy, stream: connect on the client's loop, glue, then start reading the client.
        let client = GlueHandler()
        let upstream = GlueHandler()
        client.partner = upstream
        upstream.partner = client
        let handlers = NIOLoopBound((client, upstream), eventLoop: channel.eventLoop)
        return ClientBootstrap(group: channel.eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: mode == "stream")
            .channelInitializer { up in
                up.eventLoop.makeCompletedFuture { try up.pipeline.syncOperations.addHandler(handlers.value.1) }
            }
            .connect(to: upstreamAddress)
            .flatMapThrowing { _ in try channel.pipeline.syncOperations.addHandler(handlers.value.0) }
    }
let server = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
print("nio-floor \(mode) on \(server.localAddress.map { "\($0)" } ?? "?") with \(threads) threads")
try server.closeFuture.wait()
