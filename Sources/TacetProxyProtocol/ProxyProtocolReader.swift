import Logging
import NIOCore
import TacetTunnel

/// The first handler of a listener that sits behind a load balancer speaking the PROXY
/// protocol: the header is required, read within `timeout`, and believed only from a trusted
/// peer. Then it tells the handlers after it the client's address (`ClientAddressEvent`), passes
/// on what followed the header, and leaves. An untrusted peer, a bad header or a timeout ends
/// the connection with the reason logged and counted.
///
/// It asks for reads itself, so it works on a channel that does not read on its own (a stream
/// listener reads nothing until it knows where to connect, which waits for this header).
public final class ProxyProtocolReader: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    /// Why a connection was refused; the raw value is the metric label.
    public enum Refusal: String, Sendable, CaseIterable {
        /// The peer is not in `trusted_proxies`.
        case untrusted
        /// Not a PROXY header (wrong signature, family, length...).
        case invalid
        /// No whole header within the timeout.
        case timeout
        /// The peer closed before a whole header.
        case incomplete
    }

    private let trusted: CIDRList
    private let timeout: TimeAmount
    private let logger: Logger
    private let counted: @Sendable (Refusal) -> Void
    private var buffered = ByteBuffer()
    private var deadline: Scheduled<Void>?
    private var done = false
    /// Told of the header once read (before the bytes after it are passed on): a stream session
    /// starts its upstream connect here.
    public var onHeader: ((ProxyHeader) -> Void)?
    /// Told of a refusal, before the channel is closed.
    public var onRefused: ((Refusal) -> Void)?

    public init(trusted: CIDRList, timeout: TimeAmount, logger: Logger,
                counted: @escaping @Sendable (Refusal) -> Void = { _ in }) {
        self.trusted = trusted
        self.timeout = timeout
        self.logger = logger
        self.counted = counted
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard deadline == nil, !done else { return }
        guard let peer = context.channel.remoteAddress?.ipAddress else {
            // Reset before we looked (no peer address to be had): gone, not refused.
            done = true
            context.close(promise: nil)
            return
        }
        guard trusted.contains(peer) else {
            refuse(context, .untrusted, "PROXY header from an untrusted peer")
            return
        }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            refuse(context, .timeout, "no PROXY header within \(timeout.nanoseconds / 1_000_000) ms")
        }
        context.read()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        var bytes = unwrapInboundIn(data)
        buffered.writeBuffer(&bytes)
        switch ProxyHeaderParser.parse(buffered.readableBytesView) {
        case .needMore:
            context.read()
        case .invalid(let error):
            refuse(context, .invalid, error.reason)
        case .header(let header, let length):
            done = true
            deadline?.cancel()
            buffered.moveReaderIndex(forwardBy: length)
            if case .proxied(let source, _) = header {
                context.fireUserInboundEventTriggered(ClientAddressEvent(ip: source.ip, port: source.port))
            }
            onHeader?(header)
            onHeader = nil
            let rest = buffered
            buffered = ByteBuffer()
            if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !done, case ChannelEvent.inputClosed = event {
            refuse(context, .incomplete, "closed before a whole PROXY header")
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    private func refuse(_ context: ChannelHandlerContext, _ why: Refusal, _ reason: String) {
        guard !done else { return }
        done = true
        deadline?.cancel()
        logger.info("connection refused", metadata: [
            "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "-")", "reason": "\(reason)",
        ])
        counted(why)
        onRefused?(why)
        onRefused = nil
        context.close(promise: nil)
    }
}

/// A listener's PROXY protocol reading, as a prelude (before TLS, if any: the balancer's header
/// comes first on the wire).
public struct ProxyProtocolPrelude: ConnectionPrelude {
    public let trusted: CIDRList
    public let timeout: TimeAmount
    public let logger: Logger
    public let next: (any ConnectionPrelude)?
    /// Each refusal, for metrics.
    public let counted: @Sendable (ProxyProtocolReader.Refusal) -> Void

    public init(trusted: CIDRList, timeout: TimeAmount, logger: Logger, then next: (any ConnectionPrelude)? = nil,
                counted: @escaping @Sendable (ProxyProtocolReader.Refusal) -> Void = { _ in }) {
        self.trusted = trusted
        self.timeout = timeout
        self.logger = logger
        self.next = next
        self.counted = counted
    }

    /// One connection's reader.
    public func makeReader() -> ProxyProtocolReader {
        ProxyProtocolReader(trusted: trusted, timeout: timeout, logger: logger, counted: counted)
    }

    public var isSecure: Bool { next?.isSecure ?? false }

    public func configure(_ channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(makeReader())
        try next?.configure(channel)
    }
}
