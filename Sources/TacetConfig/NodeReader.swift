import Yams

/// A YAML node plus everything needed to blame it: file, key path and position.
///
/// The loader reads the `Node` tree by hand through this type instead of Codable so that every
/// error, including type mismatches and unknown keys, carries `file:line:column: key.path`.
struct ConfigNode {
    let node: Node
    /// e.g. `routes[1].static.root`; empty for the document root.
    let path: String
    let file: String

    var line: Int { node.mark?.line ?? 0 }
    var column: Int { node.mark?.column ?? 0 }

    /// An error located at this node.
    func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: line, column: column, keyPath: path, message: message)
    }

    func child(key: String, node: Node) -> ConfigNode {
        ConfigNode(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    func child(index: Int, node: Node) -> ConfigNode {
        ConfigNode(node: node, path: "\(path)[\(index)]", file: file)
    }

    var isNull: Bool {
        if case .scalar = node { return node.tag.rawValue == Tag.Name.null.rawValue }
        return false
    }

    /// What the node is, for "expected X, got Y" messages. Scalars are quoted verbatim so the
    /// user sees exactly what was parsed.
    var kindDescription: String {
        switch node {
        case .scalar(let scalar): return isNull ? "null" : "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a sequence"
        case .alias: return "an alias"
        }
    }

    /// Type-mismatch messages name only the container kind for non-scalars, and the text for scalars.
    func mismatch(expected: String) -> ConfigError {
        error("expected \(expected), got \(kindDescription)")
    }

    /// Any non-null scalar, as written. Numbers and booleans are accepted as text on purpose:
    /// `body: 42` and `access_log: off` mean the characters the user typed.
    func string() throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node, !isNull else {
            throw mismatch(expected: "a string")
        }
        return scalar.string
    }

    func nonEmptyString() throws(ConfigError) -> String {
        let text = try string()
        guard !text.isEmpty else { throw error("must not be empty") }
        return text
    }

    var isSequence: Bool {
        if case .sequence = node { return true }
        return false
    }

    func sequence() throws(ConfigError) -> [ConfigNode] {
        guard case .sequence(let sequence) = node else {
            throw mismatch(expected: "a sequence")
        }
        return sequence.enumerated().map { child(index: $0.offset, node: $0.element) }
    }

    /// A mapping whose keys must all be in `allowedKeys`; the first unknown key is an error at
    /// that key, listing the allowed ones in the order given.
    func mapping(allowedKeys: [String]) throws(ConfigError) -> MappingReader {
        let reader = try anyMapping()
        for entry in reader.entries where !allowedKeys.contains(entry.key) {
            throw entry.keyNode.error(
                "unknown key '\(entry.key)' (expected one of: \(allowedKeys.joined(separator: ", ")))")
        }
        return reader
    }

    /// A mapping with free-form string keys (e.g. `headers:`).
    func anyMapping() throws(ConfigError) -> MappingReader {
        guard case .mapping(let mapping) = node else {
            throw mismatch(expected: "a mapping")
        }
        var entries: [MappingReader.Entry] = []
        for (keyNode, valueNode) in mapping {
            // Key errors are reported at the key with the parent's path: the key has no path of its own yet.
            let keyAsNode = ConfigNode(node: keyNode, path: path, file: file)
            guard case .scalar(let scalar) = keyNode, !keyAsNode.isNull else {
                throw keyAsNode.error("expected a string key, got \(keyAsNode.kindDescription)")
            }
            entries.append(.init(key: scalar.string, keyNode: keyAsNode, value: child(key: scalar.string, node: valueNode)))
        }
        return MappingReader(node: self, entries: entries)
    }
}

/// The entries of one mapping, looked up by key, in file order.
struct MappingReader {
    struct Entry {
        let key: String
        /// The key itself, positioned at the key (for "unknown key" and similar errors).
        let keyNode: ConfigNode
        let value: ConfigNode
    }

    /// The mapping node, which also locates "missing required key" errors.
    let node: ConfigNode
    let entries: [Entry]

    subscript(key: String) -> ConfigNode? {
        entries.first { $0.key == key }?.value
    }

    func required(_ key: String) throws(ConfigError) -> ConfigNode {
        guard let value = self[key] else {
            throw node.error("missing required key '\(key)'")
        }
        return value
    }

    /// Reads `key` with `read` if present, else returns `fallback`.
    func optional<T>(_ key: String, default fallback: T, _ read: (ConfigNode) throws(ConfigError) -> T) throws(ConfigError) -> T {
        guard let value = self[key] else { return fallback }
        return try read(value)
    }
}
