import Foundation
import TacetCompression
import TacetConfig

/// What `tacet check` says about compression: the codings this machine can produce on the fly
/// (zstd only where libzstd.so.1 loads), and for each `precompressed` route the siblings found
/// beneath its root.
public enum CompressionReport {
    /// Files looked at per root before the count stops ("at least").
    static let walkLimit = 20_000

    public static func lines(_ config: TacetConfiguration) -> [String] {
        var lines: [String] = []
        let compressing = config.routes.compactMap { $0.compression(defaultingTo: config.compression) }
        if !compressing.isEmpty {
            let wanted = Set(compressing.flatMap(\.encodings))
            let names = ContentCoding.allCases.filter { wanted.contains($0.rawValue) }.map { coding -> String in
                guard coding == .zstd else { return coding.token }
                return ZstdEncoder.version.map { "zstd (libzstd \($0))" } ?? "zstd unavailable (libzstd.so.1 not found: not offered on the fly; .zst files still served)"
            }
            lines.append("compression on \(compressing.count) of \(config.routes.count) routes: \(names.joined(separator: ", "))")
        }
        for route in config.routes {
            guard case .staticFiles(let files) = route.action, !files.precompressed.isEmpty else { continue }
            let counts = siblingCounts(root: files.root, codings: files.precompressed.compactMap(ContentCoding.init(rawValue:)))
            let found = counts.codings.map { "\($0.coding.token) \($0.count)" }.joined(separator: ", ")
            lines.append("route \(route.match.path) (line \(route.line)): precompressed files beneath \(files.root): \(found)"
                + (counts.complete ? "" : " (counted in the first \(walkLimit) files)"))
        }
        return lines
    }

    /// Regular files ending in each coding's suffix, in a walk bounded by `walkLimit`.
    static func siblingCounts(root: String, codings: [ContentCoding]) -> (codings: [(coding: ContentCoding, count: Int)], complete: Bool) {
        var counts = Array(repeating: 0, count: codings.count)
        var seen = 0
        var complete = true
        if let walker = FileManager.default.enumerator(atPath: root) {
            while let name = walker.nextObject() as? String {
                seen += 1
                if seen > walkLimit {
                    complete = false
                    break
                }
                for (index, coding) in codings.enumerated() where name.hasSuffix(coding.fileSuffix) { counts[index] += 1 }
            }
        }
        return (zip(codings, counts).map { ($0, $1) }, complete)
    }
}
