import NIOCore
import NIOHPACK
import NIOHTTP1
import TacetHTTP
import Testing
@testable import TacetHTTP2

/// Response header blocks as Tacet writes them (no dynamic table, no Huffman), read back by
/// NIOHPACK's decoder as an independent peer.
@Suite("HTTP/2: response header blocks")
struct ResponseBlockTests {
    static func decode(_ block: ByteBuffer) throws -> [(String, String)] {
        var decoder = HPACKDecoder(allocator: ByteBufferAllocator())
        var bytes = block
        return try decoder.decodeHeaders(from: &bytes).map { ($0.name, $0.value) }
    }

    @Test("Every status code, the static table's and the others, reads back")
    func statuses() throws {
        for code in [100, 103, 200, 201, 204, 206, 301, 304, 400, 404, 418, 431, 500, 502, 599] {
            var out = ByteBuffer()
            HPACKLiteral.status(code, into: &out)
            #expect(try Self.decode(out).first?.1 == String(code))
            #expect(out.readableBytes == ([200, 204, 206, 304, 400, 404, 500].contains(code) ? 1 : 5))
        }
    }

    @Test("Integers across the prefix boundaries (RFC 7541 §5.1, C.1)")
    func integers() {
        var out = ByteBuffer()
        HPACKLiteral.integer(10, prefixBits: 5, flags: 0, into: &out)
        #expect(Array(out.readableBytesView) == [0x0A])
        out.clear()
        HPACKLiteral.integer(1337, prefixBits: 5, flags: 0, into: &out)
        #expect(Array(out.readableBytesView) == [0x1F, 0x9A, 0x0A])
        out.clear()
        HPACKLiteral.integer(127, prefixBits: 7, flags: 0, into: &out)
        #expect(Array(out.readableBytesView) == [0x7F, 0x00])
    }

    @Test("A fixed response: status, server, date, its fields lowercased, content-length; no connection-specific fields")
    func fixedResponse() throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "X-Custom", value: "a b")
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        var out = ByteBuffer()
        ResponseBlock.write(ResponseHead(status: .ok, headers: headers, body: .length(1_234_567)), date: "Mon, 07 Dec 2026 03:17:38 GMT", into: &out)
        let fields = try Self.decode(out)
        #expect(fields.map(\.0) == [":status", "server", "date", "content-type", "x-custom", "content-length"])
        #expect(fields.map(\.1) == ["200", "tacet", "Mon, 07 Dec 2026 03:17:38 GMT", "text/plain", "a b", "1234567"])
    }

    @Test("A proxied response's fields, encoded from their bytes; 204 and 304 get no content-length")
    func encodedFields() throws {
        let encoded = ByteBuffer(string: "ETag: \"x\"\r\nKeep-Alive: timeout=5\r\nSet-Cookie:  a=1 \r\nVary:\tAccept\r\n")
        for (status, length) in [(HTTPResponseStatus.ok, "0"), (.noContent, nil), (.notModified, nil)] {
            var out = ByteBuffer()
            ResponseBlock.write(ResponseHead(status: status, body: .empty, encodedFields: encoded), date: "d", into: &out)
            let fields = try Self.decode(out)
            var expected = [":status", "server", "date", "etag", "set-cookie", "vary"]
            if length != nil { expected.append("content-length") }
            #expect(fields.map(\.0) == expected)
            #expect(fields[3].1 == "\"x\"" && fields[4].1 == "a=1" && fields[5].1 == "Accept")
        }
    }

    @Test("Content-Length of 0, 9, 10 and large values")
    func decimals() throws {
        for n in [0, 9, 10, 99, 100, 65_535, 1 << 40] {
            var out = ByteBuffer()
            HPACKLiteral.field(.contentLength, decimal: n, into: &out)
            #expect(try Self.decode(out).first?.1 == String(n))
        }
    }
}
