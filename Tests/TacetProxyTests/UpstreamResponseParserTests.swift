import NIOCore
import NIOHTTP1
import TacetProxy
import Testing

/// The upstream response parser without sockets: framing, strictness, and the client's fields.
@Suite("Upstream response parser")
struct UpstreamResponseParserTests {
    typealias Parser = UpstreamResponseParser

    enum Seen: Equatable {
        case head(Int, keepAlive: Bool, framing: Parser.Framing)
        case body(String)
        case end
    }

    /// Feeds `chunks` one after another, collecting events; `eof` then reports the close.
    func run(_ chunks: [String], head: Bool = false, eof: Bool = false, parser: inout Parser,
             heads: inout [Parser.Head]) throws -> [Seen] {
        parser.requestIsHEAD = head
        var seen: [Seen] = []
        var buffer = ByteBuffer()
        for chunk in chunks {
            buffer.writeString(chunk)
            while let event = try parser.next(&buffer) {
                seen.append(Self.record(event, &heads))
                if parser.isSwitched { return seen }
            }
        }
        if eof, let event = try parser.inputClosed(pending: buffer) { seen.append(Self.record(event, &heads)) }
        return seen
    }

    func run(_ chunks: [String], head: Bool = false, eof: Bool = false) throws -> [Seen] {
        var parser = Parser()
        var heads: [Parser.Head] = []
        return try run(chunks, head: head, eof: eof, parser: &parser, heads: &heads)
    }

    static func record(_ event: Parser.Event, _ heads: inout [Parser.Head]) -> Seen {
        switch event {
        case .head(let h):
            heads.append(h)
            return .head(Int(h.status.code), keepAlive: h.keepAlive, framing: h.framing)
        case .body(let b): return .body(String(buffer: b))
        case .end: return .end
        }
    }

    @Test("Content-Length body, split anywhere; the client's fields lose hop-by-hop, Server, Date")
    func contentLength() throws {
        let response = "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: x\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n"
            + "Connection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nProxy-Foo: a\r\nX-Other: b\r\n\r\nhello\n"
        var parser = Parser()
        var heads: [Parser.Head] = []
        let events = try run([response], parser: &parser, heads: &heads)
        #expect(events == [.head(200, keepAlive: true, framing: .length(6)), .body("hello\n"), .end])
        let fields = heads[0].headers.map { "\($0.name): \($0.value)" }
        #expect(fields == ["Content-Type: text/plain", "X-Other: b", "Via: 1.1 tacet"])
        #expect(heads[0].contentLength == 6)
        for split in 1..<response.utf8.count {
            let bytes = Array(response.utf8)
            let parts = [String(decoding: bytes[..<split], as: UTF8.self), String(decoding: bytes[split...], as: UTF8.self)]
            let got = try run(parts)
            #expect(got.first == .head(200, keepAlive: true, framing: .length(6)))
            #expect(got.last == .end)
        }
    }

