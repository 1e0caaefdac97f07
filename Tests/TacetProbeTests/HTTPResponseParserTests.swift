import Testing
@testable import TacetProbe

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct HTTPResponseParserTests {
    @Test func contentLengthResponseIsCompleteWithCaseInsensitiveHeaders() {
        let parsed = HTTPResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing: a b \r\n\r\nhello"))
        #expect(parsed.responses.count == 1)
        let r = parsed.responses[0]
        #expect(r.status == 200 && r.reason == "OK" && r.version == "HTTP/1.1")
        #expect(r.header("content-length") == "5")
        #expect(r.header("x-thing") == "a b")
        #expect(r.bodyString == "hello")
        #expect(r.isComplete && !r.isInterim)
        #expect(parsed.trailingBytes.isEmpty)
    }

    @Test func shortContentLengthBodyIsIncomplete() {
        let parsed = HTTPResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel"))
        #expect(parsed.responses.count == 1)
        #expect(parsed.responses[0].bodyString == "hel")
        #expect(!parsed.responses[0].isComplete)
        #expect(parsed.responses[0].expectedBodyLength == 10)
        #expect(parsed.completeFinalCount == 0)
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() {
        let wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        let parsed = HTTPResponseParser.parse(bytes(wire))
        #expect(parsed.responses.count == 1)
        #expect(parsed.responses[0].bodyString == "hello world")
        #expect(parsed.responses[0].isComplete)
        #expect(parsed.responses[0].framing == .chunked)
        #expect(parsed.trailingBytes.isEmpty)
    }

    @Test func chunkedBodyWithoutTerminatorIsIncomplete() {
        let parsed = HTTPResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n wo"))
        #expect(parsed.responses[0].bodyString == "hello wo")
        #expect(!parsed.responses[0].isComplete)
    }

    @Test func interimResponsesPrecedeTheFinalOne() {
        let wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
        let parsed = HTTPResponseParser.parse(bytes(wire))
        #expect(parsed.responses.map(\.status) == [100, 103, 201])
        #expect(parsed.responses.map(\.isInterim) == [true, true, false])
        #expect(parsed.interimResponses.count == 2)
        #expect(parsed.finalResponses.map(\.bodyString) == ["ok"])
    }

    @Test func pipelinedResponsesWithHeadHaveNoBodyForTheHead() {
        let wire = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
            + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz"
        let parsed = HTTPResponseParser.parse(bytes(wire), requestMethods: ["GET", "HEAD", "GET"])
        #expect(parsed.responses.count == 3)
        #expect(parsed.responses.map(\.bodyString) == ["abc", "", "xyz"])
        #expect(parsed.completeFinalCount == 3)
        // Without knowing the second was HEAD, the third head is read as the second's body.
        let naive = HTTPResponseParser.parse(bytes(wire))
        #expect(naive.responses.count == 2)
    }

    @Test func noBodyFor204And304() {
        let wire = "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n"
        let parsed = HTTPResponseParser.parse(bytes(wire))
        #expect(parsed.responses.map(\.status) == [204, 304])
        #expect(parsed.responses.allSatisfy { $0.isComplete && $0.body.isEmpty })
    }

    @Test func bodyToEOFIsCompleteOnlyAfterFIN() {
        let wire = bytes("HTTP/1.0 200 OK\r\n\r\nall of it")
        #expect(!HTTPResponseParser.parse(wire).responses[0].isComplete)
        let finished = HTTPResponseParser.parse(wire, endedWithFIN: true)
        #expect(finished.responses[0].isComplete)
        #expect(finished.responses[0].bodyString == "all of it")
        #expect(finished.responses[0].framing == .toEOF)
    }

    @Test func incompleteHeadAndGarbageStayInTrailingBytes() {
        let half = HTTPResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nContent-Le"))
        #expect(half.responses.isEmpty)
        #expect(half.trailingBytes == bytes("HTTP/1.1 200 OK\r\nContent-Le"))
        let garbage = HTTPResponseParser.parse(bytes("HTTP/1.1 204 No Content\r\n\r\nnot http"))
        #expect(garbage.responses.count == 1)
        #expect(garbage.trailingBytes == bytes("not http"))
        #expect(HTTPResponseParser.parse(bytes("HTTP/1.1 abc\r\n\r\n")).responses.isEmpty)
    }

    @Test func bareLineFeedsAndMissingReasonAreAccepted() {
        let parsed = HTTPResponseParser.parse(bytes("HTTP/1.1 404\nContent-Length: 1\n\nx"))
        #expect(parsed.responses.count == 1)
        #expect(parsed.responses[0].status == 404 && parsed.responses[0].reason == "")
        #expect(parsed.responses[0].bodyString == "x")
    }

    @Test func emptyInputParsesToNothing() {
        let parsed = HTTPResponseParser.parse([])
        #expect(parsed.responses.isEmpty && parsed.trailingBytes.isEmpty)
    }
}
