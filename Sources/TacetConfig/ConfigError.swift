/// A configuration problem located in the file, so the operator can jump straight to it:
/// `tacet.yaml:12:7: routes[1].static.root: expected a string, got a mapping`.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file as the user named it.
    public var file: String
    /// 1-based line; 0 when the problem concerns the file as a whole (e.g. it cannot be read).
    public var line: Int
    /// 1-based column (in Unicode scalars); 0 when unknown.
    public var column: Int
    /// Where in the document, e.g. `routes[1].static.root`; empty for the top level.
    public var keyPath: String
    public var message: String

    public init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    /// `file:line:column: keyPath: message`, leaving out the parts that are unknown.
    public var description: String {
        var text = file
        if line > 0 {
            text += ":\(line)"
            if column > 0 { text += ":\(column)" }
        }
        text += ": "
        if !keyPath.isEmpty { text += keyPath + ": " }
        return text + message
    }
}
