import Logging
import NIOCore

/// What one stream's log line says: who, how many bytes each way, how long, who closed first
/// and how, and how it ended. Built as the stream runs, logged once when it is over.
struct StreamLogRecord: Sendable, Equatable {
    var listen: String
    var client: String
    /// `host:port` of the server it was glued to; "-" when none was reached.
    var upstream = "-"
    /// Client to upstream.
    var bytesUp = 0
    /// Upstream to client.
    var bytesDown = 0
    var duration: TimeAmount = .zero
    /// `client_fin`, `upstream_rst`, `upstream_unreachable`, ...
    var firstClose = "-"
    /// `clean`, `reset`, `timeout`, `connect_failed`.
    var end = "-"

    var metadata: Logger.Metadata {
        [
            "listen": "\(listen)",
            "client": "\(client)",
            "upstream": "\(upstream)",
            "bytes_up": "\(bytesUp)",
            "bytes_down": "\(bytesDown)",
            "duration_ms": "\(Self.milliseconds(duration))",
            "first_close": "\(firstClose)",
            "end": "\(end)",
        ]
    }

    /// Milliseconds with three decimals, e.g. `1002.417`.
    static func milliseconds(_ amount: TimeAmount) -> String {
        let micros = max(0, amount.nanoseconds / 1000)
        let fraction = String(micros % 1000)
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
