import Logging
import NIOCore
import TacetUpstream

/// What one stream's log line says: who, how many bytes each way, how long, who closed first
/// and how, and how it ended. Built as the stream runs, logged once when it is over.
struct StreamLogRecord: Sendable, Equatable {
    var listen: String
    /// Kept as an address and formatted only when the line is written (often it is not).
    var client: SocketAddress?
    /// The server it was glued to; nil when none was reached.
    var upstream: UpstreamServer?
    /// Client to upstream.
    var bytesUp = 0
    /// Upstream to client.
    var bytesDown = 0
    var duration: TimeAmount = .zero
    /// `client_fin`, `upstream_rst`, `upstream_unreachable`, ...
    var firstClose = "-"
    /// `clean`, `reset`, `timeout`, `connect_failed`, `refused`.
    var end = "-"

    var metadata: Logger.Metadata {
        [
            "listen": "\(listen)",
            "client": "\(client.map(Self.describe) ?? "-")",
            "upstream": "\(upstream.map(\.description) ?? "-")",
            "bytes_up": "\(bytesUp)",
            "bytes_down": "\(bytesDown)",
            "duration_ms": "\(Self.milliseconds(duration))",
            "first_close": "\(firstClose)",
            "end": "\(end)",
        ]
    }

    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }

    /// Milliseconds with three decimals, e.g. `1002.417`.
    static func milliseconds(_ amount: TimeAmount) -> String {
        let micros = max(0, amount.nanoseconds / 1000)
        let fraction = String(micros % 1000)
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
