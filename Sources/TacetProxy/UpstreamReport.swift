import Logging
import TacetHTTP

/// Where an upstream connection says that its server broke HTTP: a line in the error log naming
/// the upstream, the server and why, and a metric. Fixed when the connection is made, so nothing
/// is built per request.
struct UpstreamReport {
    let upstream: String
    let server: String
    let logger: Logger
    let observer: any HTTPObserver

    /// Bytes past the end of a response (nginx: "upstream sent more data than specified").
    func extraBytes(_ count: Int) {
        logger.warning("upstream sent more data than specified; connection closed, not reused", metadata: [
            "upstream": "\(upstream)", "server": "\(server)", "bytes": "\(count)",
        ])
        observer.upstreamProtocolError(upstream: upstream, reason: "extra_bytes", bytes: count)
    }

    /// A response that does not parse, or that the connection's end cut short.
    func badResponse(_ reason: String, closedEarly: Bool) {
        let message: Logger.Message = closedEarly ? "upstream closed the connection inside a response"
            : "upstream sent an invalid response"
        logger.error(message, metadata: ["upstream": "\(upstream)", "server": "\(server)", "reason": "\(reason)"])
        observer.upstreamProtocolError(upstream: upstream, reason: closedEarly ? "closed_early" : "invalid_response", bytes: 0)
    }
}