    @Test("the client's fields are the upstream's bytes: names as sent, values trimmed, a named field removed wherever it is")
    func fieldBytes() throws {
        let response = "HTTP/1.1 200 OK\r\nx-early: gone\r\nSet-Cookie: a=b; Path=/\r\nX-Empty:\r\n"
            + "X-Url:  http://h:1/p \r\nConnection: X-Early\r\nContent-Length: 0\r\n\r\n"
        var parser = Parser()
        var heads: [Parser.Head] = []
        // Twice on one parser: the second head reuses the first one's field storage.
        _ = try run([response, response], parser: &parser, heads: &heads)
        #expect(heads.count == 2)
        for head in heads {
            #expect(String(buffer: head.fields)
                == "Set-Cookie: a=b; Path=/\r\nX-Empty: \r\nX-Url: http://h:1/p\r\nVia: 1.1 tacet\r\n")
            #expect(head.headers.map { "\($0.name)=\($0.value)" }
                == ["Set-Cookie=a=b; Path=/", "X-Empty=", "X-Url=http://h:1/p", "Via=1.1 tacet"])
        }
    }

    @Test("a head let go of lends its field storage to the next, even after calls that found no head")
    func fieldStorageReused() throws {
        var parser = Parser()
        var buffer = ByteBuffer(string: "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n")
        // The first head is let go of at the end of this block, as the exchange does once it is relayed.
        let storage = try { () throws -> UnsafeRawPointer? in
            guard case .head(let first)? = try parser.next(&buffer) else { return nil }
            return first.fields.withUnsafeReadableBytes { $0.baseAddress }
        }()
        #expect(storage != nil)
        #expect(try parser.next(&buffer).map { "\($0)" } == "end")
        #expect(try parser.next(&buffer) == nil)  // between responses: nothing to parse
        buffer.writeString("HTTP/1.1 204 No Content\r\nX-B: 2\r\n")
        #expect(try parser.next(&buffer) == nil)  // half a head
        buffer.writeString("\r\n")
        guard case .head(let second)? = try parser.next(&buffer) else { Issue.record("no head"); return }
        #expect(second.fields.withUnsafeReadableBytes { $0.baseAddress } == storage)
        #expect(String(buffer: second.fields) == "X-B: 2\r\nVia: 1.1 tacet\r\n")
    }

    @Test("chunked body, trailers, then a second response on the same connection")
    func chunked() throws {
        var parser = Parser()
        var heads: [Parser.Head] = []
        let events = try run(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\nX-T: 1\r\n\r\n",
                              "HTTP/1.1 204 No Content\r\n\r\n"], parser: &parser, heads: &heads)
        #expect(events == [.head(200, keepAlive: true, framing: .chunked), .body("hello"), .body("!"), .end,
                           .head(204, keepAlive: true, framing: .none), .end])
        #expect(heads[0].contentLength == nil)
    }

    @Test("close-delimited: ends at EOF and is not kept alive; EOF elsewhere is a failure")
    func closeDelimited() throws {
        #expect(try run(["HTTP/1.1 200 OK\r\n\r\nabc", "def"], eof: true)
                == [.head(200, keepAlive: false, framing: .close), .body("abc"), .body("def"), .end])
        #expect(throws: Parser.Failure.self) { try run(["HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"], eof: true) }
        #expect(throws: Parser.Failure.self) { try run(["HTTP/1.1 200 OK\r\nContent-"], eof: true) }
        #expect(try run([], eof: true) == [])
    }

    @Test("no body: HEAD, 204, 304; 1xx interim then the final response")
    func noBody() throws {
        #expect(try run(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"], head: true)
                == [.head(200, keepAlive: true, framing: .none), .end])
        #expect(try run(["HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"])
                == [.head(304, keepAlive: true, framing: .none), .end])
        #expect(try run(["HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"])
                == [.head(103, keepAlive: true, framing: .none), .head(200, keepAlive: true, framing: .length(1)), .body("x"), .end])
    }

    @Test("101: head and end, then parsing stops and the rest stays for the tunnel")
    func switching() throws {
        var parser = Parser()
        var heads: [Parser.Head] = []
        var buffer = ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\u{81}\u{01}x")
        guard case .head(let head)? = try parser.next(&buffer) else { Issue.record("no head"); return }
        heads.append(head)
        #expect(head.status == .switchingProtocols)
        #expect(head.upgrade == "websocket")
        guard case .end? = try parser.next(&buffer) else { Issue.record("no end"); return }
        #expect(parser.isSwitched)
        #expect(try parser.next(&buffer) == nil)
        #expect(buffer.readableBytes == 4)  // U+0081 is two bytes in UTF-8
    }

    @Test("keep-alive: HTTP/1.0 needs it asked for; Connection: close ends it")
    func keepAlive() throws {
        #expect(try run(["HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"]) == [.head(200, keepAlive: false, framing: .none), .end])
        #expect(try run(["HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"])
                == [.head(200, keepAlive: true, framing: .none), .end])
        #expect(try run(["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"])
                == [.head(200, keepAlive: false, framing: .none), .end])
    }

    @Test("malformed responses fail", arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "hello\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 junk\r\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n",
    ])
    func malformed(_ response: String) {
        #expect(throws: Parser.Failure.self) { try run([response]) }
    }
}
