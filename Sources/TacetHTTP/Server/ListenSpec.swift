import NIOCore
import TacetTunnel

/// One address for `HTTPServer.listen`, plain or with a prelude, HTTP/1.1 or with an installer
/// that chooses the protocol.
public struct ListenSpec: Sendable {
    public var host: String
    public var port: Int
    public var prelude: (any ConnectionPrelude)?
    public var protocols: (any HTTPProtocolInstaller)?

    public init(host: String, port: Int, prelude: (any ConnectionPrelude)? = nil, protocols: (any HTTPProtocolInstaller)? = nil) {
        self.host = host
        self.port = port
        self.prelude = prelude
        self.protocols = protocols
    }
}
