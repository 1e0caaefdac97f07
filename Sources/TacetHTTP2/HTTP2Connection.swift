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
    var open: [ObjectIdentifier: HTTP2StreamHandler] = [:]
    var requests = 0
    var inputClosed = false
    /// Called when the last open exchange ends after the client's FIN: the connection closes.
    var onIdleAfterFIN: (() -> Void)?

    init(listener: ListenerState, logger: Logger, now: NIODeadline) {
        self.listener = listener
        self.log = ConnectionLog(accessLog: listener.accessLog, observer: listener.observer, logger: logger, connectedAt: now)
        self.log.logsRequestID = listener.settings.requestID
    }

    func opened(_ stream: HTTP2StreamHandler) {
        open[ObjectIdentifier(stream)] = stream
        requests += 1
    }

    func ended(_ stream: HTTP2StreamHandler) {
        guard open.removeValue(forKey: ObjectIdentifier(stream)) != nil else { return }
        if inputClosed && open.isEmpty { onIdleAfterFIN?() }
    }
}

/// HTTP/2 on a channel: the frame handler with its per-stream child channels (each with an
/// `HTTP2StreamHandler`), NIO's connection management (two-step GOAWAY on quiesce, idle
/// timeout), and Tacet's connection handler (client FIN, logs); under them all, the staged close.
public enum HTTP2Connection {
    /// Limits every HTTP/2 connection advertises and enforces (nginx's defaults where it has one).
    public struct Limits: Sendable {
        public var maxConcurrentStreams = 128
        /// SETTINGS_MAX_HEADER_LIST_SIZE: bounds what HPACK may decode (the HPACK bomb).
        public var maxHeaderListSize = 32 * 1024
        public var initialWindowSize = 1 << 20
        public init() {}
    }

    static func configure(_ channel: any Channel, state: ListenerState, logger: Logger, limits: Limits = Limits()) throws {
        let shared = HTTP2ConnectionState(listener: state, logger: logger, now: channel.eventLoop.now)
        let bound = NIOLoopBound(shared, eventLoop: channel.eventLoop)
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: limits.maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: limits.maxHeaderListSize),
            HTTP2Setting(parameter: .initialWindowSize, value: limits.initialWindowSize),
        ]
        connection.targetWindowSize = limits.initialWindowSize
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = limits.initialWindowSize
        stream.outboundBufferSizeHighWatermark = 64 * 1024
        stream.outboundBufferSizeLowWatermark = 16 * 1024
        let management = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop,
            configuration: .init(maxIdleTime: state.settings.keepaliveTimeout, maxAge: nil, maxGraceTime: nil, keepalive: nil))
        let http2 = NIOHTTP2Handler(
            mode: .server, eventLoop: channel.eventLoop, connectionConfiguration: connection, streamConfiguration: stream,
            streamDelegate: management.http2StreamDelegate
        ) { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                try streamChannel.pipeline.syncOperations.addHandler(HTTP2StreamHandler(connection: bound.value, eventLoop: streamChannel.eventLoop))
            }
        }
        try channel.pipeline.syncOperations.addHandlers([
            StagedClose(lingerTimeout: state.settings.lingerTimeout, lingerTotal: state.settings.lingerTotal),
            http2,
            HTTP2ConnectionHandler(shared: shared),
            management,
        ])
    }
}
