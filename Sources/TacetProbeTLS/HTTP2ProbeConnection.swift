import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS
import TacetProbe
import TacetTunnel

/// One HTTP/2 connection for `tacet probe --http2`, at the frame level (NIOHTTP2 in client mode,
/// no multiplexer): it sends exactly the frames a scenario needs (HEADERS with END_STREAM,
/// RST_STREAM) and can end the connection with a TCP FIN (over TLS: `close_notify`), and it
/// keeps every frame the server sent, stamped in ms since connect. Blocking calls, each bounded.
final class HTTP2ProbeConnection: Sendable {
    private let channel: any Channel
    private let recorder: ProbeFrameRecorder
    private let authority: String

    static func connect(_ target: HTTPTarget, trust: TLSRelay.Trust, group: any EventLoopGroup,
                        timeout: Double) throws -> HTTP2ProbeConnection {
        let recorder = ProbeFrameRecorder()
        let context: NIOSSLContext? = target.isTLS ? try NIOSSLContext(configuration: trust.clientConfiguration(alpn: ["h2"])) : nil
        let serverName = (try? SocketAddress(ipAddress: target.host, port: 0)) == nil ? target.host : nil
        let channel: any Channel
        do {
            channel = try ClientBootstrap(group: group)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .connectTimeout(.milliseconds(Int64(timeout * 1000)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(SocketEnd())
                        if let context {
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
                        }
                        try channel.pipeline.syncOperations.addHandlers([NIOHTTP2Handler(mode: .client), recorder])
                    }
                }
                .connect(host: target.host, port: target.port).wait()
        } catch {
            throw ProbeError("cannot connect to \(target.host):\(target.port): \(error)")
        }
        let connection = HTTP2ProbeConnection(channel: channel, recorder: recorder, authority: target.hostHeader)
        // The server's SETTINGS is its half of the connection preface: without it, no HTTP/2.
        guard connection.wait(timeout: timeout, until: { $0.frames.contains { $0.frame.streamID == .rootStream } }) else {
            channel.close(promise: nil)
            if let alpn = recorder.alpn, alpn != "h2" {
                throw ProbeError("the server does not speak HTTP/2 here (ALPN chose \(alpn))")
            }
            throw ProbeError("no HTTP/2 connection preface from the server within \(timeout) s\(recorder.failure.map { ": \($0)" } ?? "")")
        }
        return connection
    }

    private init(channel: any Channel, recorder: ProbeFrameRecorder, authority: String) {
        self.channel = channel
        self.recorder = recorder
        self.authority = authority
    }

    var elapsedMs: Double { recorder.elapsedMs }

    func request(stream: Int, method: String, path: String, scheme: String) throws {
        let headers = HPACKHeaders([(":method", method), (":scheme", scheme), (":path", path), (":authority", authority),
                                    ("user-agent", "tacet-probe")])
        try send(HTTP2Frame(streamID: HTTP2StreamID(stream), payload: .headers(.init(headers: headers, endStream: true))))
    }

    func reset(stream: Int) throws {
        try send(HTTP2Frame(streamID: HTTP2StreamID(stream), payload: .rstStream(.cancel)))
    }

    /// TCP FIN, or over TLS `close_notify` then FIN: the client sends nothing more.
    func finish() throws {
        try channel.close(mode: .output).wait()
    }

    /// At the socket: a close through NIOSSL would wait (up to 5 s) for the server's close_notify.
    func close() { channel.closeBelowTLS() }

    private func send(_ frame: HTTP2Frame) throws {
        try channel.writeAndFlush(frame).wait()
    }

    /// Waits until `done` holds for what came in (or the connection ended), at most `timeout` s.
    @discardableResult
    func wait(timeout: Double, until done: @escaping @Sendable (ProbeFrameRecorder.Snapshot) -> Bool) -> Bool {
        let promise = channel.eventLoop.makePromise(of: Bool.self)
        recorder.watch { snapshot in
            if done(snapshot) { promise.succeed(true); return true }
            if snapshot.closed { promise.succeed(false); return true }
            return false
        }
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) { promise.succeed(false) }
        let result = (try? promise.futureResult.wait()) ?? false
        timer.cancel()
        return result
    }

    var snapshot: ProbeFrameRecorder.Snapshot { recorder.snapshot }
}

/// Every inbound frame with its time, and whether the connection ended; credit is given back for
/// each DATA frame (no multiplexer here does it), so a large answer is not held at 64 KiB.
final class ProbeFrameRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTP2Frame

    struct Snapshot: Sendable {
        var frames: [(ms: Double, frame: HTTP2Frame)] = []
        var closed = false
        var closedAtMs: Double?

        /// What the server sent on `stream`.
        func stream(_ id: Int) -> [(ms: Double, frame: HTTP2Frame)] { frames.filter { $0.frame.streamID == HTTP2StreamID(id) } }
    }

    private struct State {
        var snapshot = Snapshot()
        var watchers: [@Sendable (Snapshot) -> Bool] = []
        var alpn: String?
        var failure: String?
    }
    private let state = NIOLockedValueBox(State())
    private let start = NIODeadline.now()

    var elapsedMs: Double { Double((NIODeadline.now() - start).nanoseconds) / 1_000_000 }
    var snapshot: Snapshot { state.withLockedValue { $0.snapshot } }
    var alpn: String? { state.withLockedValue { $0.alpn } }
    var failure: String? { state.withLockedValue { $0.failure } }

    func watch(_ check: @escaping @Sendable (Snapshot) -> Bool) {
        state.withLockedValue { $0.watchers.append(check) }
        notify()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let ms = elapsedMs
        state.withLockedValue { $0.snapshot.frames.append((ms, frame)) }
        if case .data(let payload) = frame.payload, payload.data.readableBytes > 0 {
            let size = payload.data.readableBytes
            if !payload.endStream {
                context.write(NIOAny(HTTP2Frame(streamID: frame.streamID, payload: .windowUpdate(windowSizeIncrement: size))), promise: nil)
            }
            context.writeAndFlush(NIOAny(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: size))), promise: nil)
        }
        notify()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            state.withLockedValue { $0.alpn = negotiated ?? "none" }
        }
        if case ChannelEvent.inputClosed = event { ended() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        state.withLockedValue { if $0.failure == nil { $0.failure = "\(error)" } }
    }

    func channelInactive(context: ChannelHandlerContext) { ended() }

    private func ended() {
        let ms = elapsedMs
        state.withLockedValue { s in
            if !s.snapshot.closed { s.snapshot.closed = true; s.snapshot.closedAtMs = ms }
        }
        notify()
    }

    private func notify() {
        let (snapshot, watchers) = state.withLockedValue { s in
            defer { s.watchers = [] }
            return (s.snapshot, s.watchers)
        }
        let remaining = watchers.filter { !$0(snapshot) }
        if !remaining.isEmpty { state.withLockedValue { $0.watchers += remaining } }
    }
}
