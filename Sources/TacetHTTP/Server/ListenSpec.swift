import NIOCore
import TacetTunnel

/// One address for `HTTPServer.listen`, plain or with a prelude.
public struct ListenSpec: Sendable {
    public var host: String
    public var port: Int
    public var prelude: (any ConnectionPrelude)?

    public init(host: String, port: Int, prelude: (any ConnectionPrelude)? = nil) {
        self.host = host
        self.port = port
        self.prelude = prelude
    }
}
