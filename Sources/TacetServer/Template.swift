import TacetConfig
import TacetHTTP

extension Array where Element == RedirectConfig.Part {
    /// The text of a redirect target or a header rule's value for `request`. What is substituted
    /// comes from a request the parser accepted (no CR, LF), so it cannot split a header.
    func expand(for request: Request, clientAddress: String) -> String {
        var text = ""
        for part in self {
            switch part {
            case .literal(let literal): text += literal
            case .variable(.host): text += request.host ?? ""
            case .variable(.uri): text += request.target
            case .variable(.path): text += request.path
            case .variable(.query): text += request.query ?? ""
            case .variable(.scheme): text += request.isSecure ? "https" : "http"
            case .variable(.clientIP): text += clientAddress
            case .variable(.requestID): text += request.headers.first(name: "x-request-id") ?? ""
            }
        }
        return text
    }
}
