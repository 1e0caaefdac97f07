import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import NIOPosix
import TacetHTTP
import TacetHTTP2
import TacetProxy
import TacetTestSupport

/// Messages as their bytes: no protobuf, so no generated code.
struct RawBytes: MessageSerializer, MessageDeserializer {
    typealias Message = [UInt8]
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> [UInt8] { bytes.withUnsafeBytes { Array($0) } }
}

/// A one-shot signal a test awaits (no polling): `fire` from any task, `wait` until it has been.
final class Signal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    init() { (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1)) }
    func fire() { continuation.yield() }
    func wait() async { for await _ in stream { return } }
}

/// The echo service behind the proxy: each method a way a call can go.
struct EchoService: RegistrableRPCService {
    static let service = "tacet.test.Echo"
    static let get = MethodDescriptor(fullyQualifiedService: service, method: "Get")
    static let expand = MethodDescriptor(fullyQualifiedService: service, method: "Expand")
    static let collect = MethodDescriptor(fullyQualifiedService: service, method: "Collect")
    static let update = MethodDescriptor(fullyQualifiedService: service, method: "Update")
    static let hang = MethodDescriptor(fullyQualifiedService: service, method: "Hang")
    static let gather = MethodDescriptor(fullyQualifiedService: service, method: "Gather")
    /// grpc.health.v1: SERVING for "" and "tacet.test.Echo", NOT_FOUND for any other service.
    static let health = MethodDescriptor(fullyQualifiedService: "grpc.health.v1.Health", method: "Check")

    /// Hang: the handler has started; it has seen its call cancelled.
    let hangStarted = Signal()
    let hangCancelled = Signal()
    /// Gather: the calls answer only once this many are in the handler at once.
    let gathering = Gathering()

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(forMethod: Self.get, deserializer: RawBytes(), serializer: RawBytes()) { request, _ in
            var all: [UInt8] = []
            for try await message in request.messages { all += message }
            return StreamingServerResponse(single: ServerResponse(message: all))
        }
        router.registerHandler(forMethod: Self.expand, deserializer: RawBytes(), serializer: RawBytes()) { request, _ in
            var all: [UInt8] = []
            for try await message in request.messages { all += message }
            let words = all.split(separator: UInt8(ascii: " ")).map(Array.init)
            return StreamingServerResponse { writer in
                for word in words { try await writer.write(word) }
                return [:]
            }
        }
        router.registerHandler(forMethod: Self.collect, deserializer: RawBytes(), serializer: RawBytes()) { request, _ in
            // Answered only after the client's END_STREAM: the half-closed stream is the normal case.
            var parts: [[UInt8]] = []
            for try await message in request.messages { parts.append(message) }
            return StreamingServerResponse(single: ServerResponse(message: Array(parts.joined(separator: [UInt8(ascii: "+")]))))
        }
        router.registerHandler(forMethod: Self.update, deserializer: RawBytes(), serializer: RawBytes()) { request, _ in
            StreamingServerResponse { writer in
                for try await message in request.messages { try await writer.write(Array("echo:".utf8) + message) }
                return [:]
            }
        }
        router.registerHandler(forMethod: Self.hang, deserializer: RawBytes(), serializer: RawBytes()) { [hangStarted, hangCancelled] _, context in
            StreamingServerResponse { _ in
                hangStarted.fire()
                try? await context.cancellation.cancelled
                hangCancelled.fire()
                return [:]
            }
        }
        router.registerHandler(forMethod: Self.health, deserializer: RawBytes(), serializer: RawBytes()) { request, _ in
            var asked: [UInt8] = []
            for try await message in request.messages { asked += message }
            // HealthCheckRequest { string service = 1 }: empty, or 0x0A, a length, the name.
            let service = asked.count > 2 ? String(decoding: asked.dropFirst(2), as: UTF8.self) : ""
            guard service == "" || service == Self.service else {
                return StreamingServerResponse(error: RPCError(code: .notFound, message: "unknown service"))
            }
            return StreamingServerResponse(single: ServerResponse(message: [0x08, 0x01]))  // status: SERVING
        }
        router.registerHandler(forMethod: Self.gather, deserializer: RawBytes(), serializer: RawBytes()) { [gathering] _, context in
            await gathering.arrive(peer: context.remotePeer)
            return StreamingServerResponse(single: ServerResponse(message: Array("ok".utf8)))
        }
    }
}

/// Counts calls in at once; all go on once `target` are in.
actor Gathering {
    var target = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private(set) var peers: Set<String> = []
    func setTarget(_ n: Int) { target = n }
    func arrive(peer: String) async {
        peers.insert(peer)
        if waiting.count + 1 >= target {
            let all = waiting
            waiting = []
            for continuation in all { continuation.resume() }
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}

/// The gRPC server, on a port of its own, served until `stop`.
final class EchoServer: Stoppable, Sendable {
    let service = EchoService()
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let task: Task<Void, any Error>
    let port: Int

    /// `maxConcurrentStreams`: what its SETTINGS announce (nil: nothing, yet NIOHTTP2 keeps to 100).
    init(maxConcurrentStreams: Int? = 2000) async throws {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.rpc.maxRequestPayloadSize = 32 << 20
        config.http2.maxConcurrentStreams = maxConcurrentStreams
        let server = GRPCServer(transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 0),
                                                          transportSecurity: .plaintext, config: config),
                                services: [service])
        self.server = server
        task = Task { try await server.serve() }
        guard let port = try await server.listeningAddress?.ipv4?.port else { throw TestFailure("the gRPC server bound no port") }
        self.port = port
    }

    func stop() async {
        server.beginGracefulShutdown()
        _ = try? await task.value
    }
}

/// Tacet in front of the gRPC server: one HTTP/2 listener (prior knowledge) proxying to an h2c upstream.
final class GRPCProxy: Stoppable, Sendable {
    let server: HTTPServer
    let group: MultiThreadedEventLoopGroup
    let port: Int

    init(upstreamPort: Int, readTimeout: TimeAmount = .seconds(60)) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var upstreamSettings = Upstream.Settings()
        upstreamSettings.http2 = true
        upstreamSettings.readTimeout = readTimeout
        let upstream = Upstream(name: "grpc", selector: SingleServer(host: "127.0.0.1", port: upstreamPort),
                                settings: upstreamSettings, group: group)
        var settings = ServerSettings()
        settings.parserLimits.maxBodySize = 64 << 20
        var limits = HTTP2Connection.Limits()
        limits.maxConcurrentStreams = 1100
        var logger = Logger(label: "tacet-grpc-test")
        logger.logLevel = .warning
        let routes = [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream))]
        server = HTTPServer(group: group, state: ListenerState(settings: settings, responder: Router(routes: routes), accessLog: nil,
                                                              observer: NoObserver()), logger: logger)
        let bound = try await server.listen([ListenSpec(host: "127.0.0.1", port: 0,
                                                        protocols: HTTP2Protocols(mode: .priorKnowledge, limits: limits))]).addresses
        guard let port = bound.first?.port else { throw TestFailure("no port bound") }
        self.port = port
    }

    func stop() async {
        await server.shutdown(gracePeriod: .seconds(1))
        try? await group.shutdownGracefully()
    }
}

/// A gRPC client of `port` for the length of `body`.
func withClient<T: Sendable>(port: Int, _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T) async throws -> T {
    try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port),
                                                       transportSecurity: .plaintext)) { client in
        try await body(client)
    }
}
