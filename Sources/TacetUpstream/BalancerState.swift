import NIOCore

/// The selection and passive-health state of one upstream group, as a plain value: every
/// decision takes the time (and, for `random`, the generator) as arguments, so tests drive it
/// without sockets, clocks or luck. `UpstreamGroup` holds one behind a lock.
public struct BalancerState: Sendable {
    struct Slot: Sendable {
        var weight: Int
        /// Smooth weighted round robin's running score.
        var currentWeight = 0
        var active = 0
        /// Failures since `windowStart`.
        var fails = 0
        var windowStart: NIODeadline?
        /// Taken out by passive health until then.
        var downUntil: NIODeadline?
        /// The active check's last verdict; up until a check says otherwise.
        var healthy = true
    }

    public let method: BalanceMethod
    /// Failures within `failTimeout` that take a server out; 0 disables passive health.
    public let maxFails: Int
    public let failTimeout: TimeAmount
    private(set) var slots: [Slot]
    /// `consistentHash`'s ring.
    private let ring: HashRing?

    /// `names`: each server's `host:port`, for `consistentHash`'s ring.
    public init(weights: [Int], method: BalanceMethod, maxFails: Int, failTimeout: TimeAmount, names: [String] = []) {
        self.method = method
        self.maxFails = max(0, maxFails)
        self.failTimeout = failTimeout
        self.slots = weights.map { Slot(weight: max(1, $0)) }
        let named = names.count == weights.count ? names : weights.indices.map { "server\($0)" }
        ring = method == .consistentHash ? HashRing(servers: Array(zip(named, weights.map { max(1, $0) }))) : nil
    }

    public var count: Int { slots.count }

    /// Up for new connections: the active check (if any) passed and passive health has not
    /// taken it out. With a single server, passive health never takes it out (as in nginx):
    /// refusing every request for `fail_timeout` after one failure helps nobody.
    public func isAvailable(_ server: Int, now: NIODeadline) -> Bool {
        guard slots.indices.contains(server) else { return false }
        let slot = slots[server]
        guard slot.healthy else { return false }
        if slots.count > 1, let downUntil = slot.downUntil, now < downUntil { return false }
        return true
    }

    /// The server for a new connection among those available and not in `excluding` (servers
    /// the caller already tried for this request); nil when there is none.
    /// `hash`: the request's key hashed (`HashRing.hash`), for `consistentHash`.
    public mutating func pick(
        excluding: Set<Int> = [], now: NIODeadline, hash: UInt64? = nil, using generator: inout some RandomNumberGenerator
    ) -> Int? {
        // Per request: no arrays are built unless a method needs a list of candidates.
        if slots.count == 1 {
            return !excluding.contains(0) && isAvailable(0, now: now) ? 0 : nil
        }
        switch method {
        case .roundRobin:
            return smoothWeightedRoundRobin(excluding: excluding, now: now, load: nil)
        case .consistentHash:
            guard let hash, let ring else { return smoothWeightedRoundRobin(excluding: excluding, now: now, load: nil) }
            return ring.server(for: hash) { isCandidate($0, excluding: excluding, now: now) }
        case .leastConnections:
            // Least active per unit of weight: a * wb < b * wa compares a/wa with b/wb exactly.
            var least: Int?
            for index in slots.indices where isCandidate(index, excluding: excluding, now: now) {
                guard let best = least else { least = index; continue }
                if slots[index].active * slots[best].weight < slots[best].active * slots[index].weight {
                    least = index
                }
            }
            guard let least else { return nil }
            return smoothWeightedRoundRobin(excluding: excluding, now: now,
                                            load: (slots[least].active, slots[least].weight))
        case .randomTwoChoices:
            let candidates = slots.indices.filter { isCandidate($0, excluding: excluding, now: now) }
            guard candidates.count > 1 else { return candidates.first }
            let first = weightedRandom(among: candidates, using: &generator)
            let second = weightedRandom(among: candidates.filter { $0 != first }, using: &generator)
            let firstLoad = slots[first].active * slots[second].weight
            let secondLoad = slots[second].active * slots[first].weight
            return secondLoad < firstLoad ? second : first
        }
    }

