/// nginx's `try_files` for a static route: candidate paths beneath the root, tried in order,
/// the first regular file (or, for a candidate ending in `/`, directory with its index) served;
/// then the fallback, a path served from the same root or a status (`=404`). A single-page app's
/// `["{path}", "{path}/", "/index.html"]`. Never leaves the root: every candidate is opened as
/// a request path is (openat2 RESOLVE_BENEATH).
public struct TryFiles: Sendable, Equatable {
    public enum Fallback: Sendable, Equatable {
        /// A template, as the candidates are; missing is 404.
        case path(String)
        case status(Int)
    }

    /// Templates: `{path}` is the request's path.
    public let candidates: [String]
    public let fallback: Fallback

    public init(candidates: [String], fallback: Fallback) {
        self.candidates = candidates
        self.fallback = fallback
    }

    /// The last of `entries` is the fallback (`=CODE` or a path); the config loader has checked them.
    public init(entries: [String]) {
        let last = entries.last ?? "=404"
        if last.hasPrefix("="), let code = Int(last.dropFirst()) {
            fallback = .status(code)
        } else {
            fallback = .path(last)
        }
        candidates = Array(entries.dropLast())
    }

    /// `template` with `{path}` replaced by `path` (still percent-encoded: it is opened as a
    /// request path is), and runs of `/` made one, so `{path}/` of `/docs/` is `/docs/`.
    public static func expand(_ template: String, path: String) -> String {
        let joined = template.replacing("{path}", with: path)
        guard joined.contains("//") else { return joined }
        var result = ""
        result.reserveCapacity(joined.utf8.count)
        var previousSlash = false
        for character in joined {
            if character == "/" && previousSlash { continue }
            previousSlash = character == "/"
            result.append(character)
        }
        return result
    }
}
