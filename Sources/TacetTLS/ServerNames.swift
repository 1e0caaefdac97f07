/// Which of a listener's certificates answers a ClientHello's server name (SNI): an exact name
/// first, then a wildcard (`*.example.com` covers one label: `a.example.com`, not
/// `a.b.example.com` nor `example.com`), else the default (the first certificate), as nginx and
/// Caddy choose. Pure: tested without TLS.
public struct ServerNames: Sendable {
    private var exact: [String: Int] = [:]
    private var wildcard: [String: Int] = [:]

    /// `names[i]`: the names certificate `i` carries. A name two certificates carry goes to the
    /// first that lists it.
    public init(_ names: [[String]]) {
        for (index, list) in names.enumerated() {
            for name in list.map({ $0.lowercased() }) {
                if name.hasPrefix("*.") {
                    let suffix = String(name.dropFirst(2))
                    if wildcard[suffix] == nil { wildcard[suffix] = index }
                } else if exact[name] == nil {
                    exact[name] = index
                }
            }
        }
    }

    /// The certificate index for `serverName`, or nil (the default applies).
    public func certificate(for serverName: String?) -> Int? {
        guard var name = serverName?.lowercased(), !name.isEmpty else { return nil }
        if name.hasSuffix(".") { name.removeLast() }
        if let index = exact[name] { return index }
        guard let dot = name.firstIndex(of: "."), name.startIndex != dot else { return nil }
        return wildcard[String(name[name.index(after: dot)...])]
    }
}
