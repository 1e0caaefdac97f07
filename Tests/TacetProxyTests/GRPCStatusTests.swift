import NIOCore
import NIOHTTP1
import TacetHTTP
import Testing
@testable import TacetProxy

/// gRPC as the proxy recognises it: the content type, `grpc-timeout` (strict: 1 to 8 digits and
/// a unit), and the status a failure Tacet answers itself becomes.
@Suite("Proxy: gRPC status and deadline")
struct GRPCStatusTests {
    static func request(_ headers: HTTPHeaders) -> Request {
        Request(method: .POST, target: "/svc/M", version: .http1_1, headers: headers, keepAlive: true,
                framing: .chunked, expectsContinue: false, host: "t")
    }

    @Test("grpc-timeout in each unit; malformed values ignored")
    func timeouts() {
        let cases: [(String, TimeAmount?)] = [
            ("1H", .hours(1)), ("2M", .minutes(2)), ("3S", .seconds(3)), ("200m", .milliseconds(200)),
            ("5u", .microseconds(5)), ("7n", .nanoseconds(7)), ("99999999S", .seconds(99_999_999)),
            ("123456789S", nil), ("S", nil), ("10", nil), ("1x", nil), ("-1S", nil), (" 1S", nil), ("1.5S", nil),
        ]
        for (value, expected) in cases {
            #expect(GRPCStatus.timeout(of: Self.request(["grpc-timeout": value])) == expected, "\(value)")
        }
    }

    @Test("application/grpc and its +proto / +json forms are gRPC; other types are not")
    func recognised() {
        #expect(GRPCStatus.isGRPC(Self.request(["content-type": "application/grpc"])))
        #expect(GRPCStatus.isGRPC(Self.request(["content-type": "application/grpc+proto"])))
        #expect(GRPCStatus.isGRPC(Self.request(["content-type": "Application/GRPC+json"])))
        #expect(!GRPCStatus.isGRPC(Self.request(["content-type": "application/json"])))
        #expect(!GRPCStatus.isGRPC(Self.request([:])))
    }

    @Test("502/503 are UNAVAILABLE, 504 DEADLINE_EXCEEDED, limits RESOURCE_EXHAUSTED, the rest INTERNAL")
    func codes() {
        #expect(GRPCStatus.code(for: .badGateway).code == 14)
        #expect(GRPCStatus.code(for: .serviceUnavailable).code == 14)
        #expect(GRPCStatus.code(for: .gatewayTimeout).code == 4)
        #expect(GRPCStatus.code(for: .tooManyRequests).code == 8)
        #expect(GRPCStatus.code(for: .internalServerError).code == 13)
    }

    @Test("An upstream's grpc-status is logged as 0 to 16, anything else as invalid")
    func loggedStatus() {
        #expect(GRPCStatus.logged("0") == "0")
        #expect(GRPCStatus.logged("16") == "16")
        for bad in ["17", "-1", "01", "", "abc", "999999999999"] { #expect(GRPCStatus.logged(bad) == "invalid", "\(bad)") }
    }
}
