import Foundation
import Yams

/// Entry points: read a YAML file into a validated `TacetConfiguration`, or build one without a file.
public enum ConfigLoader {
    /// Reads and parses the file at `path`. Relative paths inside it (static roots, log files)
    /// resolve against the file's own directory, so the config means the same from any cwd.
    /// Errors name `path` as given, which is what the user typed and will look for.
    public static func load(path: String) throws(ConfigError) -> TacetConfiguration {
        let absolute = Paths.absolute(path)
        guard let data = FileManager.default.contents(atPath: absolute), !Paths.isDirectory(absolute) else {
            let reason = Paths.exists(absolute) ? "cannot read the config file" : "config file not found"
            throw ConfigError(file: path, line: 0, column: 0, keyPath: "", message: reason)
        }
        guard let yaml = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, line: 0, column: 0, keyPath: "", message: "the config file is not valid UTF-8")
        }
        return try parse(yaml: yaml, file: path, baseDirectory: Paths.directory(of: absolute))
    }

    /// Parses YAML text. `file` is only used in error messages; `baseDirectory` anchors relative paths.
    /// An empty document yields all defaults.
    public static func parse(yaml: String, file: String, baseDirectory: String) throws(ConfigError) -> TacetConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(yamlError: error, file: file)
        } catch {
            throw ConfigError(file: file, line: 0, column: 0, keyPath: "", message: "invalid YAML: \(error)")
        }
        guard let root else { return TacetConfiguration() }
        let document = ConfigNode(node: root, path: "", file: file)
        if document.isNull { return TacetConfiguration() }
        let parser = DocumentParser(context: ParseContext(baseDirectory: Paths.absolute(baseDirectory)))
        return try parser.configuration(from: document)
    }

    /// The configuration used when no file is given: serve `root` (relative to the current
    /// directory) for every request. An empty `listen` falls back to the default address.
    /// Unlike a file's `static.root`, `root` is not checked here; the server reports it on start.
    public static func defaultConfiguration(root: String, listen: [ListenAddress]) -> TacetConfiguration {
        let route = Route(
            match: RouteMatch(host: nil, path: "/"),
            action: .staticFiles(StaticFiles(root: Paths.absolute(root))),
            line: 0)
        return TacetConfiguration(
            listen: listen.isEmpty ? TacetConfiguration.defaultListen : listen,
            routes: [route])
    }
}

/// What parsers need besides the node itself.
struct ParseContext: Sendable {
    /// Absolute directory that relative paths in the file resolve against.
    let baseDirectory: String
    /// Names under `upstreams:`, read before anything that may refer to them.
    var upstreamNames: Set<String> = []
    /// `request_id: true`: `{request_id}` may be used.
    var requestID = false
    /// The top level's `compression:`, which a route's block overrides key by key.
    var compression: CompressionConfig?
    /// `cache: zones:`, read before the routes that name them.
    var cacheZones: [CacheZoneConfig] = []

    func resolve(_ path: String) -> String {
        Paths.absolute(path, relativeTo: baseDirectory)
    }
}
