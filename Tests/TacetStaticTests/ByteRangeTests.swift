import Testing
@testable import TacetStatic

@Suite struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-0", RangeDecision.satisfiable(start: 0, endInclusive: 0)),
        ("bytes=0-99", .satisfiable(start: 0, endInclusive: 99)),
        ("bytes=10-19", .satisfiable(start: 10, endInclusive: 19)),
        ("bytes=10-", .satisfiable(start: 10, endInclusive: 99)),
        ("bytes=99-", .satisfiable(start: 99, endInclusive: 99)),
        ("bytes=-10", .satisfiable(start: 90, endInclusive: 99)),
        ("bytes=-100", .satisfiable(start: 0, endInclusive: 99)),
        ("bytes=-1000", .satisfiable(start: 0, endInclusive: 99)),
        ("bytes=50-1000", .satisfiable(start: 50, endInclusive: 99)),
        ("BYTES=0-1", .satisfiable(start: 0, endInclusive: 1)),
        ("bytes= 0-1 ", .satisfiable(start: 0, endInclusive: 1)),
        ("  bytes=0-1", .satisfiable(start: 0, endInclusive: 1)),
        ("bytes=0-1,", .satisfiable(start: 0, endInclusive: 1)),
        ("bytes=, 0-1 ,", .satisfiable(start: 0, endInclusive: 1)),
        ("bytes=0-99999999999999999999999999", .satisfiable(start: 0, endInclusive: 99)),
        ("bytes=-99999999999999999999999999", .satisfiable(start: 0, endInclusive: 99)),
        ("bytes=100-", .unsatisfiable),
        ("bytes=100-200", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=99999999999999999999999999-", .unsatisfiable),
        ("bytes=5-2", .none),
        ("bytes=0-1,5-6", .none),
        ("bytes=0-1, 200-300", .none),
        ("items=0-1", .none),
        ("bytes 0-1", .none),
        ("bytes=", .none),
        ("bytes=,", .none),
        ("bytes=-", .none),
        ("bytes=a-b", .none),
        ("bytes=+1-2", .none),
        ("bytes=1--2", .none),
        ("bytes=0 - 1", .none),
        ("bytes=0x10-", .none),
        ("", .none),
    ])
    func hundredByteFile(_ header: String, _ expected: RangeDecision) {
        #expect(ByteRange.parse(header, size: 100) == expected)
    }

    @Test func emptyFile() {
        #expect(ByteRange.parse("bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-0", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-0", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-5", size: 0) == .none)
    }

    @Test func oneByteFile() {
        #expect(ByteRange.parse("bytes=0-0", size: 1) == .satisfiable(start: 0, endInclusive: 0))
        #expect(ByteRange.parse("bytes=-1", size: 1) == .satisfiable(start: 0, endInclusive: 0))
        #expect(ByteRange.parse("bytes=1-", size: 1) == .unsatisfiable)
    }

    @Test func hugeFile() {
        let size = Int.max
        #expect(ByteRange.parse("bytes=0-", size: size) == .satisfiable(start: 0, endInclusive: Int.max - 1))
        #expect(ByteRange.parse("bytes=-10", size: size) == .satisfiable(start: Int.max - 10, endInclusive: Int.max - 1))
    }
}
