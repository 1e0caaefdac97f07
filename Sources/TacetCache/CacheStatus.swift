/// The Cache-Status field (RFC 9211) a cached route adds to every response: whether the cache
/// answered (`hit`) or why it went forward (`fwd=`), whether the response was stored, and what
/// freshness was left. Also the status name of `tacet_cache_requests_total`.
public struct CacheStatus: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        case hit
        /// Not in the cache.
        case miss
        /// In the cache, stale: revalidated with the origin (304).
        case revalidated
        /// Stale, served while one refresh runs (stale-while-revalidate).
        case updating
        /// Stale, served because the origin failed (stale-if-error).
        case stale
        /// Stored but expired and refetched whole.
        case expired
        /// The request may not be answered from the cache (no-store, Authorization, a method).
        case bypass
    }

    public var cache: String
    public var outcome: Outcome
    public var stored = false
    /// Seconds of freshness left (negative when stale), on hits.
    public var ttl: Int?
    public var detail: String?

    public init(cache: String = "Tacet", outcome: Outcome, stored: Bool = false, ttl: Int? = nil, detail: String? = nil) {
        self.cache = cache
        self.outcome = outcome
        self.stored = stored
        self.ttl = ttl
        self.detail = detail
    }

    /// The field value: `Tacet; hit; ttl=55`, `Tacet; fwd=miss; stored`, `Tacet; fwd=bypass; detail=authorization`.
    public var fieldValue: String {
        var value = cache
        switch outcome {
        case .hit, .updating, .stale: value += "; hit"
        case .miss: value += "; fwd=miss"
        case .revalidated, .expired: value += "; fwd=stale"
        case .bypass: value += "; fwd=bypass"
        }
        if outcome == .revalidated { value += "; fwd-status=304" }
        if stored { value += "; stored" }
        if let ttl { value += "; ttl=\(ttl)" }
        if outcome == .updating || outcome == .stale { value += "; detail=\(outcome.rawValue)" } else if let detail {
            value += "; detail=\(detail)"
        }
        return value
    }
}
