import NIOCore
import NIOHPACK
import NIOHTTP1
import TacetHTTP
import Testing
@testable import TacetHTTP2

/// The client role's header blocks (issue #22): the request Tacet sends an HTTP/2 upstream, read
/// back by NIOHPACK's decoder as an independent peer, and the upstream's response checked as
/// strictly as a client's request.
@Suite("HTTP/2 upstream: request and response header blocks")
struct UpstreamHeadersTests {
    static func decode(_ block: ByteBuffer) throws -> [(String, String)] {
        var decoder = HPACKDecoder(allocator: ByteBufferAllocator())
        var bytes = block
        return try decoder.decodeHeaders(from: &bytes).map { ($0.name, $0.value) }
    }

    @Test("Pseudo-fields first; names lowercased; hop-by-hop fields, Host and what Connection names left out; TE only as trailers")
    func requestBlock() throws {
        let headers = HTTPHeaders([("Host", "app.internal"), ("Content-Type", "application/grpc"), ("TE", "gzip, trailers"),
                                   ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "5"),
                                   ("Transfer-Encoding", "chunked"), ("Upgrade", "h2c"), ("grpc-timeout", "1S")])
        var out = ByteBuffer()
        UpstreamRequestBlock.write(method: "POST", scheme: "http", authority: "app.internal:50051",
                                   path: "/helloworld.Greeter/SayHello", headers: headers, into: &out)
        let fields = try Self.decode(out)
        #expect(fields.map(\.0) == [":method", ":scheme", ":authority", ":path", "content-type", "te", "grpc-timeout"])
        #expect(fields.map(\.1) == ["POST", "http", "app.internal:50051", "/helloworld.Greeter/SayHello",
                                    "application/grpc", "trailers", "1S"])
        var noTrailers = ByteBuffer()
        UpstreamRequestBlock.write(method: "GET", scheme: "https", authority: "a", path: "/", headers: ["te": "gzip"],
                                   into: &noTrailers)
        #expect(try Self.decode(noTrailers).map(\.0) == [":method", ":scheme", ":authority", ":path"])
    }

    static func block(_ fields: [(String, String)]) -> HPACKHeaders { HPACKHeaders(fields) }

    @Test("A response: its status, fields and Content-Length; a 1xx is interim and carries no length")
    func responseHead() throws {
        let head = try UpstreamResponseHead.parse(Self.block([(":status", "200"), ("content-type", "application/grpc"),
                                                              ("content-length", "5")])).get()
        #expect(head.status == 200 && head.contentLength == 5 && !head.isInterim)
        #expect(head.headers.first(name: "content-type") == "application/grpc")
        let interim = try UpstreamResponseHead.parse(Self.block([(":status", "103"), ("link", "</a>; rel=preload")])).get()
        #expect(interim.isInterim && interim.contentLength == nil)
    }

    @Test("Malformed responses are refused, each with its reason, never guessed at")
    func malformedResponses() {
        let cases: [[(String, String)]] = [
            [("content-type", "text/plain")],                              // no :status
            [(":status", "200"), (":status", "200")],                      // repeated
            [(":status", "20")], [(":status", "2000")], [(":status", "abc")], [(":status", "099")],
            [(":status", "101")],                                          // no upgrade in HTTP/2
            [(":status", "200"), (":path", "/")],                          // a request's pseudo-field
            [("content-type", "x"), (":status", "200")],                   // pseudo after regular
            [(":status", "200"), ("Content-Type", "x")],                   // uppercase name
            [(":status", "200"), ("connection", "close")],
            [(":status", "200"), ("transfer-encoding", "chunked")],
            [(":status", "200"), ("x-a", "a\r\nb")],
            [(":status", "200"), ("x-a", " padded")],
            [(":status", "200"), ("content-length", "5"), ("content-length", "6")],
            [(":status", "200"), ("content-length", "-1")],
        ]
        for fields in cases {
            guard case .failure(.malformed) = UpstreamResponseHead.parse(Self.block(fields)) else {
                Issue.record("accepted: \(fields)")
                continue
            }
        }
    }

    @Test("Random header lists: never a crash, and whatever is accepted has a valid status")
    func fuzz() {
        var rng = SystemRandomNumberGenerator()
        let names = [":status", ":path", "content-length", "x-a", "Te", "te", "connection", "grpc-status", ""]
        let values = ["200", "1", "", "trailers", "-5", "a\rb", " x", "99999999999999999999", "204", "100"]
        for _ in 0..<5_000 {
            let count = Int.random(in: 0...5, using: &rng)
            let fields = (0..<count).map { _ in (names.randomElement(using: &rng) ?? "", values.randomElement(using: &rng) ?? "") }
            if case .success(let head) = UpstreamResponseHead.parse(HPACKHeaders(fields)) {
                #expect((100...999).contains(head.status) && head.status != 101)
            }
        }
    }
}
