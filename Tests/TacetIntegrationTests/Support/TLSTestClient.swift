import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import TacetTestSupport
import TacetTunnel

/// A TLS client for the half-close tests, on NIO: it can end its side with `close_notify` alone,
/// `close_notify` then a TCP FIN, a bare TCP FIN (no `close_notify`), or an RST, and it records
/// the decrypted bytes and how the server ended: with `close_notify`, a bare FIN, or an RST.
final class TLSTestClient: Sendable {
    enum End: Equatable, Sendable {
        /// The server's `close_notify` (then its FIN).
        case closeNotify
        /// A TCP FIN without `close_notify`.
        case uncleanFIN
        case reset
        /// Not ended within the wait.
        case open
    }

    let channel: any Channel
    private let collector: Collector

    /// Trusts `trusting` and checks the server's certificate against `serverName` (also SNI).
    static func connect(port: Int, serverName: String, trusting: [NIOSSLCertificate],
                        maximumVersion: TLSVersion? = nil, group: any EventLoopGroup) async throws -> TLSTestClient {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if trusting.isEmpty {
            configuration.certificateVerification = .none  // a certificate nobody vouches for (--https)
        } else {
            configuration.trustRoots = .certificates(trusting)
        }
        configuration.maximumTLSVersion = maximumVersion
        configuration.applicationProtocols = ["http/1.1"]
        let context = try NIOSSLContext(configuration: configuration)
        let collector = Collector()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: serverName)
                    try channel.pipeline.syncOperations.addHandlers([RawEnd(), tls, collector])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await collector.handshake.futureResult(on: channel.eventLoop).get()
        return TLSTestClient(channel: channel, collector: collector)
    }

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// `close_notify`, then a TCP FIN unless `fin` is false.
    func closeNotify(fin: Bool = true) async throws {
        let channel = self.channel
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: RawEnd.self).holdFIN = !fin
        }.get()
        try await channel.close(mode: .output).get()
    }

    /// A TCP FIN with no `close_notify` before it.
    func bareFIN() async throws {
        let channel = self.channel
        try await channel.eventLoop.flatSubmit {
            do {
                return try channel.pipeline.syncOperations.handler(type: RawEnd.self).shutdownTCP()
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }.get()
    }

    func reset() {
        channel.resetNow()
    }

    /// The socket closed at once, both ways, with no `close_notify` (a process that exited): the
    /// client's kernel then answers whatever the server sends with an RST.
    func closeTCP() async throws {
        let channel = self.channel
        try await channel.eventLoop.flatSubmit {
            do {
                return try channel.pipeline.syncOperations.handler(type: RawEnd.self).closeAll()
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }.get()
    }

    /// Waits for the server to end (up to `timeout` seconds): the bytes it sent, and how.
    func readToEnd(timeout: Int64 = 10) async -> (text: String, end: End) {
        let loop = channel.eventLoop
        let deadline = loop.scheduleTask(in: .seconds(timeout)) {}
        let end = await withCheckedContinuation { (continuation: CheckedContinuation<End, Never>) in
            collector.onEnd(loop: loop) { continuation.resume(returning: $0) }
            deadline.futureResult.whenSuccess { self.collector.timedOut() }
        }
        deadline.cancel()
        return (collector.text, end)
    }

    /// Waits until the text received contains `marker` (or the time runs out): the collector
    /// announces it as it reads.
    func read(until marker: String, timeout: Int64 = 10) async -> String {
        let seen = collector.watch(for: marker)
        _ = try? await seen.value(timeout: Double(timeout), failure: "no '\(marker)' from the server")
        return collector.text
    }

    /// Closes without waiting for the end of NIOSSL's own shutdown: with half-closure allowed,
    /// a client NIOSSL handler that sent `close_notify` from `close()` does not finish on the
    /// server's answering `close_notify` and waits out its shutdown timeout (5 s).
    func close() async {
        channel.close(promise: nil)
    }
}

/// The handler nearest the socket: a FIN of its own (bypassing TLS), and, when asked, a TLS
/// `close_notify` without the FIN NIOSSL sends after it.
private final class RawEnd: ChannelOutboundHandler {
    typealias OutboundIn = Any
    var holdFIN = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .output && holdFIN {
            promise?.succeed(())
            return
        }
        context.close(mode: mode, promise: promise)
    }

    func closeAll() throws -> EventLoopFuture<Void> {
        guard let context else { throw ChannelError.ioOnClosedChannel }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .all, promise: promise)
        return promise.futureResult
    }

    func shutdownTCP() throws -> EventLoopFuture<Void> {
        guard let context else { throw ChannelError.ioOnClosedChannel }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .output, promise: promise)
        return promise.futureResult
    }
}

