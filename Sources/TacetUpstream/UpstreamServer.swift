/// One backend server of an upstream group, as plain values (TacetUpstream does not know the
/// config file; TacetServer converts `UpstreamConfig` into these).
public struct UpstreamServer: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Relative share of picks; values below 1 are treated as 1.
    public var weight: Int

    public init(host: String, port: Int, weight: Int = 1) {
        self.host = host
        self.port = port
        self.weight = weight
    }

    /// `host:port`, with brackets for IPv6 literals, for logs and the `Host` header of checks.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// How `UpstreamGroup.pick` chooses among the servers that are up.
public enum BalanceMethod: Sendable, Equatable {
    /// nginx's smooth weighted round robin: spreads each server's picks evenly over a cycle.
    case roundRobin
    /// Fewest active connections relative to weight; ties go round robin.
    case leastConnections
    /// Power of two choices: two weighted random servers, the less loaded one wins.
    case randomTwoChoices
    /// By a hash of the request's key on a ketama ring (`HashRing`); round robin for a pick
    /// without a key (a stream, a health check).
    case consistentHash
}

/// What a server looks like right now, for metrics and logs.
public struct ServerState: Sendable, Equatable {
    public var server: UpstreamServer
    /// Available for new connections (active check up, not taken out by failures).
    public var up: Bool
    public var activeConnections: Int
    /// Failures counted in the current `fail_timeout` window.
    public var fails: Int

    public init(server: UpstreamServer, up: Bool, activeConnections: Int, fails: Int) {
        self.server = server
        self.up = up
        self.activeConnections = activeConnections
        self.fails = fails
    }
}
