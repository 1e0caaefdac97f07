import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP exchange with the CA.
public struct ACMEHTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// How the client reaches the CA; a protocol so the client's state machine can be tested
/// against a scripted CA without sockets.
public protocol ACMETransport: Sendable {
    func send(method: HTTPMethod, url: String, body: [UInt8]?, contentType: String?) async throws -> ACMEHTTPResponse
}

public struct ACMETransportError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// HTTPS to the CA, one connection per request (ACME is a handful of requests a day), verified
/// against the system's trust store or the `ca:` bundle. Bounded: 10 s to connect, `timeout` for
/// the whole exchange, 1 MiB of response body.
public final class NIOACMETransport: ACMETransport {
    private let group: any EventLoopGroup
    private let context: NIOSSLContext
    private let timeout: TimeAmount
    static let maxBody = 1 << 20

    public init(group: any EventLoopGroup, caFile: String?, timeout: TimeAmount = .seconds(30)) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = ["http/1.1"]
        if let caFile { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) }
        context = try NIOSSLContext(configuration: configuration)
        self.group = group
        self.timeout = timeout
    }

    public func send(method: HTTPMethod, url: String, body: [UInt8]?, contentType: String?) async throws -> ACMEHTTPResponse {
        guard let parts = URLComponents(string: url), parts.scheme == "https", let host = parts.host, !host.isEmpty else {
            throw ACMETransportError(description: "not an https URL: \(url)")
        }
        let port = parts.port ?? 443
        let path = (parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath) + (parts.percentEncodedQuery.map { "?\($0)" } ?? "")
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: ACMEHTTPResponse.self)
        let context = self.context
        let serverName = host.contains(":") || host.allSatisfy({ $0 == "." || $0.isNumber }) ? nil : host
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(ResponseCollector(promise: promise, limit: Self.maxBody))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            promise.fail(error)  // never handed to a collector: it must not leak
            throw error
        }
        let deadline = eventLoop.scheduleTask(in: timeout) {
            promise.fail(ACMETransportError(description: "no answer from \(host) within \(self.timeout.nanoseconds / 1_000_000_000) s"))
            channel.close(promise: nil)
        }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: parts.port.map { "\(host):\($0)" } ?? host)
        head.headers.add(name: "User-Agent", value: "tacet-acme")
        head.headers.add(name: "Accept", value: "*/*")
        head.headers.add(name: "Connection", value: "close")
        if let contentType { head.headers.add(name: "Content-Type", value: contentType) }
        if let body { head.headers.add(name: "Content-Length", value: String(body.count)) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body, !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }
}

/// Gathers one response; fails the promise if the connection ends first or the body is too large.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<ACMEHTTPResponse>
    private let limit: Int
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var done = false

    init(promise: EventLoopPromise<ACMEHTTPResponse>, limit: Int) {
        self.promise = promise
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(let buffer):
            guard body.count + buffer.readableBytes <= limit else { return fail(context, "a response over \(limit) bytes") }
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head else { return fail(context, "a response without a head") }
            done = true
            promise.succeed(ACMEHTTPResponse(status: Int(head.status.code), headers: head.headers, body: body))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done { fail(context, "the connection closed before the response ended") }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.fail(error)
        }
        context.close(promise: nil)
    }

    private func fail(_ context: ChannelHandlerContext, _ reason: String) {
        guard !done else { return }
        done = true
        promise.fail(ACMETransportError(description: reason))
        context.close(promise: nil)
    }
}
