import NIOHTTP1
import TacetHTTP

/// The fields that tell a compressed variant from the identity one: Vary, and an ETag of its
/// own (`"abc"` becomes `"abc-gzip"`, weak or strong as it was), so `If-None-Match` with
/// either validator is answered for the variant it names.
package enum VariantFields {
    /// Adds `Vary: Accept-Encoding` unless Vary already names it or is `*`.
    package static func addVary(_ fields: inout HTTPHeaders) {
        for (name, value) in fields where name.lowercasedASCIIEquals("vary") {
            for item in value.split(separator: ",") {
                var token = item[...]
                while token.first == " " || token.first == "\t" { token = token.dropFirst() }
                while token.last == " " || token.last == "\t" { token = token.dropLast() }
                if token == "*" || token.lowercasedASCIIEquals("accept-encoding") { return }
            }
        }
        fields.add(name: "Vary", value: "Accept-Encoding")
    }

    /// `"abc"` → `"abc-gzip"`, `W/"abc"` → `W/"abc-gzip"`; anything else unchanged.
    package static func suffixed(etag: String, _ coding: ContentCoding) -> String {
        guard etag.hasSuffix("\""), etag.count >= 2, etag.hasPrefix("\"") || etag.hasPrefix("W/\"") else { return etag }
        return String(etag.dropLast()) + coding.etagSuffix + "\""
    }

    /// An If-None-Match (or If-Match) value with `coding`'s suffix taken off every entity-tag
    /// that has it, so the route (a static file, an upstream) compares the validators it knows.
    /// Returns nil when nothing had the suffix; else the rewritten value and the tags stripped
    /// (as the route will send them back, `W/` kept).
    package static func stripSuffix(_ value: String, _ coding: ContentCoding) -> (value: String, stripped: Set<String>)? {
        let suffix = Array((coding.etagSuffix + "\"").utf8)
        var output: [UInt8] = []
        var stripped: Set<String> = []
        var bytes = Array(value.utf8)[...]
        output.reserveCapacity(bytes.count)
        while let byte = bytes.first {
            // An entity-tag: [W/] DQUOTE *etagc DQUOTE; commas may sit inside the quotes.
            var tagStart = bytes.startIndex
            if byte == UInt8(ascii: "W"), bytes.dropFirst().first == UInt8(ascii: "/") { tagStart += 2 }
            guard tagStart < bytes.endIndex, bytes[tagStart] == UInt8(ascii: "\"") else {
                output.append(byte)
                bytes = bytes.dropFirst()
                continue
            }
            guard let close = bytes[(tagStart + 1)...].firstIndex(of: UInt8(ascii: "\"")) else {
                output.append(contentsOf: bytes)
                break
            }
            let tag = bytes[bytes.startIndex...close]
            if tag.count >= suffix.count + 1 + (tagStart - bytes.startIndex), tag.suffix(suffix.count).elementsEqual(suffix) {
                var kept = Array(tag.dropLast(suffix.count))
                kept.append(UInt8(ascii: "\""))
                output.append(contentsOf: kept)
                stripped.insert(String(decoding: kept, as: UTF8.self))
            } else {
                output.append(contentsOf: tag)
            }
            bytes = bytes[(close + 1)...]
        }
        guard !stripped.isEmpty else { return nil }
        return (String(decoding: output, as: UTF8.self), stripped)
    }
}
