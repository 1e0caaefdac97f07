/// How long a stored response may be served without asking the origin (RFC 9111 §4.2), and how
/// old it is. Times are epoch seconds; every input comes from a response already parsed.
public enum Freshness {
    /// Statuses a cache may reuse without explicit freshness (RFC 9110 §15.1: "heuristically
    /// cacheable"), when a heuristic applies.
    public static let heuristicallyCacheable: Set<Int> = [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]
    /// `default_ttl` applies to these, as nginx's `proxy_cache_valid` does by default.
    public static let defaultTTLStatuses: Set<Int> = [200, 301, 404]
    /// The Last-Modified heuristic: a tenth of the age of the modification, at most a day
    /// (Apache's CacheLastModifiedFactor and CacheDefaultExpire).
    public static let heuristicCap = 86_400

    public struct Response: Sendable, Equatable {
        public var status: Int
        public var cacheControl: CacheControl
        /// Date, Expires and Last-Modified parsed; `expiresInvalid`: an Expires that is not an
        /// HTTP date, which means "already expired" (§5.3).
        public var date: Int?
        public var expires: Int?
        public var expiresInvalid = false
        public var lastModified: Int?
        public var age: Int?

        public init(status: Int, cacheControl: CacheControl, date: Int? = nil, expires: Int? = nil, lastModified: Int? = nil, age: Int? = nil) {
            self.status = status
            self.cacheControl = cacheControl
            self.date = date
            self.expires = expires
            self.lastModified = lastModified
            self.age = age
        }

        /// Whether the origin said how long: s-maxage, max-age or Expires.
        public var hasExplicitLifetime: Bool {
            cacheControl.sMaxAge != nil || cacheControl.maxAge != nil || expires != nil || expiresInvalid
        }
    }

    /// The freshness lifetime for a shared cache (§4.2.1), or nil when none is known and no
    /// heuristic applies (then the response is stored only if it can be revalidated).
    /// `responseTime` stands in for a missing Date.
    public static func lifetime(_ response: Response, responseTime: Int, defaultTTL: Int?) -> Int? {
        let cc = response.cacheControl
        if let s = cc.sMaxAge { return s }
        if let m = cc.maxAge { return m }
        if response.expiresInvalid { return 0 }
        if let expires = response.expires { return max(0, expires - (response.date ?? responseTime)) }
        if let defaultTTL, defaultTTLStatuses.contains(response.status) { return defaultTTL }
        guard heuristicallyCacheable.contains(response.status), let modified = response.lastModified else { return nil }
        let since = (response.date ?? responseTime) - modified
        guard since > 0 else { return nil }
        return min(since / 10, heuristicCap)
    }

    /// current_age (§4.2.3): what the response's Age and Date say, plus the time it spent here.
    public static func currentAge(_ response: Response, requestTime: Int, responseTime: Int, now: Int) -> Int {
        let apparentAge = max(0, responseTime - (response.date ?? responseTime))
        let responseDelay = max(0, responseTime - requestTime)
        let correctedAgeValue = (response.age ?? 0) + responseDelay
        let correctedInitialAge = max(apparentAge, correctedAgeValue)
        return correctedInitialAge + max(0, now - responseTime)
    }
}
