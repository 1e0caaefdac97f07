import NIOHTTP1
import TacetConfig

/// What a route's `cors:` answers (pure: tested without sockets). Only a listed origin is ever
/// named back, never an arbitrary reflected one; `*` only without credentials (the loader
/// refuses both together); every answer varies by Origin, so a cache keeps them apart.
struct CORSPolicy: Sendable {
    private let exact: Set<String>
    /// (scheme with `://`, host suffix with its leading dot, `:port` or empty) for `https://*.example.com`.
    private let wildcards: [(prefix: String, suffix: String)]
    private let anyOrigin: Bool
    let credentials: Bool
    private let methods: String
    private let headers: String
    private let expose: String
    private let maxAge: Int?

    init(_ config: CORSConfig) {
        var exact = Set<String>()
        var wildcards: [(String, String)] = []
        for origin in config.origins where origin != "*" {
            if let star = origin.range(of: "://*.") {
                wildcards.append((String(origin[..<star.lowerBound]) + "://", "." + origin[star.upperBound...]))
            } else {
                exact.insert(origin)
            }
        }
        self.exact = exact
        self.wildcards = wildcards
        anyOrigin = config.origins.contains("*")
        credentials = config.credentials
        methods = config.methods.joined(separator: ", ")
        headers = config.headers.joined(separator: ", ")
        expose = config.expose.joined(separator: ", ")
        maxAge = config.maxAge
    }

    /// The value for Access-Control-Allow-Origin, or nil when this origin may not read.
    func allowOrigin(_ headers: HTTPHeaders) -> String? {
        let values = headers["origin"]
        guard values.count == 1, let origin = values.first?.lowercased(), origin != "null", !origin.isEmpty else { return nil }
        if exact.contains(origin) { return origin }
        for (prefix, suffix) in wildcards {
            // suffix holds the host's tail and the port: `.example.com` or `.example.com:8443`.
            if origin.hasPrefix(prefix), origin.hasSuffix(suffix), origin.count > prefix.count + suffix.count,
               !origin.dropFirst(prefix.count).dropLast(suffix.count).contains(where: { $0 == "/" || $0 == ":" || $0 == "@" }) {
                return origin
            }
        }
        return anyOrigin ? "*" : nil
    }

    /// A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method.
    static func isPreflight(method: HTTPMethod, headers: HTTPHeaders) -> Bool {
        method == .OPTIONS && headers.contains(name: "origin") && headers.contains(name: "access-control-request-method")
    }

    /// The preflight's 204 fields: the allowed values for a listed origin, only Vary for another.
    func preflightFields(_ request: HTTPHeaders) -> HTTPHeaders {
        var fields = HTTPHeaders([("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")])
        guard let origin = allowOrigin(request) else { return fields }
        fields.add(name: "Access-Control-Allow-Origin", value: origin)
        if credentials { fields.add(name: "Access-Control-Allow-Credentials", value: "true") }
        fields.add(name: "Access-Control-Allow-Methods", value: methods)
        if !headers.isEmpty { fields.add(name: "Access-Control-Allow-Headers", value: headers) }
        if let maxAge { fields.add(name: "Access-Control-Max-Age", value: String(maxAge)) }
        return fields
    }

    /// The fields an actual response gets (any status, error pages included).
    func responseFields(_ request: HTTPHeaders) -> [(String, String)] {
        guard let origin = allowOrigin(request) else { return [] }
        var fields = [("Access-Control-Allow-Origin", origin)]
        if credentials { fields.append(("Access-Control-Allow-Credentials", "true")) }
        if !expose.isEmpty { fields.append(("Access-Control-Expose-Headers", expose)) }
        return fields
    }

    /// What an upstream said about CORS is replaced, never merged: two Allow-Origin fields fail in every browser.
    static let replacedFields = ["access-control-allow-origin", "access-control-allow-credentials", "access-control-expose-headers"]
}
