import NIOCore

/// What a listener puts in front of the HTTP connection on each channel it accepts (TLS: the
/// `TacetTLS` module's handlers), on the channel's loop, before `HTTPConnectionHandler`. The
/// HTTP connection knows nothing of it: it reads bytes and FINs either way. Plain listeners
/// have none.
public protocol ConnectionPrelude: Sendable {
    func configure(_ channel: any Channel) throws
}

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
