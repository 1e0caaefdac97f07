/// What `tacet check` warns about in the routes: one that can never match because an earlier
/// route for the same host takes every request it would (first-listed wins within a host, so
/// `/` before `/api/` hides `/api/`), and a `default_host` that no route names.
public enum RouteReachability {
    public static func warnings(_ config: TacetConfiguration) -> [String] {
        var warnings: [String] = []
        for (index, route) in config.routes.enumerated() {
            let hosts: [String?] = route.match.hosts.isEmpty ? [nil] : route.match.hosts
            var hiders: [Int] = []
            let hidden = hosts.allSatisfy { host in
                guard let earlier = config.routes[..<index].firstIndex(where: { other in
                    let otherHosts: [String?] = other.match.hosts.isEmpty ? [nil] : other.match.hosts
                    return otherHosts.contains(host) && route.match.path.hasPrefix(other.match.path)
                }) else { return false }
                hiders.append(earlier)
                return true
            }
            if hidden, let first = hiders.first {
                let by = config.routes[first]
                warnings.append("warning: route \(describe(route)) (line \(route.line)) can never match: "
                    + "route \(describe(by)) (line \(by.line)) comes first and takes every request it would")
            }
        }
        if let host = config.defaultHost {
            let named = config.routes.contains { route in
                route.match.hosts.contains { pattern in
                    pattern == host || (pattern.hasPrefix("*.") && host.hasSuffix(pattern.dropFirst()) && host.count > pattern.count - 1)
                }
            }
            if !named {
                warnings.append("warning: default_host '\(host)' is named by no route: requests for unknown hosts get only the routes without a host")
            }
        }
        return warnings
    }

    static func describe(_ route: Route) -> String {
        let hosts = route.match.hosts.joined(separator: ",")
        return hosts.isEmpty ? route.match.path : "\(hosts) \(route.match.path)"
    }
}
