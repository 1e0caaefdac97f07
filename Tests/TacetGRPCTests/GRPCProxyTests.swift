import GRPCCore
import GRPCNIOTransportHTTP2
import NIOPosix
import TacetTestSupport
import TacetUpstream
import Testing

/// gRPC through Tacet to an h2c upstream, grpc-swift-2 on both sides (issue #22).
@Suite("gRPC through the proxy", .serialized)
struct GRPCProxyTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("Unary and server-streaming calls answered through the proxy")
    func unaryAndServerStreaming() async throws {
        let echo = try await EchoServer()
        let proxy = try await GRPCProxy(upstreamPort: echo.port)
        try await whileRunning(proxy, echo) {
            try await withClient(port: proxy.port) { client in
                let answer = try await client.unary(request: ClientRequest(message: Self.bytes("hello")), descriptor: EchoService.get,
                                                    serializer: RawBytes(), deserializer: RawBytes(), options: .defaults) {
                    try $0.message
                }
                #expect(Self.text(answer) == "hello")
                let words = try await client.serverStreaming(request: ClientRequest(message: Self.bytes("a b c")),
                                                             descriptor: EchoService.expand, serializer: RawBytes(),
                                                             deserializer: RawBytes(), options: .defaults) { response in
                    var words: [String] = []
                    for try await message in response.messages { words.append(Self.text(message)) }
                    return words
                }
                #expect(words == ["a", "b", "c"])
            }
        }
    }

    @Test("Client streaming: the client half-closes, then the server answers")
    func clientStreaming() async throws {
        let echo = try await EchoServer()
        let proxy = try await GRPCProxy(upstreamPort: echo.port)
        try await whileRunning(proxy, echo) {
            try await withClient(port: proxy.port) { client in
                let request = StreamingClientRequest<[UInt8]> { writer in
                    for part in ["x", "y", "z"] { try await writer.write(Self.bytes(part)) }
                }
                let answer = try await client.clientStreaming(request: request, descriptor: EchoService.collect,
                                                              serializer: RawBytes(), deserializer: RawBytes(), options: .defaults) {
                    try $0.message
                }
                #expect(Self.text(answer) == "x+y+z")
            }
        }
    }

    @Test("Bidirectional: each message answered before the next is sent")
    func bidirectionalInterleaved() async throws {
        let echo = try await EchoServer()
        let proxy = try await GRPCProxy(upstreamPort: echo.port)
        try await whileRunning(proxy, echo) {
            try await withClient(port: proxy.port) { client in
                let (replies, repliesIn) = AsyncStream<String>.makeStream()
                let request = StreamingClientRequest<[UInt8]> { writer in
                    var iterator = replies.makeAsyncIterator()
                    for i in 0..<5 {
                        try await writer.write(Self.bytes("m\(i)"))
                        // The next message goes only once this one's answer came back through the proxy.
                        guard let reply = await iterator.next() else { return }
                        #expect(reply == "echo:m\(i)")
                    }
                }
                let count = try await client.bidirectionalStreaming(request: request, descriptor: EchoService.update,
                                                                    serializer: RawBytes(), deserializer: RawBytes(),
                                                                    options: .defaults) { response in
                    var count = 0
                    for try await message in response.messages {
                        count += 1
                        repliesIn.yield(Self.text(message))
                    }
                    return count
                }
                #expect(count == 5)
            }
        }
    }

    @Test("A cancel from the client reaches the server's handler (RST_STREAM CANCEL on both legs)")
    func cancelReachesServer() async throws {
        let echo = try await EchoServer()
        let proxy = try await GRPCProxy(upstreamPort: echo.port)
        try await whileRunning(proxy, echo) {
            try await withClient(port: proxy.port) { client in
                let call = Task {
                    try await client.serverStreaming(request: ClientRequest(message: Self.bytes("wait")), descriptor: EchoService.hang,
                                                     serializer: RawBytes(), deserializer: RawBytes(), options: .defaults) { response in
                        for try await _ in response.messages {}
                    }
                }
                await echo.service.hangStarted.wait()
                let start = ContinuousClock.now
                call.cancel()
                await echo.service.hangCancelled.wait()
                print("gRPC cancel reached the server after \(ContinuousClock.now - start)")
                _ = await call.result
            }
        }
    }

    @Test("A deadline: the call ends DEADLINE_EXCEEDED and the server's handler is cancelled")
    func deadline() async throws {
        let echo = try await EchoServer()
        let proxy = try await GRPCProxy(upstreamPort: echo.port)
        try await whileRunning(proxy, echo) {
            try await withClient(port: proxy.port) { client in
                var options = CallOptions.defaults
                // Long enough for the call to reach the handler first even on a loaded machine:
                // what is tested is the cancellation at the deadline, not its precision.
                options.timeout = .seconds(3)
                do {
                    try await client.serverStreaming(request: ClientRequest(message: Self.bytes("wait")), descriptor: EchoService.hang,
                                                     serializer: RawBytes(), deserializer: RawBytes(), options: options) { response in
                        for try await _ in response.messages {}
                    }
                    Issue.record("the call did not fail")
                } catch let error as RPCError {
                    #expect(error.code == .deadlineExceeded, "\(error)")
                }
                await echo.service.hangStarted.wait()
                await echo.service.hangCancelled.wait()
            }
        }
    }

    @Test("A 16 MiB message each way")
    func largeMessage() async throws {
        let echo = try await EchoServer()
        let proxy = try await GRPCProxy(upstreamPort: echo.port)
        try await whileRunning(proxy, echo) {
            try await withClient(port: proxy.port) { client in
                var options = CallOptions.defaults
                options.maxRequestMessageBytes = 32 << 20
                options.maxResponseMessageBytes = 32 << 20
                var message = [UInt8](repeating: 0x5A, count: 16 << 20)
                for i in stride(from: 0, to: message.count, by: 4096) { message[i] = UInt8(truncatingIfNeeded: i >> 12) }
                let answer = try await client.unary(request: ClientRequest(message: message), descriptor: EchoService.get,
                                                    serializer: RawBytes(), deserializer: RawBytes(), options: options) {
                    try $0.message
                }
                #expect(answer.count == message.count)
                #expect(answer == message)
            }
        }
    }

    /// A server announcing 2,000 streams takes all 1,000 on one connection; one announcing no
    /// limit (and keeping to NIOHTTP2's 100) gets 100 per connection, never a refused call.
    @Test("1,000 concurrent calls, all in the server's handler at once, over one upstream connection; past an unannounced limit, 100 per connection (250 calls: 3)",
          arguments: [(2000, 1000, 1), (nil, 250, 3)] as [(Int?, Int, Int)])
    func thousandStreams(_ announced: Int?, _ calls: Int, _ connections: Int) async throws {
        let echo = try await EchoServer(maxConcurrentStreams: announced)
        let proxy = try await GRPCProxy(upstreamPort: echo.port)
        await echo.service.gathering.setTarget(calls)
        try await whileRunning(proxy, echo) {
            try await withClient(port: proxy.port) { client in
                try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<calls {
                        group.addTask {
                            try await client.unary(request: ClientRequest(message: []), descriptor: EchoService.gather,
                                                   serializer: RawBytes(), deserializer: RawBytes(), options: .defaults) {
                                Self.text(try $0.message)
                            }
                        }
                    }
                    var answered = 0
                    for try await answer in group where answer == "ok" { answered += 1 }
                    #expect(answered == calls)
                }
            }
            let peers = await echo.service.gathering.peers
            #expect(peers.count == connections, "\(peers)")
        }
    }

    @Test("Active health over gRPC: SERVING is up; an unknown service (NOT_FOUND) and nothing listening are down")
    func grpcHealth() async throws {
        let echo = try await EchoServer()
        try await whileRunning(echo) {
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let server = UpstreamServer(host: "127.0.0.1", port: echo.port)
            func check(_ server: UpstreamServer, _ service: String) async throws -> Bool {
                try await HealthChecker.checkOnce(server: server, check: .grpc(service: service, timeout: .seconds(10)), on: loop).get()
            }
            let whole = try await check(server, "")
            let named = try await check(server, EchoService.service)
            let unknown = try await check(server, "other")
            let nobody = try await check(UpstreamServer(host: "127.0.0.1", port: refusingPort()), "")
            #expect(whole && named)
            #expect(!unknown && !nobody)
        }
    }
}
