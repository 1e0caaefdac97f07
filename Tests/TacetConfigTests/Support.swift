import Foundation
@testable import TacetConfig

/// Parses `yaml` as if it were `tacet.yaml` in `base`.
func parse(_ yaml: String, base: String = "/") throws(ConfigError) -> TacetConfiguration {
    try ConfigLoader.parse(yaml: yaml, file: "tacet.yaml", baseDirectory: base)
}

/// The error parsing `yaml` produces, or nil if it parses.
func configError(_ yaml: String, base: String = "/") -> ConfigError? {
    do {
        _ = try parse(yaml, base: base)
        return nil
    } catch {
        return error
    }
}

/// A fresh directory under the system temp directory, removed when the body returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = NSTemporaryDirectory() + "/tacet-config-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    // Normalise (NSTemporaryDirectory may end in "/") so expected paths compare equal.
    return try body(Paths.absolute(path))
}

func makeDirectory(_ path: String) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
}

func writeFile(_ path: String, _ contents: String) throws {
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
}
