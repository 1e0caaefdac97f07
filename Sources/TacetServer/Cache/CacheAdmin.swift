import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import TacetCache
import TacetHTTP

/// The cache on the admin listener only (never on a public one):
/// - `GET /cache`: each zone's entries, bytes on disk and in memory, hit ratio, requests by status;
/// - `PURGE` or `DELETE /cache/ZONE?url=URL`: every variant of that URL (the key as the route's
///   template makes it: `scheme://host/path?query` by default);
/// - `PURGE` or `DELETE /cache/ZONE?prefix=URL`: every key that starts with it.
/// The URL is percent-encoded in the query, as curl's `--data-urlencode` with `-G` sends it.
struct CacheAdminResponder: Responder {
    let zones: NIOLockedValueBox<[String: CacheZone]>

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        let zones = self.zones.withLockedValue { $0 }
        let path = request.path
        if path == "/cache" || path == "/cache/" {
            guard request.method == .GET || request.method == .HEAD else { return Self.answer(writer, 405, "use GET\n") }
            return Self.answer(writer, 200, Self.statsJSON(zones), type: "application/json")
        }
        let name = String(path.dropFirst("/cache/".count))
        guard let zone = zones[name] else { return Self.answer(writer, 404, "no cache zone '\(name)'\n") }
        guard request.method == .DELETE || request.method.rawValue == "PURGE" else {
            return Self.answer(writer, 405, "use PURGE or DELETE with ?url= or ?prefix=\n")
        }
        let query = Self.query(request.query.map(String.init) ?? "")
        let purged: Int
        if let url = query["url"], !url.isEmpty {
            purged = zone.remove(primary: url)
        } else if let prefix = query["prefix"], !prefix.isEmpty {
            purged = zone.remove(prefix: prefix)
        } else {
            return Self.answer(writer, 400, "give ?url= (one URL, all its variants) or ?prefix=\n")
        }
        return Self.answer(writer, 200, "{\"purged\":\(purged)}\n", type: "application/json")
    }

    private static func answer(_ writer: ResponseWriter, _ status: Int, _ text: String, type: String = "text/plain; charset=utf-8") -> (any RequestHandler)? {
        let body = ByteBuffer(string: text)
        writer.respond(ResponseHead(status: HTTPResponseStatus(statusCode: status), headers: ["Content-Type": type],
                                    body: .length(body.readableBytes)), body: body)
        return nil
    }

    static func statsJSON(_ zones: [String: CacheZone]) -> String {
        let items = zones.keys.sorted().compactMap { name -> String? in
            guard let stats = zones[name]?.stats else { return nil }
            let requests = stats.requests.keys.sorted().map { "\"\($0)\":\(stats.requests[$0] ?? 0)" }.joined(separator: ",")
            return "\"\(name)\":{\"entries\":\(stats.entries),\"disk_bytes\":\(stats.diskBytes),\"memory_bytes\":\(stats.memoryBytes),"
                + "\"hit_ratio\":\(decimal(stats.hitRatio)),\"bytes_served\":\(stats.bytesServed),"
                + "\"store_errors\":\(stats.storeErrors),\"requests\":{\(requests)}}"
        }
        return "{" + items.joined(separator: ",") + "}\n"
    }

    /// 0.1234: four places, without Foundation's formatter.
    static func decimal(_ value: Double) -> String {
        let scaled = Int((value * 10_000).rounded())
        let fraction = String(scaled % 10_000)
        return "\(scaled / 10_000)." + String(repeating: "0", count: 4 - fraction.count) + fraction
    }

    /// `a=b&c=d`, percent-decoded (`+` as a space); a malformed escape leaves the value out.
    static func query(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard let name = parts.first, let value = percentDecoded(parts.count > 1 ? parts[1] : "") else { continue }
            result[String(name)] = value
        }
        return result
    }

    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(0x20)
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hex), let low = iterator.next().flatMap(hex) else { return nil }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// The zones' counters in Prometheus text, appended to `/metrics` at each scrape.
enum CacheMetricsText {
    static let statuses = ["hit", "miss", "stale", "updating", "revalidated", "bypass", "expired"]

    static func render(_ zones: [String: CacheZone]) -> [UInt8] {
        guard !zones.isEmpty else { return [] }
        let named = zones.keys.sorted().compactMap { name in zones[name].map { (name, $0.stats) } }
        var text = "# HELP tacet_cache_requests_total Requests on cached routes, by zone and cache status.\n"
        text += "# TYPE tacet_cache_requests_total counter\n"
        for (name, stats) in named {
            for status in statuses { text += "tacet_cache_requests_total{zone=\"\(name)\",status=\"\(status)\"} \(stats.requests[status] ?? 0)\n" }
        }
        text += "# HELP tacet_cache_served_bytes_total Body bytes answered from the cache.\n# TYPE tacet_cache_served_bytes_total counter\n"
        for (name, stats) in named { text += "tacet_cache_served_bytes_total{zone=\"\(name)\"} \(stats.bytesServed)\n" }
        text += "# HELP tacet_cache_store_errors_total Entries not written (disk full, I/O errors).\n# TYPE tacet_cache_store_errors_total counter\n"
        for (name, stats) in named { text += "tacet_cache_store_errors_total{zone=\"\(name)\"} \(stats.storeErrors)\n" }
        text += "# HELP tacet_cache_entries Entries stored.\n# TYPE tacet_cache_entries gauge\n"
        for (name, stats) in named { text += "tacet_cache_entries{zone=\"\(name)\"} \(stats.entries)\n" }
        text += "# HELP tacet_cache_bytes Bytes stored, on disk and in memory.\n# TYPE tacet_cache_bytes gauge\n"
        for (name, stats) in named {
            text += "tacet_cache_bytes{zone=\"\(name)\",store=\"disk\"} \(stats.diskBytes)\n"
            text += "tacet_cache_bytes{zone=\"\(name)\",store=\"memory\"} \(stats.memoryBytes)\n"
        }
        return Array(text.utf8)
    }
}
