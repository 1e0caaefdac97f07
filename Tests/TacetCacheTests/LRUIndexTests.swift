import Testing
@testable import TacetCache

@Suite("LRUIndex: bounded bytes, least recently used out first, inactive swept")
struct LRUIndexTests {
    @Test func evictsLeastRecentlyUsed() {
        var index = LRUIndex<String>(maxBytes: 100)
        #expect(index.insert("a", size: 40, now: 0).isEmpty)
        #expect(index.insert("b", size: 40, now: 1).isEmpty)
        index.touch("a", now: 2)
        #expect(index.insert("c", size: 40, now: 3) == ["b"])
        #expect(index.keysOldestFirst == ["a", "c"] && index.bytes == 80)
        #expect(index.insert("big", size: 101, now: 4) == ["big"], "one entry over the bound is not kept")
        #expect(index.insert("a", size: 90, now: 5) == ["c"], "a replaced entry counts its new size")
        #expect(index.bytes == 90 && index.count == 1)
    }

    @Test func sweepsInactive() {
        var index = LRUIndex<Int>(maxBytes: 1000)
        for key in 0..<5 { _ = index.insert(key, size: 1, now: key * 10) }
        index.touch(0, now: 45)
        #expect(index.sweep(now: 50, inactive: 25) == [1, 2])
        #expect(index.keysOldestFirst == [3, 4, 0])
    }

    @Test("10,000 random keys and operations: bytes always within the bound and equal to the sum kept")
    func randomised() {
        var generator = SystemRandomNumberGenerator()
        var index = LRUIndex<Int>(maxBytes: 50_000)
        var sizes: [Int: Int] = [:]
        for step in 0..<10_000 {
            let key = Int.random(in: 0..<10_000, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:
                let size = Int.random(in: 1...2_000, using: &generator)
                for gone in index.insert(key, size: size, now: step) { sizes[gone] = nil }
                if index.contains(key) { sizes[key] = size } else { sizes[key] = nil }
            case 1: index.touch(key, now: step)
            default: if index.remove(key) { sizes[key] = nil }
            }
            #expect(index.bytes <= 50_000)
        }
        #expect(index.bytes == sizes.values.reduce(0, +) && index.count == sizes.count)
        #expect(Set(index.keysOldestFirst) == Set(sizes.keys))
    }
}
