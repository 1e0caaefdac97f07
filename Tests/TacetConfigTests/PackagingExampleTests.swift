import Foundation
import Testing
@testable import TacetConfig

/// `packaging/tacet.yaml` documents the common keys: it must stay a valid configuration. Its static
/// root (/srv/www) is swapped for a directory that exists here.
@Suite struct PackagingExampleTests {
    @Test func exampleConfigIsValid() throws {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let text = try String(contentsOf: root.appendingPathComponent("packaging/tacet.yaml"), encoding: .utf8)
        try withTemporaryDirectory { directory in
            let config = try parse(text.replacingOccurrences(of: "/srv/www", with: directory))
            #expect(config.logLevel == .notice)
            #expect(config.routes.count == 4)
            #expect(config.upstreams.map(\.name) == ["app", "db"])
            #expect(config.streams.count == 1)
            #expect(config.accessLog == AccessLogConfig(destination: .file("/var/log/tacet/access.log"), format: .combined))
        }
    }
}
