import Foundation
import Testing
@testable import TacetStatic

@Suite("DirectoryListing: rendering")
struct DirectoryListingTests {
    @Test("Any name renders escaped in HTML, encoded in links, valid in JSON")
    func anyName() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let scalars = (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                Unicode.Scalar(UInt8.random(in: 1...127, using: &generator))
            }
            let name = String(String.UnicodeScalarView(scalars)).replacingOccurrences(of: "/", with: "_")
            let entry = DirectoryListing.Entry(name: name, isDirectory: false, size: 1, mtime: 0)
            let html = DirectoryListing.html(path: "/", entries: [entry], truncated: false)
            let link = DirectoryListing.percentEncode(name)
            #expect(link.removingPercentEncoding == name)
            #expect(link.allSatisfy { $0.isLetter || $0.isNumber || "-._~%".contains($0) })
            #expect(html.contains("<a href=\"\(link)\">\(DirectoryListing.escapeHTML(name))</a>"))
            #expect(!DirectoryListing.escapeHTML(name).contains { "<>\"'".contains($0) })
            let json = DirectoryListing.json(entries: [entry])
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
            #expect(parsed.first?["name"] as? String == name)
        }
    }
}
