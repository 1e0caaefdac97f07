import Foundation
@testable import TacetProbe
import TacetTestSupport
import Testing

/// The origin's request parser and chunked decoder: what they accept, what they refuse, and a
/// fuzz of mutated and split input (never a crash, never a different answer for a split).
@Suite struct OriginParserTests {
    typealias P = OriginRequestParser

    @Test func headsAndTheirFraming() {
        let get = Array("GET /slow?ms=300&tacet=ab-half-close-1 HTTP/1.1\r\nHost: x\r\n\r\nNEXT".utf8)
        guard case .head(let head, let length) = P.parse(get) else {
            Issue.record("not parsed")
            return
        }
        #expect(length == get.count - 4)
        #expect(head.path == "/slow" && head.query("ms") == "300" && head.query("tacet") == "ab-half-close-1")
        #expect(head.contentLength == 0 && !head.chunked && !head.closeAfter)
        guard case .head(let post, _) = P.parse(Array("POST /echo HTTP/1.0\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n".utf8)) else {
            Issue.record("not parsed")
            return
        }
        #expect(post.contentLength == 5 && !post.closeAfter)
        #expect(P.parse(Array("GET / HTTP/1.1\r\nHost: x\r\n".utf8)) == .needMore)
        for bad in ["GET / HTTP/2.0\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET x HTTP/1.1\r\n\r\n",
                    "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                    "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                    "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
                    "POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"] {
            guard case .invalid = P.parse(Array(bad.utf8)) else {
                Issue.record("accepted: \(bad)")
                continue
            }
        }
        #expect(P.parse([UInt8](repeating: UInt8(ascii: "a"), count: P.maxHeadBytes + 10)) != .needMore)
    }

    @Test func chunkedBodies() {
        var decoder = ChunkedBody()
        #expect(decoder.feed(Array("5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\nNEXT".utf8)) == .done(consumed: 33))
        #expect(decoder.body == Array("hello".utf8))
        for bad in ["zz\r\n", "5\r\nhelloX\r\n", "5\nhello", "fffffffff\r\n", "+a\r\n", "-0\r\n"] {
            var one = ChunkedBody()
            guard case .invalid = one.feed(Array(bad.utf8)) else {
                Issue.record("accepted: \(bad)")
                continue
            }
        }
    }

    @Test("Fuzz: mutated requests and chunked bodies never crash; whole and split input give the same answer")
    func fuzz() {
        var random = SeededGenerator(seed: 0x0815)
        let heads: [[UInt8]] = [
            Array("GET /fast?tacet=a-b-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: x\r\n\r\n".utf8),
            Array("POST /echo?ms=5 HTTP/1.1\r\nContent-Length: 12\r\nConnection: close\r\n\r\n".utf8),
            Array("PUT /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n".utf8),
        ]
        let bodies: [[UInt8]] = [Array("5\r\nhello\r\n0\r\n\r\n".utf8), Array("a;x=y\r\n0123456789\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n".utf8)]
        for _ in 0..<3000 {
            let bytes = random.mutate(heads[Int(random.next() % UInt64(heads.count))])
            let whole = P.parse(bytes)
            var answer = P.Result.needMore
            for n in 1...max(bytes.count, 1) where n <= bytes.count {
                answer = P.parse(bytes.prefix(n))
                if answer != .needMore { break }
            }
            if case .head(let head, let length) = answer {
                #expect(whole == .head(head, length: length), "\(bytes)")
            }
            let body = random.mutate(bodies[Int(random.next() % UInt64(bodies.count))])
            var all = ChunkedBody()
            let once = all.feed(body)
            var split = ChunkedBody()
            var result = ChunkedBody.Step.needMore
            var offset = 0
            var fed = 0
            while offset < body.count {
                let size = 1 + Int(random.next() % 5)
                let piece = body[offset..<min(body.count, offset + size)]
                result = split.feed(piece)
                if case .done(let consumed) = result { result = .done(consumed: fed + consumed); break }
                if case .invalid = result { break }
                fed += piece.count
                offset += size
            }
            switch (once, result) {
            case (.done(let a), .done(let b)): #expect(a == b && all.body == split.body, "\(body)")
            case (.invalid, .invalid), (.needMore, .needMore): break
            default: Issue.record("whole \(once) vs split \(result): \(body)")
            }
        }
    }
}

