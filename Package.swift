// swift-tools-version:6.0
import PackageDescription

// No unsafeFlags here: a package that depends on the TacetProbe library could not build with
// them. The production build turns off run-time exclusivity checks for every module from the
// command line instead (`swift build -c release -Xswiftc -enforce-exclusivity=unchecked`,
// packaging/README.md): about a tenth less CPU per request, measured.

let package = Package(
    name: "tacet",
    platforms: [.macOS(.v15)],  // Synchronization (Atomic)
    products: [
        .executable(name: "tacet", targets: ["tacet"]),
        .library(name: "TacetProbe", targets: ["TacetProbe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Process lifecycle: graceful shutdown on SIGTERM/SIGINT, signals as async sequences.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // TLS: termination (BoringSSL through NIOSSL); certificates made in memory (tests, --https).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // Test peers only: a real gRPC client and server on either side of the proxy.
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
    ],
    targets: [
        // Byte tunnels, shared by the TCP stream proxy and Upgrade (101) through the HTTP proxy:
        // the per-direction FIN/RST state machine, the glue handlers and their session; and the
        // two socket-level helpers everything uses (an RST on close, a lazily moved deadline).
        .target(name: "TacetTunnel", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // The HTTP/1.1 connection: parser, half-close state machine, handler, listener, router.
        .target(name: "TacetHTTP", dependencies: [
            "TacetTunnel",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // System calls Swift cannot reach: openat2(2) for static files (resolution that cannot leave
        // the root, in one call), SCHED_BATCH for the event loops.
        .target(name: "CTacetSys"),
        // TLS on HTTP listeners: certificates and SNI, plain HTTP refused with a 400, the
        // handshake deadline, and TLS's half-close read as what it means.
        .target(name: "TacetTLS", dependencies: [
            "TacetHTTP", "TacetTunnel",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        // HTTP/2 of Tacet's own: frames, HPACK blocks (NIOHPACK decodes), connection and stream
        // machines, one handler per connection.
        .target(name: "TacetHTTP2", dependencies: [
            "TacetHTTP", "TacetTunnel",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOHPACK", package: "swift-nio-http2"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The PROXY protocol (v1, v2) from a load balancer in front: the parser (pure), trusted
        // networks, and the reader that hands the client's address to the connection.
        .target(name: "TacetProxyProtocol", dependencies: [
            "TacetTunnel",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // zlib and libbrotlienc from the system, zstd through dlopen (its headers are not on
        // every machine; its library is): the C side of compression.
        .target(name: "CTacetCompression", linkerSettings: [
            .linkedLibrary("z"), .linkedLibrary("brotlienc"), .linkedLibrary("dl"),
        ]),
        // Compression on the way out: Accept-Encoding, the decision, streaming encoders, and
        // the sink that compresses a route's response whichever protocol carries it.
        .target(name: "TacetCompression", dependencies: [
            "TacetHTTP", "CTacetCompression",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Route action: static files (pure path/range/conditional logic plus a responder).
        .target(name: "TacetStatic", dependencies: [
            "TacetHTTP", "CTacetSys", "TacetCompression",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // Route action: the HTTP reverse proxy (upstream pools per event loop, FIN policies;
        // HTTP/2 upstreams on TacetHTTP2's client role).
        .target(name: "TacetProxy", dependencies: [
            "TacetHTTP", "TacetHTTP2", "TacetTunnel",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // The YAML config model, loading and validation with file:line errors.
        // Authentication's pure parts: htpasswd files, bcrypt and SHA-crypt checks, Basic
        // credentials, the cache of checked ones.
        // The HTTP cache: its rules (pure: Cache-Control, freshness and age, storability, Vary
        // keys, fills) and its zones (the index, the disk store).
        .target(name: "TacetCache", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The ACME client (RFC 8555): account key and JWS, the CA conversation over HTTPS (NIO,
        // one connection per request), orders, challenges, CSRs, and the storage of what it gets.
        .target(name: "TacetACME", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        .target(name: "TacetAuth", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "TacetConfig", dependencies: [
            "TacetAuth",
            .product(name: "Yams", package: "Yams"),
        ]),
        // The probe: a raw-socket client and the half-close scenarios. No NIO: plain sockets.
        .target(name: "TacetProbe"),
        // The probe's TLS relay, apart so that packages using the TacetProbe library link no TLS.
        .target(name: "TacetProbeTLS", dependencies: [
            "TacetProbe", "TacetTunnel",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            .product(name: "NIOHPACK", package: "swift-nio-http2"),
        ]),
        // Upstream groups: server selection (round robin, least_conn, random), passive and
        // active health. Plain values in, no config types: shared by the HTTP and stream proxies.
        .target(name: "TacetUpstream", dependencies: [
            "TacetHTTP2",  // gRPC health checks speak HTTP/2's client role
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        // The TCP stream proxy: two channels glued, FIN, RST and backpressure per direction.
        .target(name: "TacetStream", dependencies: [
            "TacetUpstream", "TacetTunnel", "TacetProxyProtocol",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Metrics: the HTTP and stream observers as swift-metrics handles backed by a
        // Prometheus registry, upstream gauges refreshed at scrape time, the /metrics responder.
        .target(name: "TacetMetrics", dependencies: [
            "TacetHTTP", "TacetStream", "TacetUpstream", "TacetProxyProtocol",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        // Assembles a running server from a configuration: routes, settings, logs, shutdown.
        .target(name: "TacetServer", dependencies: [
            "TacetHTTP", "TacetStatic", "TacetConfig", "TacetProxy", "TacetUpstream", "TacetStream", "TacetMetrics", "CTacetSys",
            "TacetTLS", "TacetTunnel", "TacetProxyProtocol", "TacetHTTP2", "TacetCompression", "TacetAuth", "TacetCache", "TacetACME",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "tacet", dependencies: [
            "TacetServer", "TacetConfig", "TacetProbe", "TacetProbeTLS", "TacetTLS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // What the test targets share (not a test target itself): the raw-socket test servers, the
        // off-pool RawClient, `blocking`, `eventually`, `OneShot`, `whileRunning`, `unusedPort`...
        .target(name: "TacetTestSupport", dependencies: ["TacetProbe", "CTacetCompression"], path: "Tests/TacetTestSupport"),
        .testTarget(name: "TacetHTTPTests", dependencies: [
            "TacetHTTP", "TacetTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "TacetHTTP2Tests", dependencies: [
            "TacetHTTP2", "TacetHTTP", "TacetTestSupport",
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            .product(name: "NIOHPACK", package: "swift-nio-http2"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "TacetProxyProtocolTests", dependencies: [
            "TacetProxyProtocol", "TacetTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "TacetTunnelTests", dependencies: [
            "TacetTunnel",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "TacetCompressionTests", dependencies: [
            "TacetCompression", "TacetHTTP", "CTacetCompression", "TacetTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "TacetStaticTests", dependencies: ["TacetStatic", "TacetHTTP"]),
        .testTarget(name: "TacetProxyTests", dependencies: [
            "TacetProxy", "TacetHTTP",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TacetConfigTests", dependencies: ["TacetConfig"]),
        .testTarget(name: "TacetAuthTests", dependencies: ["TacetAuth"]),
        .testTarget(name: "TacetCacheTests", dependencies: ["TacetCache"]),
        .testTarget(name: "TacetACMETests", dependencies: [
            "TacetACME",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "TacetProbeTests", dependencies: ["TacetProbe", "TacetTestSupport"]),
        .testTarget(name: "TacetStreamTests", dependencies: [
            "TacetStream", "TacetUpstream", "TacetProbe", "TacetTestSupport", "TacetProxyProtocol",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TacetUpstreamTests", dependencies: [
            "TacetUpstream", "TacetTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // Behaviour on real loopback sockets: the server in-process, the probe's raw client.
        .testTarget(name: "TacetIntegrationTests", dependencies: [
            "TacetHTTP2", "TacetHTTP", "TacetStatic", "TacetConfig", "TacetProbe", "TacetProbeTLS", "TacetServer", "TacetProxy", "TacetMetrics", "TacetCompression",
            "TacetTestSupport", "TacetTLS", "TacetTunnel", "TacetProxyProtocol", "TacetACME",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            .product(name: "NIOHPACK", package: "swift-nio-http2"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // gRPC through the proxy, grpc-swift-2 on both sides: unary, streaming both ways,
        // cancellation, deadlines, large messages, many streams on one upstream connection.
        .testTarget(name: "TacetGRPCTests", dependencies: [
            "TacetHTTP", "TacetHTTP2", "TacetProxy", "TacetUpstream", "TacetTestSupport",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
