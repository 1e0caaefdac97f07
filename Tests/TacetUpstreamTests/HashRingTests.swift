import NIOCore
import Testing
@testable import TacetUpstream

/// `balance: consistent_hash`'s ring: the same servers give every instance the same ring; keys
/// spread over the servers by weight; removing a server moves only its own keys; a server down
/// or already tried passes its keys to the next along the ring.
@Suite("HashRing: ketama consistent hashing")
struct HashRingTests {
    static let names = ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]
    static let keys = (0..<3000).map { "http://shop.example.com/item/\($0)?v=\($0 % 7)" }

    @Test("Two instances with the same servers agree on every key")
    func deterministic() {
        let a = HashRing(servers: Self.names.map { ($0, 1) })
        let b = HashRing(servers: Self.names.map { ($0, 1) })
        for key in Self.keys {
            #expect(a.server(for: HashRing.hash(key)) { _ in true } == b.server(for: HashRing.hash(key)) { _ in true })
        }
    }

    @Test("Keys spread by weight: each of three equal servers gets a fair share; weight 2 about twice")
    func spread() {
        let ring = HashRing(servers: Self.names.map { ($0, 1) })
        var counts = [0, 0, 0]
        for key in Self.keys { counts[ring.server(for: HashRing.hash(key)) { _ in true } ?? 0] += 1 }
        #expect(counts.allSatisfy { $0 > 700 && $0 < 1300 }, "\(counts)")
        let weighted = HashRing(servers: [(Self.names[0], 2), (Self.names[1], 1)])
        var two = [0, 0]
        for key in Self.keys { two[weighted.server(for: HashRing.hash(key)) { _ in true } ?? 0] += 1 }
        #expect(two[0] > two[1] * 3 / 2, "\(two)")
    }

    @Test("Removing a server moves only the keys it owned; a refused server's keys go to the next")
    func stability() {
        let three = HashRing(servers: Self.names.map { ($0, 1) })
        let two = HashRing(servers: Self.names.prefix(2).map { ($0, 1) })
        for key in Self.keys {
            let before = three.server(for: HashRing.hash(key)) { _ in true }
            let after = two.server(for: HashRing.hash(key)) { _ in true }
            if before != 2 { #expect(before == after, "\(key) moved though its server stayed") }
            // Server 2 down in the three-server ring: the same answer as the ring without it.
            #expect(three.server(for: HashRing.hash(key)) { $0 != 2 } == after)
        }
        #expect(three.server(for: 42) { _ in false } == nil)
    }

    @Test("BalancerState: consistent_hash picks by the hash, skips a server taken out, round robin without a key")
    func balancer() {
        var state = BalancerState(weights: [1, 1, 1], method: .consistentHash, maxFails: 1, failTimeout: .seconds(10), names: Self.names)
        var generator = SystemRandomNumberGenerator()
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let hash = HashRing.hash("http://a/x")
        let owner = state.pick(now: now, hash: hash, using: &generator)
        #expect(owner != nil && state.pick(now: now, hash: hash, using: &generator) == owner)
        state.recordFailure(owner ?? 0, now: now)
        let next = state.pick(now: now, hash: hash, using: &generator)
        #expect(next != nil && next != owner)
        #expect(state.pick(excluding: [next ?? 0], now: now, hash: hash, using: &generator).map { $0 != owner && $0 != next } == true)
        #expect(state.pick(now: now, using: &generator) != nil)
    }
}
