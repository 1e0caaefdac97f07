import NIOConcurrencyHelpers

/// Where a proxied request may go. `TacetUpstream.UpstreamGroup` (balancing, health) is one;
/// `SingleServer` is a route's `to: host:port`. Class-bound: an exchange reaches its selector
/// several times per request, and a class existential is copied with one retain, not a box copy.
public protocol UpstreamSelector: AnyObject, Sendable {
    /// host and port of each server, by index.
    var addresses: [(host: String, port: Int)] { get }
    /// A server that is up and not in `excluding`; nil when there is none (502 at once).
    func pick(excluding: Set<Int>) -> Int?
    /// As `pick(excluding:)`, for a request whose upstream balances by a key (consistent hash).
    func pick(excluding: Set<Int>, key: String) -> Int?
    func connectionOpened(_ server: Int)
    func connectionClosed(_ server: Int)
    func recordFailure(_ server: Int)
    func recordSuccess(_ server: Int)
}

extension UpstreamSelector {
    public func pick(excluding: Set<Int>, key: String) -> Int? { pick(excluding: excluding) }
}

/// One fixed server: always picked unless excluded; no health state.
public final class SingleServer: UpstreamSelector {
    public let addresses: [(host: String, port: Int)]

    public init(host: String, port: Int) {
        addresses = [(host, port)]
    }

    public func pick(excluding: Set<Int>) -> Int? { excluding.contains(0) ? nil : 0 }
    public func connectionOpened(_ server: Int) {}
    public func connectionClosed(_ server: Int) {}
    public func recordFailure(_ server: Int) {}
    public func recordSuccess(_ server: Int) {}
}
