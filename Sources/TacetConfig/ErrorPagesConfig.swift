import Foundation

/// `error_pages:` (top level and per route): a file per status (`404`) or class (`5xx`), read
/// when the file is loaded (and on reload), so a missing page is an error at its line, not a
/// blank answer later.
public struct ErrorPagesConfig: Sendable, Equatable {
    public struct Page: Sendable, Equatable {
        /// Absolute; its extension gives the Content-Type.
        public var path: String
        public var contents: [UInt8]

        public init(path: String, contents: [UInt8]) {
            self.path = path
            self.contents = contents
        }
    }

    public var byStatus: [Int: Page] = [:]
    /// 4 for `4xx`, 5 for `5xx`.
    public var byClass: [Int: Page] = [:]

    public init(byStatus: [Int: Page] = [:], byClass: [Int: Page] = [:]) {
        self.byStatus = byStatus
        self.byClass = byClass
    }

    /// A page is a whole response held in memory: bounded.
    public static let maxPageSize = 1024 * 1024
}

enum ErrorPagesParser {
    static func parse(_ node: ConfigNode, context: ParseContext) throws(ConfigError) -> ErrorPagesConfig {
        let map = try node.anyMapping()
        guard !map.entries.isEmpty else { throw node.error("must name at least one status (404) or class (5xx)") }
        var config = ErrorPagesConfig()
        for entry in map.entries {
            let key = entry.key.lowercased()
            let page = try read(entry.value, context: context)
            if key.count == 3, key.hasSuffix("xx"), let group = Int(key.prefix(1)), (4...5).contains(group) {
                config.byClass[group] = page
            } else if let status = Int(key), (400...599).contains(status) {
                config.byStatus[status] = page
            } else {
                throw entry.keyNode.error("'\(entry.key)' is not an error status (400...599) or class (4xx, 5xx)")
            }
        }
        return config
    }

    private static func read(_ node: ConfigNode, context: ParseContext) throws(ConfigError) -> ErrorPagesConfig.Page {
        let path = context.resolve(try node.nonEmptyString())
        guard Paths.exists(path) else { throw node.error("file '\(path)' does not exist") }
        guard !Paths.isDirectory(path) else { throw node.error("'\(path)' is a directory, not a page") }
        guard let data = FileManager.default.contents(atPath: path) else { throw node.error("cannot read '\(path)'") }
        guard data.count <= ErrorPagesConfig.maxPageSize else {
            throw node.error("'\(path)' is \(data.count) bytes; an error page is at most 1 MiB")
        }
        return ErrorPagesConfig.Page(path: path, contents: Array(data))
    }
}
