/// A usage or connection problem that stops the probe: one line, for the CLI's exit code 2.
public struct ProbeError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What the probe talks to: an HTTP URL, or a TCP proxy (`--tcp HOST:PORT`).
public enum ProbeTarget: Sendable, CustomStringConvertible {
    case http(HTTPTarget)
    case tcp(host: String, port: Int)

    public var description: String {
        switch self {
        case .http(let target): return target.description
        case .tcp(let host, let port): return "tcp://\(formatHost(host)):\(port)"
        }
    }

    /// Parses `HOST:PORT` (IPv6 in brackets).
    public static func parseTCP(_ text: String) throws -> ProbeTarget {
        guard let (host, port) = splitHostPort(text), let port, !host.isEmpty else {
            throw ProbeError("invalid TCP address '\(text)': expected HOST:PORT")
        }
        return .tcp(host: host, port: port)
    }

    /// `HOST:PORT` to listen on (the origin's): as `parseTCP`, and port 0 (any free port) allowed.
    public static func parseListen(_ text: String) throws -> (host: String, port: Int) {
        guard let (host, port) = splitHostPort(text, ports: 0...65535), let port, !host.isEmpty else {
            throw ProbeError("invalid address '\(text)': expected HOST:PORT")
        }
        return (host, port)
    }
}

/// An HTTP or HTTPS URL, split into what a request line and a Host header need.
public struct HTTPTarget: Sendable, Codable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Path and query, as sent in the request line.
    public var path: String
    /// An `https://` URL: scenarios run over TLS through `ProbeOptions.tls`.
    public var isTLS: Bool

    public init(host: String, port: Int? = nil, path: String = "/", isTLS: Bool = false) {
        self.host = host
        self.port = port ?? (isTLS ? 443 : 80)
        self.path = path
        self.isTLS = isTLS
    }

    /// The Host header: the port is left out when it is the scheme's default.
    public var hostHeader: String { port == (isTLS ? 443 : 80) ? formatHost(host) : "\(formatHost(host)):\(port)" }
    public var description: String { "\(isTLS ? "https" : "http")://\(hostHeader)\(path)" }

    /// Parses `http[s]://HOST[:PORT][/PATH][?QUERY]`.
    public static func parse(_ url: String) throws -> HTTPTarget {
        let lower = url.lowercased()
        let isTLS = lower.hasPrefix("https://")
        guard isTLS || lower.hasPrefix("http://") else {
            throw ProbeError("invalid URL '\(url)': expected http[s]://HOST[:PORT]/PATH")
        }
        var rest = url.dropFirst(isTLS ? "https://".count : "http://".count)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = String(rest[..<authorityEnd])
        var path = String(rest[authorityEnd...])
        if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
        guard !authority.contains("@") else { throw ProbeError("invalid URL '\(url)': user info is not supported") }
        guard let (host, port) = splitHostPort(authority), !host.isEmpty else {
            throw ProbeError("invalid URL '\(url)': bad host or port")
        }
        return HTTPTarget(host: host, port: port, path: path, isTLS: isTLS)
    }
}

/// Splits "host", "host:port", "[v6]" or "[v6]:port"; nil when malformed, port nil when absent.
func splitHostPort(_ text: String, ports: ClosedRange<Int> = 1...65535) -> (String, Int?)? {
    if text.hasPrefix("[") {
        guard let close = text.firstIndex(of: "]") else { return nil }
        let host = String(text[text.index(after: text.startIndex)..<close])
        let after = text[text.index(after: close)...]
        if after.isEmpty { return (host, nil) }
        guard after.hasPrefix(":"), let port = Int(after.dropFirst()), ports.contains(port) else { return nil }
        return (host, port)
    }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    if parts.count == 1 { return (text, nil) }
    guard parts.count == 2, let port = Int(parts[1]), ports.contains(port) else { return nil }
    return (String(parts[0]), port)
}

/// An IPv6 literal goes back into brackets in URLs and Host headers.
func formatHost(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
