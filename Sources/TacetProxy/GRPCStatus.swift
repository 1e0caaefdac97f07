import NIOCore
import NIOHTTP1
import TacetHTTP

/// A gRPC call Tacet itself fails (no server, connect failure, timeout, a limit) is answered as
/// gRPC clients read failures: HTTP 200, `content-type: application/grpc`, and the status in
/// `grpc-status` and `grpc-message` with nothing after them (a trailers-only response), never
/// an HTML or plain-text 502 that a gRPC client can only call INTERNAL.
enum GRPCStatus {
    static let unavailable = 14
    static let deadlineExceeded = 4
    static let resourceExhausted = 8
    static let `internal` = 13

    /// gRPC is recognised by its content type (`application/grpc`, `+proto`, `+json`, ...).
    static func isGRPC(_ request: Request) -> Bool {
        guard let type = request.headers.first(name: "content-type") else { return false }
        return type.utf8.count >= 16 && type.prefix(16).lowercased() == "application/grpc"
    }

    /// `grpc-timeout` (gRPC over HTTP/2: at most 8 digits and a unit, H M S m u n), as the
    /// call's deadline; nil when absent or malformed (a malformed one is ignored, as servers do).
    static func timeout(of request: Request) -> TimeAmount? {
        guard let value = request.headers.first(name: "grpc-timeout"), let unit = value.utf8.last,
              value.utf8.count >= 2, value.utf8.count <= 9 else { return nil }
        let digits = value.utf8.dropLast()
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int64(Substring(digits)) else { return nil }
        switch unit {
        case UInt8(ascii: "H"): return .hours(n)
        case UInt8(ascii: "M"): return .minutes(n)
        case UInt8(ascii: "S"): return .seconds(n)
        case UInt8(ascii: "m"): return .milliseconds(n)
        case UInt8(ascii: "u"): return .microseconds(n)
        case UInt8(ascii: "n"): return .nanoseconds(n)
        default: return nil
        }
    }

    /// The gRPC status for what would have been `status`.
    static func code(for status: HTTPResponseStatus) -> (code: Int, message: String) {
        switch status.code {
        case 502, 503: return (unavailable, "upstream unavailable")
        case 504: return (deadlineExceeded, "upstream timed out")
        case 429, 413, 431: return (resourceExhausted, status.reasonPhrase.lowercased())
        default: return (`internal`, status.reasonPhrase.lowercased())
        }
    }

    /// An upstream's `grpc-status` as the log and metrics keep it: 0 to 16, else `invalid` (a
    /// hostile upstream cannot make a metric label of anything it likes).
    static func logged(_ value: String) -> String {
        guard value.utf8.count <= 2, let n = Int(value), (0...16).contains(n), String(n) == value else { return "invalid" }
        return value
    }

    static func respond(_ writer: ResponseWriter, failing status: HTTPResponseStatus) {
        let (code, message) = code(for: status)
        writer.setGRPCStatus(String(code))
        let headers: HTTPHeaders = [
            "content-type": "application/grpc",
            "grpc-status": String(code),
            "grpc-message": message,
        ]
        writer.respond(ResponseHead(status: .ok, headers: headers, body: .empty), body: nil)
    }
}
