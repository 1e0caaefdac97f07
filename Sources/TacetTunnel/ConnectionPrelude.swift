import NIOCore

/// What a listener (HTTP or stream) or an upstream connection puts in front of the handler
/// that reads its bytes (TLS: the `TacetTLS` module's handlers), on the channel's loop, before
/// that handler is added. The handler knows nothing of it: it reads bytes and FINs either way.
/// Plain ones have none.
public protocol ConnectionPrelude: Sendable {
    func configure(_ channel: any Channel) throws
    /// The connection is TLS from here on: requests on it are `https` (X-Forwarded-Proto).
    var isSecure: Bool { get }
}

extension ConnectionPrelude {
    public var isSecure: Bool { false }
}

/// The handler nearest the socket on a channel whose bytes pass through TLS: a close issued here
/// bypasses TLS (no `close_notify`, no wait for the peer's), which is what an RST must be: a
/// stream cut off, never one presented as finished. TLS preludes put it first.
public final class SocketEnd: ChannelOutboundHandler {
    public typealias OutboundIn = Any
    private var context: ChannelHandlerContext?

    public init() {}

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    public func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Closes at the socket: no `close_notify`, no wait for the peer's.
    public func closeNow() {
        context?.close(promise: nil)
    }

    /// A TCP FIN from below TLS: no `close_notify` before it (the probe's "bare FIN").
    public func shutdownOutputNow() {
        context?.close(mode: .output, promise: nil)
    }
}

/// The client's address as a load balancer in front reported it (PROXY protocol), fired to the
/// handlers after the reader: logs, X-Forwarded-For and limits use it instead of the peer's.
public struct ClientAddressEvent: Sendable, Equatable {
    public let ip: String
    public let port: Int

    public init(ip: String, port: Int) {
        self.ip = ip
        self.port = port
    }
}
