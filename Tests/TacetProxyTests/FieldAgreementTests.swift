import NIOCore
import Testing
@testable import TacetHTTP
import TacetProxy

/// The request parser and the upstream response parser read fields with the same code, so a
/// field means the same to both: what one accepts as a length the other does too, and each
/// refuses what could be read two ways.
@Suite("Field lines: one reading for requests and responses")
struct FieldAgreementTests {
    /// The request parser's framing for a POST with `field`, or its error reason.
    func requestFraming(_ field: String) -> String {
        var parser = RequestParser(limits: .init())
        var buffer = ByteBuffer(string: "POST / HTTP/1.1\r\nHost: a\r\n\(field)\r\n\r\n")
        do {
            guard case .head(let request)? = try parser.next(&buffer) else { return "none" }
            return "\(request.framing)"
        } catch {
            return "error: \(error.reason)"
        }
    }

    /// The upstream parser's framing for a 200 with `field`, or its error reason.
    func responseFraming(_ field: String) -> String {
        var parser = UpstreamResponseParser()
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\n\(field)\r\n\r\n")
        do {
            guard case .head(let head)? = try parser.next(&buffer) else { return "none" }
            return "\(head.framing)"
        } catch {
            return "error: \(error.reason)"
        }
    }

    @Test("Content-Length: the same value, list, or refusal on both sides", arguments: [
        ("Content-Length: 5", true),
        ("Content-Length: 5, 5", true),
        ("Content-Length: 5,5", true),
        ("Content-Length: 5\r\nContent-Length: 5", true),
        ("Content-Length: 5, 6", false),
        ("Content-Length: 5\r\nContent-Length: 6", false),
        ("Content-Length: 5,,5", false),
        ("Content-Length: +5", false),
        ("Content-Length: 0x5", false),
        ("Content-Length: 5 5", false),
        ("Content-Length: ", false),
    ])
    func contentLength(_ field: String, _ accepted: Bool) {
        let request = requestFraming(field)
        let response = responseFraming(field)
        #expect(request.hasPrefix("error") == !accepted, "request: \(request)")
        #expect(response.hasPrefix("error") == !accepted, "response: \(response)")
        if accepted {
            #expect(request == "length(5)" && response == "length(5)")
        }
    }

    @Test("Field lines either side refuses, with the same reason", arguments: [
        "X-A: one\r\n two",
        "X-A : one",
        "X-A: a\rb",
        "no colon here",
        "X(A): b",
    ])
    func refusedBoth(_ field: String) {
        let request = requestFraming(field)
        let response = responseFraming(field)
        #expect(request.hasPrefix("error"))
        #expect(request == response)
    }

    @Test("An upstream's transfer coding other than one chunked is refused (it would reach the client undeclared)",
          arguments: ["Transfer-Encoding: gzip, chunked", "Transfer-Encoding: chunked, chunked", "Transfer-Encoding: gzip"])
    func upstreamTransferCodings(_ field: String) {
        #expect(responseFraming(field).hasPrefix("error: unsupported transfer coding"))
        #expect(responseFraming("Transfer-Encoding: Chunked") == "chunked")
    }

    @Test("Hop-by-hop names, any case; others not")
    func hopByHop() {
        for name in ["Connection", "keep-alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length",
                     "Proxy-Authorization", "proxy-connection"] {
            #expect(FieldNames.isHopByHop(name), "\(name)")
        }
        for name in ["Host", "Te-X", "Trailers", "Proxy", "X-Upgrade", "Content-Type", "Date"] {
            #expect(!FieldNames.isHopByHop(name), "\(name)")
        }
    }
}
