/// `cache: { zones: { NAME: { path, max_size, memory, inactive, max_object } } }`: where stored
/// responses live. Zones are shared by the routes that name them and kept across reloads.
public struct CacheZoneConfig: Sendable, Equatable {
    public var name: String
    /// The directory entries are written under (created if missing; must be writable).
    public var path: String
    /// The bound on the bytes stored on disk; past it, least recently used entries go.
    public var maxSize: Int
    /// The bound on the bodies kept in memory (the hot set).
    public var memory: Int
    /// Seconds an entry may go unused before it is dropped, fresh or not.
    public var inactive: Int
    /// The largest response stored (16 MiB, or `max_size` if smaller); larger ones are passed on, not stored.
    public var maxObject: Int
    public var line: Int

    public init(name: String, path: String, maxSize: Int = 1 << 30, memory: Int = 64 << 20, inactive: Int = 600,
                maxObject: Int = 16 << 20, line: Int = 0) {
        self.name = name
        self.path = path
        self.maxSize = maxSize
        self.memory = memory
        self.inactive = inactive
        self.maxObject = maxObject
        self.line = line
    }
}

/// A proxy route's `cache:`: which zone, the key, and the operator's overrides of RFC 9111's
/// defaults (all off unless given).
public struct RouteCacheConfig: Sendable, Equatable {
    public var zone: String
    /// The primary key; `{scheme}://{host}{uri}` by default.
    public var key: [RedirectConfig.Part]
    /// How long concurrent misses wait for the first fill's head before going upstream uncached.
    public var lockTimeout: Duration = .seconds(5)
    /// Seconds a stale entry may answer when the origin fails (nil: only where the origin allows).
    public var staleIfError: Int?
    /// Seconds a stale entry may answer while one refresh runs (nil: only where the origin allows).
    public var staleWhileRevalidate: Int?
    /// Seconds of freshness for a 200, 301 or 404 that gives none (nil: RFC 9111's heuristics only).
    public var defaultTTL: Int?

    public static let defaultKey: [RedirectConfig.Part] = [.variable(.scheme), .literal("://"), .variable(.host), .variable(.uri)]

    public init(zone: String, key: [RedirectConfig.Part] = Self.defaultKey) {
        self.zone = zone
        self.key = key
    }
}

enum CacheParser {
    static func zones(_ node: ConfigNode, context: ParseContext) throws(ConfigError) -> [CacheZoneConfig] {
        let map = try node.mapping(allowedKeys: ["zones"])
        let zonesNode = try map.required("zones")
        let entries = try zonesNode.anyMapping().entries
        guard !entries.isEmpty else { throw zonesNode.error("must name at least one zone") }
        var zones: [CacheZoneConfig] = []
        for entry in entries {
            guard !entry.key.isEmpty, entry.key.unicodeScalars.allSatisfy(isNameCharacter) else {
                throw entry.keyNode.error("a zone name is letters, digits, '-' and '_', not '\(entry.key)'")
            }
            zones.append(try zone(entry.key, entry.value, context: context))
        }
        var paths: [String: String] = [:]
        for (zone, entry) in zip(zones, entries) {
            if let other = paths[zone.path] {
                throw entry.value.error("zones '\(other)' and '\(zone.name)' share the path \(zone.path); give each its own")
            }
            paths[zone.path] = zone.name
        }
        return zones
    }

    private static func zone(_ name: String, _ node: ConfigNode, context: ParseContext) throws(ConfigError) -> CacheZoneConfig {
        let map = try node.mapping(allowedKeys: ["path", "max_size", "memory", "inactive", "max_object"])
        let pathNode = try map.required("path")
        var zone = CacheZoneConfig(name: name, path: context.resolve(try pathNode.nonEmptyString()), line: node.line)
        if let n = map["max_size"] { zone.maxSize = try n.size() }
        if let n = map["memory"] { zone.memory = try n.size() }
        if let n = map["inactive"] { zone.inactive = try seconds(n) }
        if let n = map["max_object"] {
            zone.maxObject = try n.size()
            if zone.maxObject > zone.maxSize {
                throw n.error("max_object (\(zone.maxObject) bytes) is larger than max_size (\(zone.maxSize))")
            }
        } else {
            zone.maxObject = min(zone.maxObject, zone.maxSize)
        }
        return zone
    }

    static func route(_ node: ConfigNode, zones: [CacheZoneConfig]) throws(ConfigError) -> RouteCacheConfig {
        let map = try node.mapping(allowedKeys: ["zone", "key", "lock_timeout", "stale_if_error", "stale_while_revalidate", "default_ttl"])
        let zoneNode = try map.required("zone")
        let name = try zoneNode.nonEmptyString()
        guard zones.contains(where: { $0.name == name }) else {
            let known = zones.map(\.name).joined(separator: ", ")
            throw zoneNode.error(known.isEmpty ? "no cache zone '\(name)': declare it under cache: zones:" : "no cache zone '\(name)' (declared: \(known))")
        }
        var config = RouteCacheConfig(zone: name)
        if let n = map["key"] {
            let text = try n.nonEmptyString()
            config.key = try RedirectParser.template(text, n)
            guard config.key.contains(where: { if case .variable = $0 { true } else { false } }) else {
                throw n.error("a key without a variable would give every request one entry")
            }
        }
        if let n = map["lock_timeout"] { config.lockTimeout = try n.duration() }
        if let n = map["stale_if_error"] { config.staleIfError = try offOrSeconds(n) }
        if let n = map["stale_while_revalidate"] { config.staleWhileRevalidate = try offOrSeconds(n) }
        if let n = map["default_ttl"] { config.defaultTTL = try offOrSeconds(n) }
        return config
    }

    private static func offOrSeconds(_ node: ConfigNode) throws(ConfigError) -> Int? {
        if let text = try? node.string(), ["off", "false", "no"].contains(text) { return nil }
        return try seconds(node)
    }

    private static func seconds(_ node: ConfigNode) throws(ConfigError) -> Int {
        let duration = try node.duration()
        let seconds = Int(duration.components.seconds)
        guard seconds >= 1 else { throw node.error("must be at least one second") }
        return seconds
    }

    private static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_")
    }
}
