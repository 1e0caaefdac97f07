import NIOHPACK
import NIOHTTP1
import TacetHTTP
import TacetTestSupport
import Testing
@testable import TacetHTTP2

/// An HTTP/2 header block as a `Request`: pseudo-fields, Host, cookies, framing, and what is
/// refused (with the status a client gets). Plus random blocks: never a crash, and whatever is
/// accepted is something the HTTP/1.1 side could write on a request line and a Host line.
@Suite("HTTP/2: request heads")
struct RequestHeadTests {
    let limits = RequestParser.Limits()

    func block(_ fields: [(String, String)]) -> HPACKHeaders { HPACKHeaders(fields) }

    func get(_ extra: [(String, String)] = [], endStream: Bool = true) -> Result<Request, RequestHead.Refusal> {
        RequestHead.request(from: block([(":method", "GET"), (":scheme", "https"), (":path", "/a?b=c"),
                                         (":authority", "Example.test:8443")] + extra), endStream: endStream, limits: limits)
    }

    @Test func pseudoFieldsBecomeMethodTargetAndHost() throws {
        let request = try get([("accept", "*/*")]).get()
        #expect(request.method == .GET)
        #expect(request.target == "/a?b=c")
        #expect(request.version == HTTPVersion(major: 2, minor: 0))
        #expect(request.host == "example.test")
        #expect(request.headers["host"] == ["Example.test:8443"])
        #expect(request.headers["accept"] == ["*/*"])
        #expect(request.framing == .none)
        #expect(request.keepAlive)
    }

    @Test func framingFromEndStreamAndContentLength() throws {
        #expect(try get(endStream: false).get().framing == .chunked)
        #expect(try get([("content-length", "10")], endStream: false).get().framing == .length(10))
        #expect(try get([("content-length", "0")], endStream: false).get().framing == .none)
        #expect(get([("content-length", "x")]).failureValue == .malformed("invalid content-length"))
        #expect(get([("content-length", "1"), ("content-length", "2")]).failureValue == .malformed("conflicting content-length"))
        #expect(get([("content-length", "2000000")], endStream: false).failureValue == .refused(413, "request body too large"))
    }

    @Test func cookiesAreJoinedForHTTP1Upstreams() throws {
        let request = try get([("cookie", "a=1"), ("cookie", "b=2")]).get()
        #expect(request.headers["cookie"] == ["a=1; b=2"])
    }

    @Test("Refusals HTTP/1.1 would answer get the same status and reason")
    func refusals() {
        let cases: [([(String, String)], RequestHead.Refusal)] = [
            ([(":method", "GET"), (":scheme", "http"), (":path", "/")], .refused(400, "missing or invalid :authority")),
            ([(":method", "GET"), (":scheme", "http"), (":path", "relative"), (":authority", "h")], .refused(400, "invalid :path")),
            ([(":method", "GET"), (":scheme", "http"), (":path", "/a b"), (":authority", "h")], .refused(400, "invalid :path")),
            ([(":method", "CONNECT"), (":authority", "h:443")], .refused(501, "CONNECT is not supported over HTTP/2")),
            ([(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "h/x")], .refused(400, "missing or invalid :authority")),
            ([(":method", "GET"), (":scheme", "http"), (":path", "*"), (":authority", "h")], .refused(400, "invalid :path")),
            ([(":method", "GET"), (":scheme", "http"), (":path", "/" + String(repeating: "a", count: 9000)), (":authority", "h")],
             .refused(414, "request line too long")),
        ]
        for (fields, expected) in cases {
            #expect(RequestHead.request(from: block(fields), endStream: true, limits: limits).failureValue == expected, "\(fields)")
        }
        #expect((try? RequestHead.request(from: block([(":method", "OPTIONS"), (":scheme", "http"), (":path", "*"), (":authority", "h")]),
                                          endStream: true, limits: limits).get()) != nil)
    }

    @Test("Malformed requests (RFC 9113 §8.1.1, §8.2, §8.3): a stream error, not an answer")
    func malformed() {
        let base = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "h")]
        let cases: [[(String, String)]] = [
            [(":method", "GET"), (":path", "/"), (":authority", "h")],                     // no :scheme
            [(":method", "GET"), (":scheme", "http"), (":authority", "h")],                 // no :path
            [(":method", "GET"), (":scheme", "http"), (":path", ""), (":authority", "h")],  // empty :path
            [(":scheme", "http"), (":path", "/"), (":authority", "h")],                     // no :method
            [(":method", "GE T"), (":scheme", "http"), (":path", "/"), (":authority", "h")],
            base + [(":method", "GET")],                                                    // repeated
            [(":method", "GET"), ("x-a", "1"), (":scheme", "http"), (":path", "/"), (":authority", "h")],  // after a regular field
            base + [(":status", "200")],
            base + [(":bogus", "x")],
            base + [("X-Upper", "1")],
            base + [("connection", "keep-alive")],
            base + [("transfer-encoding", "chunked")],
            base + [("te", "gzip")],
            base + [("x-a", "a\r\nb")],
            base + [("x-a", " padded")],
        ]
        for fields in cases {
            guard case .malformed? = RequestHead.request(from: block(fields), endStream: true, limits: limits).failureValue else {
                Issue.record("not malformed: \(fields)")
                continue
            }
        }
        #expect((try? RequestHead.request(from: block(base + [("te", "trailers")]), endStream: true, limits: limits).get()) != nil)
        #expect(RequestHead.validTrailers(block([("x-checksum", "1")])))
        #expect(!RequestHead.validTrailers(block([(":path", "/")])))
    }

    @Test func oversizedHeaderListIsRefused() {
        let big = (0..<100).map { ("x-f\($0)", String(repeating: "v", count: 400)) }
        #expect(get(big).failureValue == .refused(431, "request header fields too large"))
    }

    @Test("random blocks: no crash; an accepted target and host are safe on an HTTP/1.1 line")
    func randomBlocks() {
        var random = SeededGenerator(seed: 0x4832)
        let names = [":method", ":path", ":authority", ":scheme", "host", "cookie", "content-length", "x-a", ":bogus"]
        let alphabet = Array("GET/ ?a:1@[]%\r\n\u{0}*,.-éPOST0123456789".unicodeScalars).map(String.init)
        for _ in 0..<20_000 {
            var fields: [(String, String)] = []
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                let name = names.randomElement(using: &random) ?? "x"
                let value = (0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? "" }.joined()
                fields.append((name, value))
            }
            guard case .success(let request) = RequestHead.request(from: block(fields), endStream: Bool.random(using: &random),
                                                                  limits: limits) else { continue }
            #expect(request.target.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F })
            #expect(request.headers["host"].count == 1)
            let host = Array((request.host ?? "").utf8)
            #expect(host.allSatisfy { $0 > 0x20 && $0 < 0x7F })
        }
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
