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
        #expect(get([("content-length", "x")]).failureValue == .badRequest("invalid Content-Length"))
        #expect(get([("content-length", "1"), ("content-length", "2")]).failureValue == .badRequest("conflicting Content-Length"))
        #expect(get([("content-length", "2000000")], endStream: false).failureValue == .tooLarge)
    }

    @Test func cookiesAreJoinedForHTTP1Upstreams() throws {
        let request = try get([("cookie", "a=1"), ("cookie", "b=2")]).get()
        #expect(request.headers["cookie"] == ["a=1; b=2"])
    }

    @Test func refusals() {
        let cases: [([(String, String)], RequestHead.Refusal)] = [
            ([(":method", "GET"), (":path", "/")], .badRequest("missing or invalid :authority")),
            ([(":method", "GET"), (":path", "relative"), (":authority", "h")], .badRequest("invalid :path")),
            ([(":method", "GET"), (":path", "/a b"), (":authority", "h")], .badRequest("invalid :path")),
            ([(":method", "GE T"), (":path", "/"), (":authority", "h")], .badRequest("invalid method")),
            ([(":method", "CONNECT"), (":authority", "h:443")], .notImplemented("CONNECT is not supported over HTTP/2")),
            ([(":method", "GET"), (":path", "/"), (":authority", "h/x")], .badRequest("missing or invalid :authority")),
            ([(":method", "GET"), (":path", "*"), (":authority", "h")], .badRequest("invalid :path")),
        ]
        for (fields, expected) in cases {
            #expect(RequestHead.request(from: block(fields), endStream: true, limits: limits).failureValue == expected, "\(fields)")
        }
        #expect((try? RequestHead.request(from: block([(":method", "OPTIONS"), (":path", "*"), (":authority", "h")]),
                                          endStream: true, limits: limits).get()) != nil)
    }

    @Test func oversizedHeaderListIsRefused() {
        let big = (0..<100).map { ("x-f\($0)", String(repeating: "v", count: 400)) }
        #expect(get(big).failureValue == .badRequest("request header fields too large"))
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
