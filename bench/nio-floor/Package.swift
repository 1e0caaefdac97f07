// swift-tools-version:6.0
import PackageDescription

// The floor under Tacet: the least a SwiftNIO server can do per request (no parsing, no routing,
// no state machine), measured beside Tacet and nginx by bench/floor.sh.
let package = Package(
    name: "nio-floor",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(name: "nio-floor", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
    ],
    swiftLanguageModes: [.v6]
)
