import NIOHTTP1
import TacetCache
import TacetHTTP

/// What the cache reads off an upstream response's (or a stored entry's) fields, parsed once:
/// Cache-Control strictly (nil: malformed, so not storable; CDN-Cache-Control instead when valid), Vary, validators, Expires, Age.
struct ResponseFacts {
    let status: Int
    let cacheControl: CacheControl?
    /// nil: `Vary: *`.
    let vary: [String]?
    let etag: String?
    let lastModified: Int?
    let date: Int?
    let expires: Int?
    let expiresInvalid: Bool
    let age: Int?
    let hasSetCookie: Bool

    init(status: Int, fields: HTTPHeaders) {
        self.status = status
        cacheControl = CacheControl.effective(cacheControl: fields["cache-control"], targeted: fields["cdn-cache-control"])
        vary = Variant.fields(fields["vary"])
        etag = fields.first(name: "etag")
        lastModified = fields.first(name: "last-modified").flatMap { HTTPDate.parse($0) }
        date = fields.first(name: "date").flatMap { HTTPDate.parse($0) }
        let expiresValue = fields.first(name: "expires")
        expires = expiresValue.flatMap { HTTPDate.parse($0) }
        expiresInvalid = expiresValue != nil && expires == nil
        // One Age is allowed; of a list (one line or several) the first counts, so an upstream
        // cannot make a response look younger by adding a second.
        age = fields["age"].lazy.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.first.flatMap { member in
            let parts = member.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count == 1, let value = parts.first, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return Int(value.prefix(10))
        }
        hasSetCookie = fields.contains(name: "set-cookie")
    }

    init(_ header: EntryHeader) {
        var fields = HTTPHeaders()
        for field in header.fields { fields.add(name: field.name, value: field.value) }
        self.init(status: header.status, fields: fields)
    }

    var hasValidator: Bool { etag != nil || lastModified != nil }

    func freshness(cacheControl: CacheControl) -> Freshness.Response {
        var response = Freshness.Response(status: status, cacheControl: cacheControl, date: date, expires: expires,
                                          lastModified: lastModified, age: age)
        response.expiresInvalid = expiresInvalid
        return response
    }

    /// What `Reuse` needs of a stored entry at `now` (off the hot path: hits use `EntryFacts`).
    static func stored(_ header: EntryHeader, now: Int) -> Reuse.Stored {
        let facts = ResponseFacts(header)
        return Reuse.Stored(lifetime: header.lifetime, age: header.age(now: now), cacheControl: facts.cacheControl ?? CacheControl(),
                            hasValidator: facts.hasValidator)
    }
}

extension ResponseHead {
    /// One more field on a head in either form (`headers`, or a proxied head's `encodedFields`).
    mutating func addField(_ name: String, _ value: String) {
        if var encoded = encodedFields {
            encoded.writeString(name)
            encoded.writeStaticString(": ")
            encoded.writeString(value)
            encoded.writeStaticString("\r\n")
            encodedFields = encoded
        } else {
            headers.add(name: name, value: value)
        }
    }
}
