import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TacetHTTP
import TacetTestSupport

/// An upstream that accepts `Upgrade: echo`: answers 101 (with `greeting` in the same write),
/// then echoes bytes; on the proxy's FIN it sends "bye" and its own FIN (`silentAfterFIN`: it
/// sends nothing and keeps its side open), or (`resetAfterEcho`) resets after its first echo.
final class UpgradeBackend: Stoppable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let channel: any Channel
    let port: Int
    let recorder = Recorder()

    init(resetAfterEcho: Bool = false, greeting: String = "", silentAfterFIN: Bool = false) async throws {
        let recorder = self.recorder
        channel = try await ServerBootstrap(group: group)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        EchoUpgradeHandler(recorder: recorder, resetAfterEcho: resetAfterEcho,
                                           greeting: greeting, silentAfterFIN: silentAfterFIN))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class EchoUpgradeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let recorder: Recorder
    let resetAfterEcho: Bool
    let greeting: String
    let silentAfterFIN: Bool
    var head = ""
    var upgraded = false

    init(recorder: Recorder, resetAfterEcho: Bool, greeting: String, silentAfterFIN: Bool) {
        self.recorder = recorder
        self.resetAfterEcho = resetAfterEcho
        self.greeting = greeting
        self.silentAfterFIN = silentAfterFIN
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if !upgraded {
            head += buffer.readString(length: buffer.readableBytes) ?? ""
            guard let end = head.range(of: "\r\n\r\n") else { return }
            recorder.add("request " + head[..<end.lowerBound].split(separator: "\r\n").joined(separator: "|"))
            let rest = String(head[end.upperBound...])
            upgraded = true
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string:
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n" + greeting)), promise: nil)
            if !rest.isEmpty { echo(context, ByteBuffer(string: rest)) }
            return
        }
        echo(context, buffer)
    }

    func echo(_ context: ChannelHandlerContext, _ buffer: ByteBuffer) {
        recorder.add("echo \(String(buffer: buffer))")
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        if resetAfterEcho {
            context.channel.setResetOnClose()
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            recorder.add("fin")
            if silentAfterFIN { return }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "bye")), promise: nil)
            context.close(mode: .output, promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        recorder.add("closed")
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        recorder.add("error")
        context.close(promise: nil)
    }
}
