import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import TacetTestSupport

/// An HTTP/2 client that works at the frame level (NIOHTTP2 in client mode, no multiplexer), so a
/// test can send exactly the frames a client might (HEADERS with or without END_STREAM, DATA,
/// RST_STREAM, GOAWAY), end the TCP connection (or TLS, with `close_notify`) at any moment,
/// and see every frame the server sent.
final class HTTP2TestClient: Sendable {
    let channel: any Channel
    private let recorder: FrameRecorder

    /// Over TLS (ALPN h2) when `trusting` is given, else plain (prior knowledge).
    static func connect(port: Int, trusting: [NIOSSLCertificate]? = nil, serverName: String = "localhost",
                        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> HTTP2TestClient {
        let recorder = FrameRecorder()
        let context: NIOSSLContext? = try trusting.map { trusting in
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .certificates(trusting)
            configuration.applicationProtocols = ["h2"]
            return try NIOSSLContext(configuration: configuration)
        }
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHandlers([NIOHTTP2Handler(mode: .client), recorder])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return HTTP2TestClient(channel: channel, recorder: recorder)
    }

    private init(channel: any Channel, recorder: FrameRecorder) {
        self.channel = channel
        self.recorder = recorder
    }

    func send(_ frames: HTTP2Frame...) async throws {
        for frame in frames { try await channel.writeAndFlush(frame).get() }
    }

    /// A request's HEADERS on `stream` (odd: 1, 3, 5...).
    func request(_ stream: Int, _ path: String, method: String = "GET", extra: [(String, String)] = [],
                 endStream: Bool = true, authority: String = "localhost") async throws {
        let headers = HPACKHeaders([(":method", method), (":scheme", "https"), (":path", path), (":authority", authority)] + extra)
        try await send(HTTP2Frame(streamID: HTTP2StreamID(stream), payload: .headers(.init(headers: headers, endStream: endStream))))
    }

    func data(_ stream: Int, _ text: String, endStream: Bool) async throws {
        try await send(HTTP2Frame(streamID: HTTP2StreamID(stream),
                                  payload: .data(.init(data: .byteBuffer(ByteBuffer(string: text)), endStream: endStream))))
    }

    /// `total` bytes of body on `stream` in DATA frames of `frameSize`, the last with END_STREAM,
    /// written without waiting: NIOHTTP2 holds what the server's windows do not yet allow.
    func writeBody(_ stream: Int, total: Int, frameSize: Int) {
        var sent = 0
        while sent < total {
            let size = min(frameSize, total - sent)
            sent += size
            let payload = HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(repeating: 0x61, count: size)),
                                                             endStream: sent == total))
            channel.write(HTTP2Frame(streamID: HTTP2StreamID(stream), payload: payload), promise: nil)
        }
        channel.flush()
    }

    func reset(_ stream: Int, _ code: HTTP2ErrorCode = .cancel) async throws {
        try await send(HTTP2Frame(streamID: HTTP2StreamID(stream), payload: .rstStream(code)))
    }

    /// TCP FIN (over TLS: `close_notify` then FIN), the connection still read.
    func finish() async throws { try await channel.close(mode: .output).get() }

    /// Closes without awaiting NIOSSL's own shutdown: a client NIOSSL handler that sent
    /// `close_notify` from `close()` waits out its shutdown timeout (5 s) for the server's.
    func close() async { channel.close(promise: nil) }

    /// What the server sent on `stream` so far.
    func response(_ stream: Int) -> StreamResponse { StreamResponse(frames: recorder.frames.filter { $0.streamID == HTTP2StreamID(stream) }) }

    var connectionFrames: [HTTP2Frame] { recorder.frames.filter { $0.streamID == .rootStream } }
    var isClosed: Bool { recorder.closed }

    /// Waits (up to `timeout` seconds) until `done` holds for what was received; false if it did not.
    @discardableResult
    func wait(timeout: Double = 30, until done: @escaping @Sendable (HTTP2TestClient) -> Bool) async -> Bool {
        let event = OneShot<Void>()
        recorder.watch { [self] in
            if done(self) { event.resolve(()); return true }
            return false
        }
        return (try? await event.value(timeout: timeout, failure: "condition not met")) != nil
    }

    /// Waits until `stream` ended (END_STREAM or RST_STREAM) or the connection closed.
    func waitForEnd(_ stream: Int, timeout: Double = 30) async -> StreamResponse {
        await wait(timeout: timeout) { $0.response(stream).ended || $0.isClosed }
        return response(stream)
    }
}

/// The frames of one stream, read as a response.
struct StreamResponse {
    let frames: [HTTP2Frame]

    var headerBlocks: [HPACKHeaders] {
        frames.compactMap { if case .headers(let h) = $0.payload { return h.headers } else { return nil } }
    }
    /// The final status (interim 1xx skipped).
    var status: Int? {
        headerBlocks.compactMap { $0.first(name: ":status").flatMap(Int.init) }.first { $0 >= 200 }
    }
    var interimStatuses: [Int] {
        headerBlocks.compactMap { $0.first(name: ":status").flatMap(Int.init) }.filter { $0 < 200 }
    }
    var body: String {
        frames.reduce(into: "") { text, frame in
            if case .data(let d) = frame.payload, case .byteBuffer(let b) = d.data { text += String(buffer: b) }
        }
    }
    var bodyBytes: [UInt8] {
        frames.reduce(into: []) { bytes, frame in
            if case .data(let d) = frame.payload, case .byteBuffer(let b) = d.data { bytes += b.readableBytesView }
        }
    }
    var reset: HTTP2ErrorCode? {
        frames.lazy.compactMap { if case .rstStream(let code) = $0.payload { return code } else { return nil } }.first
    }
    var endedCleanly: Bool {
        frames.contains {
            switch $0.payload {
            case .headers(let h): return h.endStream
            case .data(let d): return d.endStream
            default: return false
            }
        }
    }
    var ended: Bool { endedCleanly || reset != nil }
}

/// Keeps every inbound frame and tells watchers after each.
private final class FrameRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTP2Frame
    private struct State {
        var frames: [HTTP2Frame] = []
        var closed = false
        var watchers: [@Sendable () -> Bool] = []
    }
    private let state = NIOLockedValueBox(State())

    var frames: [HTTP2Frame] { state.withLockedValue { $0.frames } }
    var closed: Bool { state.withLockedValue { $0.closed } }

    func watch(_ check: @escaping @Sendable () -> Bool) {
        if check() { return }
        state.withLockedValue { $0.watchers.append(check) }
        notify()  // a frame may have come in between
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        state.withLockedValue { $0.frames.append(frame) }
        // No multiplexer here to give flow-control credit back: what was read is returned at
        // once, stream and connection, so downloads are not held at the first 64 KiB.
        if case .data(let payload) = frame.payload, payload.data.readableBytes > 0 {
            let size = payload.data.readableBytes
            if !payload.endStream {
                context.write(NIOAny(HTTP2Frame(streamID: frame.streamID, payload: .windowUpdate(windowSizeIncrement: size))), promise: nil)
            }
            context.writeAndFlush(NIOAny(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: size))), promise: nil)
        }
        notify()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.withLockedValue { $0.closed = true }
        notify()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            state.withLockedValue { $0.closed = true }
            notify()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}

    private func notify() {
        let watchers = state.withLockedValue { s -> [@Sendable () -> Bool] in
            defer { s.watchers = [] }
            return s.watchers
        }
        let remaining = watchers.filter { !$0() }
        if !remaining.isEmpty { state.withLockedValue { $0.watchers += remaining } }
    }
}