    public mutating func connectionOpened(_ server: Int) {
        guard slots.indices.contains(server) else { return }
        slots[server].active += 1
    }

    public mutating func connectionClosed(_ server: Int) {
        guard slots.indices.contains(server) else { return }
        slots[server].active = max(0, slots[server].active - 1)
    }

    /// A connect failure, timeout or broken response. `maxFails` of them within `failTimeout`
    /// of the first take the server out for `failTimeout` from the last one.
    public mutating func recordFailure(_ server: Int, now: NIODeadline) {
        guard slots.indices.contains(server), maxFails > 0 else { return }
        if let start = slots[server].windowStart, now - start > failTimeout {
            slots[server].fails = 0
        }
        if slots[server].fails == 0 { slots[server].windowStart = now }
        slots[server].fails += 1
        if slots[server].fails >= maxFails {
            slots[server].downUntil = now + failTimeout
        }
    }

    /// A request that went through clears the failure count, unless the server is out right
    /// now: a slow success that started before the failures must not bring it back early.
    public mutating func recordSuccess(_ server: Int, now: NIODeadline) {
        guard slots.indices.contains(server) else { return }
        if let downUntil = slots[server].downUntil, now < downUntil { return }
        slots[server].fails = 0
        slots[server].windowStart = nil
        slots[server].downUntil = nil
    }

    /// The active check's verdict. Coming back up also forgets passive failures: the check
    /// has just shown the server answers.
    public mutating func markHealth(_ server: Int, up: Bool) {
        guard slots.indices.contains(server) else { return }
        if up, !slots[server].healthy {
            slots[server].fails = 0
            slots[server].windowStart = nil
            slots[server].downUntil = nil
        }
        slots[server].healthy = up
    }

    public func activeConnections(_ server: Int) -> Int {
        slots.indices.contains(server) ? slots[server].active : 0
    }

    /// Some server has failures counted or is taken out by passive health.
    public var hasFailures: Bool { slots.contains { $0.fails > 0 || $0.downUntil != nil } }

    public func fails(_ server: Int) -> Int {
        slots.indices.contains(server) ? slots[server].fails : 0
    }

    /// nginx's smooth weighted round robin: every candidate gains its weight, the highest
    /// score wins and pays back the total. Weights 5,1,1 give a a a b a c a, not a a a a a b c.
    /// Among the candidates, or only those whose active/weight equals `load` (least_conn's ties).
    private mutating func smoothWeightedRoundRobin(excluding: Set<Int>, now: NIODeadline,
                                                   load: (active: Int, weight: Int)?) -> Int? {
        var best: Int?
        var total = 0
        for index in slots.indices where isCandidate(index, excluding: excluding, now: now) {
            if let load, slots[index].active * load.weight != load.active * slots[index].weight { continue }
            slots[index].currentWeight += slots[index].weight
            total += slots[index].weight
            if best.map({ slots[index].currentWeight > slots[$0].currentWeight }) ?? true {
                best = index
            }
        }
        if let best { slots[best].currentWeight -= total }
        return best
    }

    private func isCandidate(_ index: Int, excluding: Set<Int>, now: NIODeadline) -> Bool {
        !excluding.contains(index) && isAvailable(index, now: now)
    }

    private func weightedRandom(among candidates: [Int], using generator: inout some RandomNumberGenerator) -> Int {
        let total = candidates.reduce(0) { $0 + slots[$1].weight }
        var point = Int.random(in: 0..<total, using: &generator)
        for index in candidates {
            point -= slots[index].weight
            if point < 0 { return index }
        }
        return candidates[candidates.count - 1]
    }
}
