/// What a PROXY protocol header says (HAProxy's proxy-protocol.txt, v1 and v2): the client's
/// address as the load balancer saw it, or nothing (a LOCAL connection: the balancer's own
/// health check, or v1's UNKNOWN).
public enum ProxyHeader: Sendable, Equatable {
    case proxied(source: ProxiedAddress, destination: ProxiedAddress)
    case local
}

/// An address in a PROXY header: an IPv4 or IPv6 literal and a port.
public struct ProxiedAddress: Sendable, Equatable, CustomStringConvertible {
    public var ip: String
    public var port: Int

    public init(ip: String, port: Int) {
        self.ip = ip
        self.port = port
    }

    public var description: String { ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)" }
}

/// Why a PROXY header was refused.
public struct ProxyHeaderError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
