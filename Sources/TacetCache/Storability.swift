/// Whether a response may be stored by a shared cache (RFC 9111 §3), with the reason when not,
/// as nginx's and Varnish's defaults read it: a Set-Cookie response is not stored (a session
/// would be handed to the next visitor), nor `Vary: *`, nor anything whose Cache-Control does
/// not parse.
public enum Storability: Sendable, Equatable {
    case storable
    case notStorable(Reason)

    public enum Reason: String, Sendable, Equatable {
        case method = "method"
        case status = "status"
        case noStore = "no-store"
        case privateResponse = "private"
        case authorization = "authorization"
        case setCookie = "set-cookie"
        case varyStar = "vary-star"
        case malformedCacheControl = "malformed-cache-control"
        case noFreshness = "no-freshness"
        case partial = "partial"
    }

    public struct Request: Sendable, Equatable {
        public var method: String
        /// nil: the request's Cache-Control did not parse (then `no-store` is assumed).
        public var cacheControl: CacheControl?
        public var hasAuthorization: Bool

        public init(method: String, cacheControl: CacheControl?, hasAuthorization: Bool) {
            self.method = method
            self.cacheControl = cacheControl
            self.hasAuthorization = hasAuthorization
        }
    }

    public struct Response: Sendable, Equatable {
        public var status: Int
        /// nil: malformed.
        public var cacheControl: CacheControl?
        public var hasSetCookie: Bool
        public var varyStar: Bool
        /// What `Freshness.lifetime` found (nil: none); a response with validators (ETag,
        /// Last-Modified) may still be stored to be revalidated.
        public var lifetime: Int?
        public var hasValidator: Bool

        public init(status: Int, cacheControl: CacheControl?, hasSetCookie: Bool, varyStar: Bool, lifetime: Int?, hasValidator: Bool) {
            self.status = status
            self.cacheControl = cacheControl
            self.hasSetCookie = hasSetCookie
            self.varyStar = varyStar
            self.lifetime = lifetime
            self.hasValidator = hasValidator
        }
    }

    /// Statuses whose responses a cache understands well enough to store without explicit
    /// freshness (206 is answered from whole responses here, never stored itself).
    public static let understood: Set<Int> = [200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501]

    public static func decide(request: Request, response: Response, storeSetCookie: Bool = false) -> Storability {
        guard request.method == "GET" else { return .notStorable(.method) }
        guard let responseCC = response.cacheControl else { return .notStorable(.malformedCacheControl) }
        guard let requestCC = request.cacheControl else { return .notStorable(.malformedCacheControl) }
        if response.status == 206 { return .notStorable(.partial) }
        // Any final status may be stored with explicit freshness (§3: heuristics and
        // `default_ttl` never give others a lifetime); `must-understand` only the understood,
        // and for those it overrides `no-store` (§5.2.2.3).
        let isUnderstood = understood.contains(response.status)
        guard (200...599).contains(response.status), response.status != 304,
              isUnderstood || (response.lifetime != nil && !responseCC.mustUnderstand) else { return .notStorable(.status) }
        if requestCC.noStore || (responseCC.noStore && !(responseCC.mustUnderstand && isUnderstood)) { return .notStorable(.noStore) }
        if responseCC.isPrivate { return .notStorable(.privateResponse) }
        if request.hasAuthorization, !(responseCC.isPublic || responseCC.sMaxAge != nil || responseCC.mustRevalidate) {
            return .notStorable(.authorization)
        }
        if response.hasSetCookie && !storeSetCookie { return .notStorable(.setCookie) }
        if response.varyStar { return .notStorable(.varyStar) }
        // Something must make it reusable: a lifetime (explicit or heuristic), `public`, or a
        // validator to revalidate with; 302/303/307 only with an explicit lifetime.
        let explicit = responseCC.maxAge != nil || responseCC.sMaxAge != nil
        if [302, 303, 307].contains(response.status), !explicit, response.lifetime == nil { return .notStorable(.noFreshness) }
        guard response.lifetime != nil || responseCC.isPublic || response.hasValidator || responseCC.noCache else {
            return .notStorable(.noFreshness)
        }
        return .storable
    }
}
