/// How a scenario over TLS ends its sending side: TLS's own half-close (RFC 8446 §6.1), or a TCP
/// FIN with no `close_notify` before it, which a server may take for a truncation.
public enum TLSEnding: String, Codable, Sendable, CaseIterable {
    case closeNotify = "close_notify"
    case bareFIN = "bare FIN"
}

/// Opens the TLS connections of an `https://` target. TacetProbe itself speaks TCP and links no
/// TLS library (packages that use it stay light); `tacet` plugs in TacetProbeTLS's relay, which
/// terminates TLS in process and hands back a `RawClient` on a loopback socket: what the client
/// does there (SHUT_WR, close, reset) it does on the TLS connection, SHUT_WR as `ending` says.
public protocol ProbeTLSConnector: Sendable {
    /// Connects and completes the handshake within `timeout` seconds, or throws a one-line reason.
    func connect(host: String, port: Int, ending: TLSEnding, timeout: Double) throws -> any ProbeTLSConnection
}

/// One relayed TLS connection.
public protocol ProbeTLSConnection: AnyObject {
    /// The socket the scenario drives.
    var client: RawClient { get }
    /// How the server ended TLS, known by the time the client has seen the end it caused:
    /// "close_notify", "FIN without close_notify", "RST"; nil while it has not.
    func serverEnding() -> String?
}
