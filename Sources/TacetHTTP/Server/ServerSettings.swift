import NIOCore

/// Limits and timeouts of the HTTP listener, with nginx-like defaults.
public struct ServerSettings: Sendable {
    public var parserLimits = RequestParser.Limits()
    /// Whether an address is one of `trusted_proxies`: a request from one has its client taken
    /// from X-Forwarded-For (nginx's set_real_ip_from with real_ip_recursive). nil: never.
    public var isTrustedProxy: (@Sendable (String) -> Bool)?
    /// X-Request-ID on every request (`request_id: true`): see `RequestID`.
    public var requestID = false
    /// Per-client connection and request limits (`limits:`); nil: none.
    public var clientLimiter: ClientLimiter?
    public var maxConnections = 10_000
    public var keepaliveRequests = 1000
    /// Whole head, from its first byte (nginx `client_header_timeout`).
    public var headerTimeout: TimeAmount = .seconds(60)
    /// Between two reads of a body (nginx `client_body_timeout`).
    public var bodyTimeout: TimeAmount = .seconds(60)
    /// Idle between requests (nginx `keepalive_timeout`).
    public var keepaliveTimeout: TimeAmount = .seconds(75)
    /// Client not taking our bytes (nginx `send_timeout`).
    public var sendTimeout: TimeAmount = .seconds(60)
    /// Staged close: per read while discarding, and in total (nginx `lingering_timeout`, `lingering_time`).
    public var lingerTimeout: TimeAmount = .seconds(5)
    public var lingerTotal: TimeAmount = .seconds(30)
    /// Pipelined bytes buffered ahead of the request being answered before reading pauses.
    public var maxBufferedPipelineBytes = 64 * 1024
    /// The top level's `error_pages`, for refusals made before any route (400, 408, 413, 431 ...);
    /// the router's own wrapper gives them to everything after.
    public var errorPages = ErrorPages()

    public init() {}
}
