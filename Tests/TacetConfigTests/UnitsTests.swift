import Testing
@testable import TacetConfig

@Suite struct UnitsTests {
    @Test(arguments: [
        ("512", 512), ("8k", 8192), ("32K", 32768), ("1m", 1_048_576), ("1M", 1_048_576),
        ("1g", 1_073_741_824), ("2G", 2_147_483_648), ("+3", 3),
    ])
    func sizes(text: String, bytes: Int) {
        #expect(Units.size(text) == .value(bytes))
    }

    @Test func badSizes() {
        #expect(Units.size("") == .malformed)
        #expect(Units.size("k") == .malformed)
        #expect(Units.size("8kb") == .malformed)
        #expect(Units.size("8 k") == .malformed)
        #expect(Units.size("1.5m") == .malformed)
        #expect(Units.size("0") == .notPositive)
        #expect(Units.size("-8k") == .notPositive)
        #expect(Units.size("--8") == .malformed)
        #expect(Units.size("9999999999999g") == .tooLarge)
    }

    @Test(arguments: [
        ("60", Duration.seconds(60)), ("500ms", .milliseconds(500)), ("60s", .seconds(60)),
        ("5m", .seconds(300)), ("1h", .seconds(3600)),
    ])
    func durations(text: String, duration: Duration) {
        #expect(Units.duration(text) == .value(duration))
    }

    @Test func badDurations() {
        #expect(Units.duration("5 parsecs") == .malformed)
        #expect(Units.duration("5parsecs") == .malformed)
        #expect(Units.duration("1w") == .malformed)
        #expect(Units.duration("5S") == .malformed)
        #expect(Units.duration("0") == .notPositive)
        #expect(Units.duration("0ms") == .notPositive)
        #expect(Units.duration("-1s") == .notPositive)
        #expect(Units.duration("99999999999999999h") == .tooLarge)
    }

    @Test func positiveIntegers() {
        #expect(Units.positiveInteger("10000") == .value(10_000))
        #expect(Units.positiveInteger("10k") == .malformed)
        #expect(Units.positiveInteger("0") == .notPositive)
    }
}
