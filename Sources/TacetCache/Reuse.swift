/// Whether a stored response may answer a request (RFC 9111 §4, §4.2.4, RFC 5861), given how
/// fresh it is and what both sides' Cache-Control say. Stale responses are served only where
/// the origin allowed it (its own stale-while-revalidate / stale-if-error) or the operator opted
/// in (`stale_while_revalidate`, `stale_if_error` on the route), and never past must-revalidate.
public enum Reuse: Sendable, Equatable {
    /// Serve it; `ttl` seconds of freshness left.
    case fresh(ttl: Int)
    /// Serve it stale, and refresh it once in the background.
    case staleWhileRevalidate(ttl: Int)
    /// Ask the origin with the stored validators; a 304 refreshes the entry.
    case revalidate
    /// Not usable: fetch it whole.
    case fetch
    /// `only-if-cached` and nothing usable: 504 (RFC 9111 §5.2.1.7).
    case unsatisfiable

    public struct Stored: Sendable, Equatable {
        public var lifetime: Int
        public var age: Int
        public var cacheControl: CacheControl
        public var hasValidator: Bool

        public init(lifetime: Int, age: Int, cacheControl: CacheControl, hasValidator: Bool) {
            self.lifetime = lifetime
            self.age = age
            self.cacheControl = cacheControl
            self.hasValidator = hasValidator
        }
    }

    /// Operator overrides, seconds (nil: off, the origin's directives alone decide).
    public struct Overrides: Sendable, Equatable {
        public var staleWhileRevalidate: Int?
        public var staleIfError: Int?

        public init(staleWhileRevalidate: Int? = nil, staleIfError: Int? = nil) {
            self.staleWhileRevalidate = staleWhileRevalidate
            self.staleIfError = staleIfError
        }
    }

    /// `request`: the request's Cache-Control (nil: malformed, read as no-cache); `pragmaNoCache`:
    /// `Pragma: no-cache` without a Cache-Control (§5.4).
    public static func decide(_ stored: Stored, request: CacheControl?, pragmaNoCache: Bool = false,
                              overrides: Overrides = Overrides()) -> Reuse {
        let ttl = stored.lifetime - stored.age
        let cc = stored.cacheControl
        let onlyIfCached = request?.onlyIfCached ?? false
        func notUsable() -> Reuse {
            if onlyIfCached { return .unsatisfiable }
            return stored.hasValidator ? .revalidate : .fetch
        }
        guard let request else { return notUsable() }
        if request.noCache || pragmaNoCache || cc.noCache { return notUsable() }
        var fresh = ttl > 0
        if let maxAge = request.maxAge, stored.age > maxAge { fresh = false }
        if let minFresh = request.minFresh, ttl < minFresh { fresh = false }
        if fresh { return .fresh(ttl: ttl) }
        let mustRevalidate = cc.mustRevalidate || cc.proxyRevalidate || cc.sMaxAge != nil
        // Stale only when it is stale for everyone (not merely too old for this client's
        // max-age or min-fresh: that client asked for fresher), and nothing forbids it.
        if !mustRevalidate, ttl <= 0, request.maxAge == nil, request.minFresh == nil {
            let staleness = -ttl
            let clientAccepts = request.maxStaleAny || (request.maxStale.map { staleness <= $0 } ?? false)
            let windowAllows = (cc.staleWhileRevalidate ?? overrides.staleWhileRevalidate).map { staleness <= $0 } ?? false
            if clientAccepts || windowAllows { return .staleWhileRevalidate(ttl: ttl) }
        }
        return notUsable()
    }

    /// After the origin failed (5xx, unreachable, timed out): may the stale entry answer?
    /// (stale-if-error, the origin's or the operator's; never past must-revalidate.)
    public static func mayServeOnError(_ stored: Stored, overrides: Overrides = Overrides()) -> Bool {
        let cc = stored.cacheControl
        guard !(cc.mustRevalidate || cc.proxyRevalidate || cc.sMaxAge != nil || cc.noCache) else { return false }
        guard let window = cc.staleIfError ?? overrides.staleIfError else { return false }
        return stored.age - stored.lifetime <= window
    }
}

/// A client's conditional against a stored response (RFC 9110 §13.1.2, §13.1.3): whether the
/// cache answers 304 itself. If-None-Match compares weakly and wins over If-Modified-Since.
public enum ClientConditional {
    public static func notModified(ifNoneMatch: [String], ifModifiedSince: Int?, etag: String?, lastModified: Int?) -> Bool {
        if !ifNoneMatch.isEmpty {
            guard let etag else { return false }
            let stored = weak(etag)
            for member in ifNoneMatch.flatMap({ $0.split(separator: ",") }) {
                let tag = member.trimmingOWS()
                if tag == "*" || weak(tag) == stored { return true }
            }
            return false
        }
        guard let since = ifModifiedSince, let lastModified else { return false }
        return lastModified <= since
    }

    static func weak(_ tag: String) -> String { tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag }
}
