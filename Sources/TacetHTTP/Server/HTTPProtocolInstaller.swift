import Logging
import NIOCore

/// What speaks HTTP on an accepted connection once its prelude (TLS) is in place, for listeners
/// that speak more than HTTP/1.1 (HTTP/2 by ALPN or by prior knowledge, in TacetHTTP2). A
/// listener without one gives every connection an `HTTPConnectionHandler` directly.
public protocol HTTPProtocolInstaller: Sendable {
    func install(on channel: any Channel, state: ListenerState, logger: Logger) throws
}

extension HTTPConnectionHandler {
    /// HTTP/1.1 on `channel`: what a listener without an installer does, and what an installer
    /// falls back to (ALPN chose `http/1.1`, or the client sent no HTTP/2 preface).
    public static func install(on channel: any Channel, state: ListenerState, logger: Logger) throws {
        try channel.pipeline.syncOperations.addHandler(HTTPConnectionHandler(state: state, logger: logger, eventLoop: channel.eventLoop))
    }
}
