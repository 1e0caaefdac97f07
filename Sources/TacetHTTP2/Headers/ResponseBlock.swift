import NIOCore
import NIOHTTP1
import TacetHTTP

/// A route's `ResponseHead` as an HPACK header block, written straight into a buffer: `:status`,
/// `server` and `date` as on HTTP/1.1, the route's fields lowercased without the
/// connection-specific ones HTTP/2 forbids (RFC 9113 §8.2.2), and `content-length` when the
/// length is known. A proxied response's fields (`encodedFields`, `Name: value` lines) are
/// encoded from their bytes, never made into Strings.
enum ResponseBlock {
    static func write(_ head: ResponseHead, date: String, into out: inout ByteBuffer) {
        let code = Int(head.status.code)
        HPACKLiteral.status(code, into: &out)
        HPACKLiteral.field(.server, value: "tacet", into: &out)
        HPACKLiteral.field(.date, value: head.date ?? date, into: &out)
        if head.headers.isEmpty, let encoded = head.encodedFields {
            writeEncodedFields(encoded, into: &out)
        } else {
            for (name, value) in head.headers where !FieldNames.isHopByHop(name) {
                HPACKLiteral.field(name: name.utf8, value: value.utf8, into: &out)
            }
        }
        if !ResponseHead.forbidsBody(status: code) {
            switch head.body {
            case .length(let n): HPACKLiteral.field(.contentLength, decimal: n, into: &out)
            case .empty where code >= 200: HPACKLiteral.field(.contentLength, decimal: 0, into: &out)
            case .empty, .stream: break
            }
        }
    }

    /// An interim (1xx) response: its status and fields, nothing else.
    static func writeInterim(_ status: HTTPResponseStatus, headers: HTTPHeaders, into out: inout ByteBuffer) {
        HPACKLiteral.status(Int(status.code), into: &out)
        for (name, value) in headers where !FieldNames.isHopByHop(name) {
            HPACKLiteral.field(name: name.utf8, value: value.utf8, into: &out)
        }
    }

    /// Trailer fields: lowercased, no pseudo-fields, nothing connection-specific.
    static func writeTrailers(_ trailers: HTTPHeaders, into out: inout ByteBuffer) {
        for (name, value) in trailers where !FieldNames.isHopByHop(name) && !name.hasPrefix(":") {
            HPACKLiteral.field(name: name.utf8, value: value.utf8, into: &out)
        }
    }

    /// `Name: value\r\n` lines, optional whitespace around the value trimmed.
    static func writeEncodedFields(_ encoded: ByteBuffer, into out: inout ByteBuffer) {
        let bytes = encoded.readableBytesView
        var lineStart = bytes.startIndex
        while lineStart < bytes.endIndex {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\r")) ?? bytes.endIndex
            let line = bytes[lineStart..<lineEnd]
            lineStart = min(lineEnd + 2, bytes.endIndex)
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, !FieldNames.isHopByHop(name) else { continue }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
            while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
            HPACKLiteral.field(name: name, value: value, into: &out)
        }
    }
}
