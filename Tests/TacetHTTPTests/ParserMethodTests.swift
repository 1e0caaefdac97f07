import Testing
@testable import TacetHTTP

/// The request line's method: the common ones are read from their bytes, the rest by name.
@Suite("Parser: methods")
struct MethodParsingTests {
    @Test("Known methods, others kept as sent (case matters: methods are case-sensitive)")
    func methods() throws {
        for name in ["GET", "PUT", "POST", "HEAD", "DELETE", "OPTIONS", "PATCH", "get", "GETX", "PROPFIND"] {
            let request = try RouterTests.request("/", method: name)
            #expect(request.method.rawValue == name)
        }
        #expect(try RouterTests.request("/", method: "GET").method == .GET)
        #expect(try RouterTests.request("/", method: "get").method != .GET)
    }
}
