import Logging
import NIOCore
import NIOHTTP2
import TacetHTTP

/// What the streams of one HTTP/2 connection share, on its event loop: the listener's state,
/// the connection's log (access lines, metrics, its end line), and the exchanges in flight, so
/// a client's FIN reaches each of them as on HTTP/1.1.
final class HTTP2ConnectionState {
    let listener: ListenerState
    var log: ConnectionLog
    /// Exchanges not yet over, by stream handler.
    var open: [ObjectIdentifier: HTTP2StreamExchange] = [:]
    var requests = 0
    var inputClosed = false
    /// Called when the last open exchange ends after the client's FIN: the connection closes.
    var onIdleAfterFIN: (() -> Void)?

    init(listener: ListenerState, logger: Logger, now: NIODeadline) {
        self.listener = listener
        self.log = ConnectionLog(accessLog: listener.accessLog, observer: listener.observer, logger: logger, connectedAt: now)
        self.log.logsRequestID = listener.settings.requestID
    }

    func opened(_ stream: HTTP2StreamExchange) {
        open[ObjectIdentifier(stream)] = stream
        requests += 1
    }

    func ended(_ stream: HTTP2StreamExchange) {
        guard open.removeValue(forKey: ObjectIdentifier(stream)) != nil else { return }
        if inputClosed && open.isEmpty { onIdleAfterFIN?() }
    }
}

/// HTTP/2 on a channel: the frame handler (no multiplexer), Tacet's connection handler (client
/// FIN, limits, logs), NIO's connection management (two-step GOAWAY on quiesce, idle timeout),
/// and `HTTP2Streams` with each stream's `HTTP2StreamExchange`; under them all, the staged close.
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
    }

    static func configure(_ channel: any Channel, state: ListenerState, logger: Logger, limits: Limits = Limits()) throws {
        let shared = HTTP2ConnectionState(listener: state, logger: logger, now: channel.eventLoop.now)
        let settings: HTTP2Settings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: limits.maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: limits.maxHeaderListSize),
            HTTP2Setting(parameter: .initialWindowSize, value: limits.initialWindowSize),
        ]
        let management = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop,
            configuration: .init(maxIdleTime: state.settings.keepaliveTimeout, maxAge: nil, maxGraceTime: nil, keepalive: nil))
        try channel.pipeline.syncOperations.addHandlers([
            StagedClose(lingerTimeout: state.settings.lingerTimeout, lingerTotal: state.settings.lingerTotal),
            ReadCopy(),
            // No multiplexer: frames stay on this channel and `HTTP2Streams` hands them out.
            NIOHTTP2Handler(mode: .server, initialSettings: settings),
            HTTP2ConnectionHandler(shared: shared),
            management,
            HTTP2Streams(shared: shared, connectionWindow: limits.connectionWindowSize),
        ])
    }
}
