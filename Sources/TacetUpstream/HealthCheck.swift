import NIOCore

/// What an active health check does against one server.
public enum HealthCheck: Sendable, Equatable {
    /// `GET path` with `Connection: close`; up when the status line arrives within `timeout`
    /// and its status is in `expectStatus`.
    case http(path: String, expectStatus: Set<Int>, timeout: TimeAmount)
    /// Up when a TCP connection is accepted within `timeout`.
    case tcp(timeout: TimeAmount)
    /// `grpc.health.v1.Health/Check` for `service` over h2c: up when it answers SERVING.
    case grpc(service: String, timeout: TimeAmount)

    var timeout: TimeAmount {
        switch self {
        case .http(_, _, let timeout), .tcp(let timeout), .grpc(_, let timeout): return timeout
        }
    }

    /// The request bytes for an HTTP check of `server`.
    static func request(path: String, server: UpstreamServer) -> String {
        "GET \(path) HTTP/1.1\r\nHost: \(server)\r\nUser-Agent: tacet-health\r\nConnection: close\r\n\r\n"
    }
}

/// Reads the status code from the start of a response: `HTTP/1.x NNN ...`.
enum StatusLine {
    enum Result: Equatable {
        /// The first line is complete and carries this status.
        case status(Int)
        /// Not enough bytes yet.
        case incomplete
        /// Not an HTTP/1 status line.
        case invalid
    }

    /// Longest first line worth waiting for; anything longer is not a status line we accept.
    static let maxLength = 1024

    static func parse(_ bytes: ByteBuffer) -> Result {
        let view = bytes.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            return view.count > maxLength ? .invalid : .incomplete
        }
        let line = Array(view[view.startIndex..<newline])
        // "HTTP/1.1 200" is the shortest valid prefix: 12 bytes.
        guard line.count >= 12, line.starts(with: Array("HTTP/1.".utf8)),
              line[7] == UInt8(ascii: "0") || line[7] == UInt8(ascii: "1"), line[8] == UInt8(ascii: " ") else {
            return .invalid
        }
        let digits = line[9..<12]
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return .invalid }
        if line.count > 12, line[12] != UInt8(ascii: " "), line[12] != UInt8(ascii: "\r") { return .invalid }
        let status = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        return (100...599).contains(status) ? .status(status) : .invalid
    }
}
