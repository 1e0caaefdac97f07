import Foundation
import Testing

/// `packaging/kubernetes/tacet.yaml`: the configuration its ConfigMap carries passes
/// `tacet check`, and the Deployment probes the admin paths that configuration serves.
@Suite("Packaging: Kubernetes manifests")
struct PackagingManifestTests {
    static var repository: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }

    /// The `tacet.yaml: |` block of the ConfigMap, its indentation removed.
    static func embeddedConfig(_ manifest: String) throws -> String {
        let lines = manifest.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "tacet.yaml: |" })
        var block: [String] = []
        for line in lines[(start + 1)...] {
            if line.hasPrefix("---") { break }
            guard line.isEmpty || line.hasPrefix("    ") else { break }
            block.append(String(line.dropFirst(min(4, line.count))))
        }
        return block.joined(separator: "\n")
    }

    @Test func configMapPassesCheckAndProbesMatchTheAdminListener() throws {
        let manifest = try String(contentsOf: Self.repository.appendingPathComponent("packaging/kubernetes/tacet.yaml"), encoding: .utf8)
        let config = try Self.embeddedConfig(manifest)
        #expect(config.contains("admin:"))
        let path = NSTemporaryDirectory() + "tacet-k8s-\(UUID().uuidString).yaml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try CLITests.run(["check", "--config", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(manifest.contains("path: /ready, port: admin"))
        #expect(manifest.contains("path: /healthz, port: admin"))
        #expect(manifest.contains("containerPort: 9090") && config.contains("\"0.0.0.0:9090\""))
        #expect(manifest.contains("containerPort: 8080") && config.contains("\"0.0.0.0:8080\""))
    }
}
