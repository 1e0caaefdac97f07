import Logging
import NIOCore
import TacetHTTP

/// HTTP/2 on a channel: one `HTTP2ServerConnection`, Tacet's own frame layer and machines, is
/// the whole protocol (no NIOHTTP2 handler, no per-stream channels).
public enum HTTP2Connection {
    /// Limits every HTTP/2 connection advertises and enforces (nginx's defaults where it has one).
    public struct Limits: Sendable {
        public var maxConcurrentStreams = 128
        /// SETTINGS_MAX_HEADER_LIST_SIZE: bounds what HPACK may decode (the HPACK bomb).
        public var maxHeaderListSize = 32 * 1024
        /// Each stream's window: what a paused route may have held for it (the bound per stream).
        public var initialWindowSize = 256 * 1024
        /// The connection's window, shared by its streams.
        public var connectionWindowSize = 1 << 20
        public init() {}

        var configuration: HTTP2ConnectionStateMachine.Configuration {
            var configuration = HTTP2ConnectionStateMachine.Configuration()
            configuration.maxConcurrentStreams = maxConcurrentStreams
            configuration.maxHeaderListSize = maxHeaderListSize
            configuration.initialWindowSize = initialWindowSize
            configuration.connectionWindowSize = connectionWindowSize
            return configuration
        }
    }

    static func configure(_ channel: any Channel, state: ListenerState, logger: Logger, limits: Limits = Limits()) throws {
        try channel.pipeline.syncOperations.addHandler(
            HTTP2ServerConnection(listener: state, logger: logger, configuration: limits.configuration, channel: channel))
    }
}
