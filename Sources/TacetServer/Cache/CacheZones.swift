import Logging
import NIOPosix
import TacetCache
import TacetConfig
import TacetHTTP

extension ListenerSetup {
    /// Each zone's path created if missing and proved writable: for `tacet check`, start and
    /// reload, an error naming the zone's line.
    static func checkCacheZones(_ config: TacetConfiguration) throws(ListenerSetupError) {
        for zone in config.cacheZones {
            do {
                try DiskStore(root: zone.path).prepare()
            } catch {
                throw ListenerSetupError(keyPath: "cache.zones.\(zone.name).path", line: zone.line, message: error.description)
            }
        }
    }
}

extension RuntimeConfiguration {
    /// Opens the zones the configuration declares, loading what earlier runs stored; a zone
    /// whose settings did not change on reload is kept as it is (its entries, fills and counts).
    mutating func openCacheZones(previous: RuntimeConfiguration?, logger: Logger) throws(ListenerSetupError) {
        var zones: [String: CacheZone] = [:]
        for config in self.config.cacheZones {
            let settings = CacheZone.Settings(name: config.name, path: config.path, maxSize: config.maxSize, memory: config.memory,
                                              inactive: config.inactive, maxObject: config.maxObject)
            if let kept = previous?.cacheZones[config.name], kept.settings == settings {
                zones[config.name] = kept
                continue
            }
            do {
                zones[config.name] = try CacheZone(settings: settings, threadPool: CacheZone.writers, logger: logger,
                                                   date: { HTTPDate.parse($0) })
            } catch {
                throw ListenerSetupError(keyPath: "cache.zones.\(config.name).path", line: config.line, message: error.description)
            }
        }
        cacheZones = zones
    }
}

extension TacetServer {
    /// Returns once every cache zone's disk writes submitted so far are done.
    public func cacheWritesSettled() async {
        let zones = current.withLockedValue { Array($0.runtime.cacheZones.values) }
        for zone in zones { await zone.writesSettled() }
    }
}
