// swift-tools-version:6.0
import Foundation
import PackageDescription

// A package that depends on Tacet's TacetProbe library as a user's would: by version, so
// SwiftPM applies its rules for such dependencies (no unsafe flags on their targets).
// `.ci/check-probe-library` builds it against a clone of the repository tagged 1.0.0.
let source = ProcessInfo.processInfo.environment["TACET_GIT"] ?? "https://github.com/tacet/tacet"

let package = Package(
    name: "ProbeConsumer",
    dependencies: [.package(url: source, from: "1.0.0")],
    targets: [
        .executableTarget(name: "ProbeConsumer", dependencies: [.product(name: "TacetProbe", package: "tacet")]),
    ],
    swiftLanguageModes: [.v6]
)
