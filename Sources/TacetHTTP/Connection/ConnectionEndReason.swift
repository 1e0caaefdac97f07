/// Why a connection, or the request in flight on it, ended. Logged on every connection's end and
/// on every access line whose request did not complete normally.
public enum ConnectionEndReason: String, Sendable, Equatable, CaseIterable {
    /// The client sent FIN: it will send nothing more (it may still be reading).
    case clientFIN = "client_fin"
    /// The client reset the connection (or closed it with unread data, which resets).
    case clientRST = "client_rst"
    /// A write to the client failed.
    case writeFailed = "write_failed"
    /// A header, body, keep-alive, send or linger timeout fired.
    case timeout
    /// The server chose to close: `Connection: close`, an error response, shutdown.
    case serverClose = "server_close"
    /// HTTP/2: the client reset the stream (RST_STREAM): gone from that request, not the connection.
    case clientRSTStream = "client_rst_stream"
}
