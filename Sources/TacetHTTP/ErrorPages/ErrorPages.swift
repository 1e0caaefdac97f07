import NIOCore

/// nginx's `error_page`: a page per status (`404`) or class (`5xx`), read once at load time, sent
/// in place of a plain-text refusal with the original status (a 404 page is still a 404).
public struct ErrorPages: Sendable {
    public struct Page: Sendable {
        public let body: ByteBuffer
        public let contentType: String

        public init(body: ByteBuffer, contentType: String) {
            self.body = body
            self.contentType = contentType
        }
    }

    private var byStatus: [Int: Page]
    /// 4 for `4xx`, 5 for `5xx`.
    private var byClass: [Int: Page]

    public init(byStatus: [Int: Page] = [:], byClass: [Int: Page] = [:]) {
        self.byStatus = byStatus
        self.byClass = byClass
    }

    public var isEmpty: Bool { byStatus.isEmpty && byClass.isEmpty }

    /// The exact status's page, else its class's.
    public func page(for status: Int) -> Page? {
        guard status >= 400 else { return nil }
        return byStatus[status] ?? byClass[status / 100]
    }

    /// These pages, and `fallback`'s for what these do not name: a route's over the top level's.
    /// A route's `5xx` is still taken before the top level's `502`: the route said what its 5xx are.
    public func over(_ fallback: ErrorPages) -> ErrorPages {
        var merged = fallback
        for (status, page) in byStatus { merged.byStatus[status] = page }
        for (group, page) in byClass {
            merged.byClass[group] = page
            merged.byStatus = merged.byStatus.filter { $0.key / 100 != group || byStatus[$0.key] != nil }
        }
        return merged
    }
}