/// What the origin takes from a peer beyond requests: delays, a PROXY header in front.
@Suite struct OriginInputTests {
    @Test func delaysAreFiniteAndBounded() {
        #expect(OriginHTTPSession.delay("300") == 300)
        for (text, expected) in [("-inf", 0.0), ("inf", 0), ("nan", 0), ("-5", 0), ("1e20", 60_000), ("x", 0)] {
            #expect(OriginHTTPSession.delay(text) == expected, "\(text)")
        }
        #expect(OriginHTTPSession.delay(nil) == 0)
    }

    @Test func aProxyHeaderInFrontIsSkipped() {
        let v1 = Array("PROXY TCP4 192.0.2.1 192.0.2.2 5000 80\r\n".utf8)
        #expect(ProxyPreamble.length(v1 + Array("GET".utf8)) == .length(v1.count))
        #expect(ProxyPreamble.length(Array(v1.prefix(10))) == .needMore)
        let v2 = ProxyPreamble.v2Signature + [0x21, 0x11, 0x00, 0x0C] + [UInt8](repeating: 1, count: 12)
        #expect(ProxyPreamble.length(v2 + [0x47]) == .length(28))
        #expect(ProxyPreamble.length(Array(v2.prefix(14))) == .needMore)
        #expect(ProxyPreamble.length(Array("POST / HTTP/1.1\r\n".utf8)) == .none)
        #expect(ProxyPreamble.length(Array("GET / HTTP/1.1\r\n".utf8)) == .none)
        let greeting = Array(OriginTCPSession.greeting(tag: "ab-tcp-1", delayMs: 1000).utf8)
        #expect(OriginTCPSession.greeting(in: v2 + greeting)?.tag == "ab-tcp-1")
        #expect(OriginTCPSession.greeting(in: v1 + greeting)?.delay == 1000)
        #expect(OriginTCPSession.greeting(in: Array("hello\n".utf8))?.tag == "")
        #expect(OriginTCPSession.greeting(in: Array("TACET-PRO".utf8)) == nil)
    }
}

/// The origin's notebook is bounded: per tag, and in tags.
@Suite struct OriginRecorderTests {
    @Test func boundedPerTagAndInTags() {
        let recorder = OriginRecorder(limit: 3)
        for _ in 0..<(OriginRecorder.perTag + 5) {
            _ = recorder.addRequest(OriginRequestRecord(method: "GET", path: "/fast", receivedMs: 0, dueMs: 0), tag: "a")
        }
        #expect(recorder.observation(tag: "a").requests.count == OriginRecorder.perTag)
        for tag in ["b", "c", "d"] { _ = recorder.addTCP(OriginTCPRecord(), tag: tag) }
        #expect(recorder.observation(tag: "a").requests.isEmpty)
        #expect(recorder.observation(tag: "d").tcp.count == 1)
    }

    @Test func waitingEndsOnTheChangeItWaitsFor() {
        let recorder = OriginRecorder()
        let index = recorder.addRequest(OriginRequestRecord(method: "GET", path: "/slow", receivedMs: 0, dueMs: 0), tag: "t")
        let thread = Thread {
            recorder.updateRequest(tag: "t", index: index) {
                $0.response = OriginResponse(status: 200, bodyBytes: 1, bodyDigest: "x", sentMs: 1)
            }
        }
        thread.start()
        let seen = recorder.wait(tag: "t", timeout: 30) { $0.requests.first?.isSettled == true }
        #expect(seen.requests.first?.response?.status == 200)
    }
}
