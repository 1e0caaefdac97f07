/// A route's host, as nginx's `server_name` reads one: an exact name, or `*.example.com` for
/// one label or more in front of `example.com` (never `example.com` itself).
public enum HostPattern: Sendable, Hashable, CustomStringConvertible {
    /// Lowercased, without a port or a trailing dot.
    case exact(String)
    /// The suffix with its leading dot: `*.example.com` is `.example.com`.
    case wildcard(suffix: String)

    /// nil for anything but a name or `*.` and a name (the config loader checks the name itself).
    public init?(_ text: String) {
        var name = text.lowercased()
        if name.count > 1, name.hasSuffix(".") { name.removeLast() }
        if name.hasPrefix("*.") {
            let suffix = String(name.dropFirst())
            guard suffix.count > 1, !suffix.dropFirst().contains("*") else { return nil }
            self = .wildcard(suffix: suffix)
        } else {
            guard !name.isEmpty, !name.contains("*") else { return nil }
            self = .exact(name)
        }
    }

    public func matches(_ host: String?) -> Bool {
        guard let host else { return false }
        switch self {
        case .exact(let name): return name == host
        case .wildcard(let suffix):
            return host.utf8.count > suffix.utf8.count && host.utf8.reversed().starts(with: suffix.utf8.reversed())
        }
    }

    /// Routes are tried exact names first, then wildcards with the longest suffix first (nginx's
    /// order), then routes with no host; file order within each.
    var rank: Int {
        switch self {
        case .exact: 0
        case .wildcard(let suffix): 1 + (1000 - min(suffix.utf8.count, 999))
        }
    }

    public var description: String {
        switch self {
        case .exact(let name): name
        case .wildcard(let suffix): "*" + suffix
        }
    }
}
