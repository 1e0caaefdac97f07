import NIOCore
import Testing
@testable import TacetHTTP

/// However the bytes of a connection are cut into reads, the parser must give the same events.
@Suite("Parser: reads cut anywhere")
struct ParserSplitTests {
    static let conversations: [String] = [
        // Pipelined: a GET, a Content-Length POST, a chunked POST with extensions and trailers, an HTTP/1.0 GET.
        "\r\nGET /one HTTP/1.1\r\nHost: example.com\r\n\r\n"
            + "POST /two HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello"
            + "POST /three HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: t\r\n\r\n"
            + "GET /four HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        // Two requests back to back, the second chunked with an empty trailer section.
        "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\nPOST /b HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    ]

    static func expected(_ input: String) throws -> [Ev] { try parseAll(input) }

    @Test(arguments: conversations)
    func wholeBufferEvents(input: String) throws {
        let events = try parseAll(input)
        #expect(events.filter { $0 == .end }.count == (input.contains("/four") ? 4 : 2))
        if input.contains("/four") {
            #expect(events == [
                head("GET", "/one"), .end,
                head("POST", "/two", framing: .length(5)), .body("hello"), .end,
                head("POST", "/three", framing: .chunked), .body("abc0123456789abcdef"), .end,
                head("GET", "/four", version: "1.0", keepAlive: true, host: nil), .end,
            ])
        }
    }

    @Test("One byte at a time", arguments: conversations)
    func byteAtATime(input: String) throws {
        var feed = Feed()
        var events: [Ev] = []
        for byte in Array(input.utf8) { events += try feed.feed([byte]) }
        #expect(Ev.merged(events) == (try Self.expected(input)))
        #expect(feed.buffer.readableBytes == 0)
    }

    @Test("Every split into two reads", arguments: conversations)
    func everySplitPoint(input: String) throws {
        let bytes = Array(input.utf8)
        let expected = try Self.expected(input)
        for split in 0...bytes.count {
            var feed = Feed()
            var events = try feed.feed(Array(bytes[..<split]))
            events += try feed.feed(Array(bytes[split...]))
            #expect(Ev.merged(events) == expected, "split at \(split)")
        }
    }

    @Test("Every split into three reads", arguments: [conversations[1]])
    func everyTwoSplitPoints(input: String) throws {
        let bytes = Array(input.utf8)
        let expected = try Self.expected(input)
        for a in 0...bytes.count {
            for b in a...bytes.count {
                var feed = Feed()
                var events = try feed.feed(Array(bytes[..<a]))
                events += try feed.feed(Array(bytes[a..<b]))
                events += try feed.feed(Array(bytes[b...]))
                #expect(Ev.merged(events) == expected, "splits at \(a), \(b)")
            }
        }
    }
}

/// The parser never reads past the end of the request it is on: the caller decides when the next begins.
@Suite("Parser: pipelined requests stay in the buffer")
struct ParserPipelineTests {
    @Test func stopsAfterEachEnd() throws {
        let first = request("GET", "/1")
        let second = request("POST", "/2", "Content-Length: 3") + "abc"
        let third = request("POST", "/3", "Transfer-Encoding: chunked") + "1\r\nx\r\n0\r\n\r\n"
        let fourth = request("GET", "/4")
        var feed = Feed()
        feed.buffer.writeString(first + second + third + fourth)
        let start = feed.buffer.readerIndex

        #expect(try feed.step() == head("GET", "/1"))
        #expect(try feed.step() == .end)
        #expect(feed.buffer.readerIndex - start == first.utf8.count)

        #expect(try feed.step() == head("POST", "/2", framing: .length(3)))
        #expect(try feed.step() == .body("abc"))
        #expect(try feed.step() == .end)
        #expect(feed.buffer.readerIndex - start == (first + second).utf8.count)

        #expect(try feed.step() == head("POST", "/3", framing: .chunked))
        #expect(try feed.step() == .body("x"))
        #expect(try feed.step() == .end)
        #expect(feed.buffer.readerIndex - start == (first + second + third).utf8.count)
        #expect(feed.parser.isMidRequest(pending: feed.buffer), "the fourth request's bytes are waiting")

        #expect(try feed.step() == head("GET", "/4"))
        #expect(try feed.step() == .end)
        #expect(feed.buffer.readableBytes == 0)
        #expect(try feed.step() == nil)
        #expect(!feed.parser.isMidRequest(pending: feed.buffer))
    }

    @Test("A body never swallows the next request's bytes")
    func bodyStopsAtItsLength() throws {
        var feed = Feed()
        feed.buffer.writeString(request("POST", "/", "Content-Length: 2") + "ab" + "GET")
        #expect(try feed.step() == head("POST", framing: .length(2)))
        #expect(try feed.step() == .body("ab"))
        #expect(try feed.step() == .end)
        #expect(feed.buffer.readableBytes == 3)
        #expect(try feed.step() == nil)
        #expect(feed.parser.isMidRequest(pending: feed.buffer))
    }

    @Test func isMidRequestAndIsInBody() throws {
        var feed = Feed()
        #expect(!feed.parser.isMidRequest(pending: feed.buffer))
        _ = try feed.feed("GET / HT")
        #expect(feed.parser.isMidRequest(pending: feed.buffer))
        #expect(!feed.parser.isInBody)
        _ = try feed.feed("TP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab")
        #expect(feed.parser.isInBody)
        #expect(feed.parser.isMidRequest(pending: feed.buffer))
        _ = try feed.feed("cd")
        #expect(!feed.parser.isInBody)
        #expect(!feed.parser.isMidRequest(pending: feed.buffer))
    }
}
