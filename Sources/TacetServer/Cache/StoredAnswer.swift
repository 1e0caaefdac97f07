import NIOCore
import NIOHTTP1
import TacetCache
import TacetHTTP
import TacetStatic

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A request answered from a stored entry: its fields (serialised once, `EntryFacts`) with `Age`
/// and `Cache-Status`; 304 when the client's conditional matches; 206 for one range of a stored
/// 200 (416 past its end); no body to HEAD; the body from memory, or (large, or out of memory)
/// from the entry's file, by sendfile on plain connections.
enum StoredAnswer {
    /// Bodies above this go from the file when it is written: sendfile beats copying them.
    static let fileThreshold = 32 * 1024

    /// False when the entry's file is gone or damaged (the caller forgets it and fetches).
    static func write(_ entry: CacheZone.Entry, status: CacheStatus, request: Request, writer: ResponseWriter,
                      zone: CacheZone, now: Int) -> Bool {
        let header = entry.header
        let facts = entry.facts ?? EntryFacts(header: header, date: { HTTPDate.parse($0) })
        let length = header.bodyLength
        var encoded = facts.encodedFields
        encoded.writeStaticString("Age: ")
        encoded.writeString(String(header.age(now: now)))
        encoded.writeStaticString("\r\nCache-Status: ")
        encoded.writeString(status.fieldValue)
        encoded.writeStaticString("\r\n")
        var code = header.status
        var slice = 0..<length
        let asks = Asks(request)
        if header.status == 200, asks.conditional, isNotModified(request, facts: facts) {
            code = 304
            slice = 0..<0
        } else if header.status == 200, let range = asks.range, ifRangeHolds(request, facts: facts) {
            switch ByteRange.parse(range, size: length) {
            case .none: break
            case .satisfiable(let start, let end):
                code = 206
                slice = start..<(end + 1)
                encoded.writeString("Content-Range: bytes \(start)-\(end)/\(length)\r\n")
            case .unsatisfiable:
                ErrorResponse.write(writer, status: 416, reason: "range not satisfiable",
                                    headers: ["Content-Range": "bytes */\(length)", "Cache-Status": status.fieldValue])
                zone.count(status.outcome.rawValue)
                return true
            }
        }
        let hasBody = ResponseHead.hasBody(status: code, method: request.method)
        let kind: ResponseHead.Body = ResponseHead.forbidsBody(status: code) ? .empty : .length(slice.count)
        var head = ResponseHead(status: HTTPResponseStatus(statusCode: code), body: kind, encodedFields: encoded)
        head.date = facts.date
        guard hasBody, !slice.isEmpty else {
            writer.respond(head, body: nil)
            zone.count(status.outcome.rawValue)
            return true
        }
        if let body = entry.body, slice.count <= fileThreshold || !entry.onDisk,
           let part = body.getSlice(at: body.readerIndex + slice.lowerBound, length: slice.count) {
            writer.respond(head, body: part)
        } else {
            guard entry.onDisk, let fd = zone.disk.open(id: entry.id) else { return false }
            var info = stat()
            guard fstat(fd, &info) == 0, Int(info.st_size) == entry.bodyOffset + length else {
                close(fd)
                return false
            }
            writer.writeHead(head, flush: false)
            writer.writeFile(descriptor: fd, offset: entry.bodyOffset + slice.lowerBound, count: slice.count)
            writer.end()
        }
        zone.count(status.outcome.rawValue, bytes: slice.count)
        return true
    }

    /// Whether the request carries conditionals or a range: one pass over its fields, so the
    /// common hit looks nothing up.
    struct Asks {
        var conditional = false
        var range: String?

        init(_ request: Request) {
            guard request.method == .GET || request.method == .HEAD else { return }
            for (name, value) in request.headers {
                guard let first = name.utf8.first, first | 0x20 == UInt8(ascii: "i") || first | 0x20 == UInt8(ascii: "r") else { continue }
                let lower = name.lowercased()
                if lower == "if-none-match" || lower == "if-modified-since" { conditional = true }
                if lower == "range", range == nil { range = value }
            }
        }
    }

    /// If-None-Match (weak comparison) over If-Modified-Since (RFC 9110 §13.2.2).
    static func isNotModified(_ request: Request, facts: EntryFacts) -> Bool {
        let ifNoneMatch = request.headers["if-none-match"]
        let since = request.headers.first(name: "if-modified-since").flatMap { HTTPDate.parse($0) }
        guard !ifNoneMatch.isEmpty || since != nil else { return false }
        return ClientConditional.notModified(ifNoneMatch: ifNoneMatch, ifModifiedSince: since, etag: facts.etag,
                                             lastModified: facts.lastModifiedTime)
    }

    /// If-Range (RFC 9110 §13.1.5): a strong ETag equal to the stored one, or the stored
    /// Last-Modified exactly; anything else means the whole response.
    static func ifRangeHolds(_ request: Request, facts: EntryFacts) -> Bool {
        guard let value = request.headers.first(name: "if-range") else { return true }
        if value.hasPrefix("\"") { return facts.etag == value }
        guard let date = HTTPDate.parse(value), let modified = facts.lastModifiedTime else { return false }
        return date == modified
    }
}