/// Collects what the server sends and how it ended.
private final class Collector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private struct State {
        var text = ""
        var end: TLSTestClient.End?
        var waiter: (@Sendable (TLSTestClient.End) -> Void)?
        var watches: [(marker: String, seen: OneShot<Void>)] = []
    }
    private let state = NIOLockedValueBox(State())
    let handshake = HandshakeWait()

    var text: String { state.withLockedValue { $0.text } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let seen = state.withLockedValue { s -> [OneShot<Void>] in
            s.text += String(buffer: bytes)
            let text = s.text
            let matched = s.watches.filter { text.contains($0.marker) }
            s.watches.removeAll { text.contains($0.marker) }
            return matched.map(\.seen)
        }
        for event in seen { event.resolve(()) }
    }

    /// Resolved once the text received contains `marker` (at once if it already does).
    func watch(for marker: String) -> OneShot<Void> {
        let seen = OneShot<Void>()
        let already = state.withLockedValue { s -> Bool in
            if s.text.contains(marker) { return true }
            s.watches.append((marker, seen))
            return false
        }
        if already { seen.resolve(()) }
        return seen
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { handshake.done(nil) }
        if case ChannelEvent.inputClosed = event { finish(.closeNotify) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        handshake.done(error)
        if case NIOSSLError.uncleanShutdown = error {
            finish(.uncleanFIN)
        } else if let io = error as? IOError, io.errnoCode == ECONNRESET {
            finish(.reset)
        } else {
            finish(.reset)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshake.done(ChannelError.ioOnClosedChannel)
        // After our own close_notify, NIOSSL closes the channel on the server's close_notify and
        // only then reports the input closed: let that report come first.
        context.eventLoop.execute { self.finish(.uncleanFIN) }
    }

    func onEnd(loop: any EventLoop, _ callback: @escaping @Sendable (TLSTestClient.End) -> Void) {
        let ended = state.withLockedValue { s -> TLSTestClient.End? in
            if let end = s.end { return end }
            s.waiter = callback
            return nil
        }
        if let ended { callback(ended) }
    }

    func timedOut() { finish(.open) }

    private func finish(_ end: TLSTestClient.End) {
        let waiter = state.withLockedValue { s -> (@Sendable (TLSTestClient.End) -> Void)? in
            guard s.end == nil else { return nil }
            s.end = end
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?(end)
    }
}

/// The handshake's outcome, awaited by `connect`.
private final class HandshakeWait: Sendable {
    private let state = NIOLockedValueBox<(result: Result<Void, any Error>?, waiters: [EventLoopPromise<Void>])>((nil, []))

    func done(_ error: (any Error)?) {
        let waiters = state.withLockedValue { s -> [EventLoopPromise<Void>] in
            guard s.result == nil else { return [] }
            s.result = error.map { .failure($0) } ?? .success(())
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters {
            if let error { waiter.fail(error) } else { waiter.succeed(()) }
        }
    }

    func futureResult(on loop: any EventLoop) -> EventLoopFuture<Void> {
        let promise = loop.makePromise(of: Void.self)
        let result = state.withLockedValue { s -> Result<Void, any Error>? in
            if s.result == nil { s.waiters.append(promise) }
            return s.result
        }
        if let result { promise.completeWith(result) }
        return promise.futureResult
    }
}
