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

/// A request answered from a stored entry: its fields with `Age` and `Cache-Status`; 304 when
/// the client's conditional matches; 206 for one range of a stored 200 (416 past its end); no
/// body to HEAD; the body from memory, or from the entry's file (sendfile on plain connections).
enum StoredAnswer {
    /// False when the entry's file is gone or damaged (the caller forgets it and fetches).
    static func write(_ entry: CacheZone.Entry, status: CacheStatus, request: Request, writer: ResponseWriter,
                      zone: CacheZone, now: Int) -> Bool {
        let header = entry.header
        let length = header.bodyLength
        var fields = HTTPHeaders()
        for field in header.fields { fields.add(name: field.name, value: field.value) }
        fields.replaceOrAdd(name: "Age", value: String(header.age(now: now)))
        fields.add(name: "Cache-Status", value: status.fieldValue)
        var code = header.status
        var slice = 0..<length
        if header.status == 200, isNotModified(request, fields: fields) {
            code = 304
            slice = 0..<0
        } else if header.status == 200, request.method == .GET || request.method == .HEAD,
                  let range = request.headers.first(name: "range"), ifRangeHolds(request, fields: fields) {
            switch ByteRange.parse(range, size: length) {
            case .none: break
            case .satisfiable(let start, let end):
                code = 206
                slice = start..<(end + 1)
                fields.replaceOrAdd(name: "Content-Range", value: "bytes \(start)-\(end)/\(length)")
            case .unsatisfiable:
                ErrorResponse.write(writer, status: 416, reason: "range not satisfiable",
                                    headers: ["Content-Range": "bytes */\(length)", "Cache-Status": status.fieldValue])
                zone.count(status.outcome.rawValue)
                return true
            }
        }
        let hasBody = ResponseHead.hasBody(status: code, method: request.method)
        let kind: ResponseHead.Body = ResponseHead.forbidsBody(status: code) ? .empty : .length(slice.count)
        let head = ResponseHead(status: HTTPResponseStatus(statusCode: code), headers: fields, body: kind)
        guard hasBody, !slice.isEmpty else {
            writer.respond(head, body: nil)
            zone.count(status.outcome.rawValue)
            return true
        }
        if let body = entry.body, let part = body.getSlice(at: body.readerIndex + slice.lowerBound, length: slice.count) {
            writer.respond(head, body: part)
        } else {
            guard let fd = zone.disk.open(id: entry.id) else { return false }
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

    /// If-None-Match (weak comparison) over If-Modified-Since (RFC 9110 §13.2.2), on GET and HEAD.
    static func isNotModified(_ request: Request, fields: HTTPHeaders) -> Bool {
        guard request.method == .GET || request.method == .HEAD else { return false }
        let ifNoneMatch = request.headers["if-none-match"]
        let since = request.headers.first(name: "if-modified-since").flatMap { HTTPDate.parse($0) }
        guard !ifNoneMatch.isEmpty || since != nil else { return false }
        return ClientConditional.notModified(ifNoneMatch: ifNoneMatch, ifModifiedSince: since, etag: fields.first(name: "etag"),
                                             lastModified: fields.first(name: "last-modified").flatMap { HTTPDate.parse($0) })
    }

    /// If-Range (RFC 9110 §13.1.5): a strong ETag equal to the stored one, or the stored
    /// Last-Modified exactly; anything else means the whole response.
    static func ifRangeHolds(_ request: Request, fields: HTTPHeaders) -> Bool {
        guard let value = request.headers.first(name: "if-range") else { return true }
        if value.hasPrefix("\"") { return fields.first(name: "etag") == value }
        guard let date = HTTPDate.parse(value), let modified = fields.first(name: "last-modified").flatMap({ HTTPDate.parse($0) }) else {
            return false
        }
        return date == modified
    }
}
