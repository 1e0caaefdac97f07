/// `respond: { status, body, content_type, headers }`.
enum FixedResponseParser {
    /// Set by the server from the body and connection state; letting the config set them would
    /// produce responses whose framing lies.
    static let reservedHeaders: Set<String> = ["content-length", "transfer-encoding", "connection"]

    static func parse(_ node: ConfigNode) throws(ConfigError) -> FixedResponse {
        let map = try node.mapping(allowedKeys: ["status", "body", "content_type", "headers"])
        let status = try map.required("status").integer(in: 200...599, what: "an HTTP status code")
        var response = FixedResponse(status: status)
        if let body = map["body"] {
            response.body = try body.string()
        }
        if let contentType = map["content_type"] {
            response.contentType = try headerValue(contentType, allowEmpty: false)
        }
        if let headers = map["headers"] {
            for entry in try headers.anyMapping().entries {
                response.headers.append(try header(entry))
            }
        }
        return response
    }

    private static func header(_ entry: MappingReader.Entry) throws(ConfigError) -> FixedResponse.Header {
        let name = entry.key
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(isTokenCharacter) else {
            throw entry.keyNode.error("invalid header name '\(name)'")
        }
        let lowercased = name.lowercased()
        if reservedHeaders.contains(lowercased) {
            throw entry.keyNode.error("header '\(name)' is set by the server and cannot be configured")
        }
        if lowercased == "content-type" {
            throw entry.keyNode.error("set the content type with 'content_type', not in headers")
        }
        return FixedResponse.Header(name: name, value: try headerValue(entry.value, allowEmpty: true))
    }

    /// Rejects CR, LF and other controls (tab aside) so a value cannot split the response.
    private static func headerValue(_ node: ConfigNode, allowEmpty: Bool) throws(ConfigError) -> String {
        let value = allowEmpty ? try node.string() : try node.nonEmptyString()
        let isBad: (Unicode.Scalar) -> Bool = { $0 != "\t" && $0.properties.generalCategory == .control }
        guard !value.unicodeScalars.contains(where: isBad) else {
            throw node.error("must not contain line breaks or control characters")
        }
        return value
    }

    /// RFC 9110 `tchar`.
    static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return false }
        if ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) {
            return true
        }
        return "!#$%&'*+-.^_`|~".unicodeScalars.contains(scalar)
    }
}

/// `static: { root, index, precompressed }`.
enum StaticFilesParser {
    /// The root must exist now: a typo found at startup beats a server that answers 404 forever.
    static func parse(_ node: ConfigNode, context: ParseContext) throws(ConfigError) -> StaticFiles {
        let map = try node.mapping(allowedKeys: ["root", "index", "precompressed", "try_files", "autoindex"])
        let rootNode = try map.required("root")
        let root = context.resolve(try rootNode.nonEmptyString())
        guard Paths.exists(root) else {
            throw rootNode.error("directory '\(root)' does not exist")
        }
        guard Paths.isDirectory(root) else {
            throw rootNode.error("'\(root)' is not a directory")
        }
        var files = StaticFiles(root: root)
        if let indexNode = map["index"] {
            let index = try indexNode.nonEmptyString()
            guard !index.contains("/"), index != ".", index != ".." else {
                throw indexNode.error("must be a file name, got '\(index)'")
            }
            files.index = index
        }
        if let list = map["precompressed"] {
            for item in try list.sequence() {
                let name = try item.nonEmptyString().lowercased()
                guard CompressionConfig.knownEncodings.contains(name) else {
                    throw item.error("unknown encoding '\(name)' (expected one of: \(CompressionConfig.knownEncodings.joined(separator: ", ")))")
                }
                guard !files.precompressed.contains(name) else { throw item.error("'\(name)' is listed twice") }
                files.precompressed.append(name)
            }
            guard !files.precompressed.isEmpty else { throw list.error("must list at least one encoding") }
        }
        if let list = map["try_files"] { files.tryFiles = try tryFiles(list) }
        if let flag = map["autoindex"] { files.autoindex = try flag.flag("autoindex") }
        return files
    }

    /// Two entries or more: paths (`/`-rooted, `{path}` the request's) and, last only, `=CODE`.
    static func tryFiles(_ node: ConfigNode) throws(ConfigError) -> [String] {
        let items = try node.sequence()
        guard items.count >= 2 else {
            throw node.error("needs at least two entries: the paths to try, then the fallback (a path or =CODE)")
        }
        var entries: [String] = []
        for (index, item) in items.enumerated() {
            let entry = try item.nonEmptyString()
            if entry.hasPrefix("=") {
                guard index == items.count - 1 else { throw item.error("'\(entry)': a status is only the last entry") }
                guard let code = Int(entry.dropFirst()), (400...599).contains(code) else {
                    throw item.error("'\(entry)': expected =CODE with CODE in 400...599")
                }
            } else {
                guard entry.hasPrefix("/") || entry.hasPrefix("{path}") else {
                    throw item.error("'\(entry)' must start with '/' or '{path}'")
                }
                let rest = entry.replacing("{path}", with: "")
                guard !rest.contains("{"), !rest.contains("}") else {
                    throw item.error("'\(entry)': the only placeholder is {path}")
                }
                let isBad: (Unicode.Scalar) -> Bool = { $0.properties.isWhitespace || $0.properties.generalCategory == .control }
                guard !rest.unicodeScalars.contains(where: isBad) else { throw item.error("must not contain spaces or control characters") }
                guard !rest.split(separator: "/").contains("..") else { throw item.error("'\(entry)' must not contain '..'") }
            }
            entries.append(entry)
        }
        return entries
    }
}
