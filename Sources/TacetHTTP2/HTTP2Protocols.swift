import Logging
import NIOCore
import NIOTLS
import TacetHTTP

/// A listener that speaks HTTP/2 as well as HTTP/1.1: on TLS, as ALPN chose (`h2`, else
/// HTTP/1.1); on plain TCP (`http2: true`), HTTP/2 when the client opens with its connection
/// preface (prior knowledge, RFC 9113 §3.3), HTTP/1.1 otherwise, as nginx does.
public struct HTTP2Protocols: HTTPProtocolInstaller {
    public enum Mode: Sendable { case alpn, priorKnowledge }
    public let mode: Mode
    public let limits: HTTP2Connection.Limits

    public init(mode: Mode, limits: HTTP2Connection.Limits = .init()) {
        self.mode = mode
        self.limits = limits
    }

    public func install(on channel: any Channel, state: ListenerState, logger: Logger) throws {
        let limits = self.limits
        switch mode {
        case .alpn:
            let negotiation = ApplicationProtocolNegotiationHandler { result, channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .negotiated("h2") = result {
                        try HTTP2Connection.configure(channel, state: state, logger: logger, limits: limits)
                    } else {
                        try HTTPConnectionHandler.install(on: channel, state: state, logger: logger)
                    }
                }
            }
            try channel.pipeline.syncOperations.addHandler(negotiation)
        case .priorKnowledge:
            try channel.pipeline.syncOperations.addHandler(PrefaceSniffer(timeout: state.settings.headerTimeout) { channel, isHTTP2 in
                if isHTTP2 {
                    try HTTP2Connection.configure(channel, state: state, logger: logger, limits: limits)
                } else {
                    try HTTPConnectionHandler.install(on: channel, state: state, logger: logger)
                }
            })
        }
    }
}
