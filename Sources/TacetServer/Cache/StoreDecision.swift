import NIOHTTP1
import TacetCache
import TacetHTTP

/// Whether a fill's response is stored (RFC 9111 §3, `Storability`), and if so the entry's
/// header as the store will write it: the upstream's fields but `Age` (recomputed on each
/// hit), the variant of the request that started the fill, the lifetime and initial age.
enum StoreDecision {
    static func decide(status: Int, fields: HTTPHeaders, first: HTTPHeaders, primary: String, requestTime: Int,
                       defaultTTL: Int?) -> (header: EntryHeader, vary: [String])? {
        let facts = ResponseFacts(status: status, fields: fields)
        let responseTime = CacheZone.now()
        let requestCC = CacheControl(values: first["cache-control"])
        var lifetime: Int?
        if let cc = facts.cacheControl {
            lifetime = Freshness.lifetime(facts.freshness(cacheControl: cc), responseTime: responseTime, defaultTTL: defaultTTL)
        }
        let request = Storability.Request(method: "GET", cacheControl: requestCC, hasAuthorization: first.contains(name: "authorization"))
        let response = Storability.Response(status: status, cacheControl: facts.cacheControl, hasSetCookie: facts.hasSetCookie,
                                            varyStar: facts.vary == nil, lifetime: lifetime, hasValidator: facts.hasValidator)
        guard Storability.decide(request: request, response: response) == .storable, let cc = facts.cacheControl,
              let vary = facts.vary else { return nil }
        let initialAge = Freshness.currentAge(facts.freshness(cacheControl: cc), requestTime: requestTime,
                                              responseTime: responseTime, now: responseTime)
        let stored = fields.filter { $0.name.lowercased() != "age" }.map { (name: $0.name, value: $0.value) }
        let header = EntryHeader(key: primary, variant: Variant.key(fields: vary, request: { first[$0] }), status: status,
                                 requestTime: requestTime, responseTime: responseTime, fields: stored, bodyLength: 0,
                                 lifetime: lifetime ?? 0, initialAge: initialAge)
        return (header, vary)
    }
}
