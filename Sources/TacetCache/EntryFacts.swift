import NIOCore

/// What every hit needs of a stored entry, worked out once when it is stored or loaded, not per
/// request: its Cache-Control, validators, and its fields already serialised (`Name: value\r\n`,
/// what a response head's `encodedFields` takes), so a hit appends Age and Cache-Status and
/// copies bytes.
public struct EntryFacts: Sendable {
    public let cacheControl: CacheControl
    public let etag: String?
    /// Last-Modified as sent, and as epoch seconds.
    public let lastModified: String?
    public let lastModifiedTime: Int?
    /// The origin's Date, sent as the hit's Date line (`ResponseHead.date`), so not among
    /// `encodedFields`.
    public let date: String?
    public let encodedFields: ByteBuffer

    /// `date`: an HTTP-date parser (the HTTP module's).
    public init(header: EntryHeader, date: (String) -> Int?) {
        var cacheControl: [String] = []
        var targeted: [String] = []
        var etag: String?
        var lastModified: String?
        var originDate: String?
        var encoded = ByteBufferAllocator().buffer(capacity: header.fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        for field in header.fields {
            switch field.name.lowercased() {
            case "cache-control": cacheControl.append(field.value)
            case "cdn-cache-control": targeted.append(field.value)
            case "etag": etag = etag ?? field.value
            case "last-modified": lastModified = lastModified ?? field.value
            case "date":
                originDate = originDate ?? field.value
                continue
            default: break
            }
            encoded.writeString(field.name)
            encoded.writeStaticString(": ")
            encoded.writeString(field.value)
            encoded.writeStaticString("\r\n")
        }
        self.cacheControl = CacheControl.effective(cacheControl: cacheControl, targeted: targeted) ?? CacheControl()
        self.etag = etag
        self.lastModified = lastModified
        self.lastModifiedTime = lastModified.flatMap(date)
        self.date = originDate
        self.encodedFields = encoded
    }

    public var hasValidator: Bool { etag != nil || lastModified != nil }

    /// What `Reuse` needs at `now`.
    public func stored(_ header: EntryHeader, now: Int) -> Reuse.Stored {
        Reuse.Stored(lifetime: header.lifetime, age: header.age(now: now), cacheControl: cacheControl, hasValidator: hasValidator)
    }
}
