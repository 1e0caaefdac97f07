import Testing
@testable import TacetConfig

/// `log_level:`: swift-log's level names, absent means "not said", anything else is refused
/// with its line.
@Suite struct LogLevelConfigTests {
    @Test func absentIsNil() throws {
        #expect(try parse("listen: \"127.0.0.1:8080\"\n").logLevel == nil)
    }

    @Test(arguments: LogLevel.allCases)
    func everyLevelParses(_ level: LogLevel) throws {
        #expect(try parse("log_level: \(level.rawValue)\n").logLevel == level)
    }

    @Test func unknownLevelNamesChoicesAndLine() {
        #expect(configError("listen: \":80\"\nlog_level: verbose\n")?.description
            == "tacet.yaml:2:12: log_level: unknown log level 'verbose' "
            + "(expected one of: trace, debug, info, notice, warning, error, critical)")
    }
}
