import NIOCore
import NIOHTTP1
import NIOPosix

/// One `grpc.health.v1.Health/Check` call on a connection of its own (h2c), for active health
/// checks of gRPC upstreams (`health: { grpc: true, service: "" }`): up only when the server
/// answers grpc-status 0 with `status: SERVING`. The request and the answer's one field are
/// protobuf written and read by hand (no generated code): a HealthCheckRequest is field 1, the
/// service name; a HealthCheckResponse's field 1 is the status enum, SERVING = 1.
package final class GRPCHealthProbe: HTTP2UpstreamConnectionOwner, HTTP2UpstreamStreamDelegate {
    private let promise: EventLoopPromise<Bool>
    private let service: String
    private let authority: String
    private var body = ByteBuffer()
    private var done = false
    private var channel: (any Channel)?
    /// What a health answer may be: a frame header and a few bytes of protobuf.
    static let maxAnswer = 1024

    private init(promise: EventLoopPromise<Bool>, service: String, authority: String) {
        self.promise = promise
        self.service = service
        self.authority = authority
    }

    /// Whether `host:port` is SERVING `service` ("" is the server as a whole); never fails.
    package static func check(host: String, port: Int, service: String, timeout: TimeAmount,
                              on loop: any EventLoop) -> EventLoopFuture<Bool> {
        guard loop.inEventLoop else {
            return loop.flatSubmit { check(host: host, port: port, service: service, timeout: timeout, on: loop) }
        }
        let promise = loop.makePromise(of: Bool.self)
        let probe = GRPCHealthProbe(promise: promise, service: service, authority: "\(host):\(port)")
        let bound = NIOLoopBound(probe, eventLoop: loop)
        let deadline = loop.scheduleTask(in: timeout) { bound.value.finish(false) }
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HTTP2UpstreamConnection(server: 0, channel: channel))
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                let probe = bound.value
                switch result {
                case .success(let channel):
                    probe.channel = channel
                    guard let connection = try? channel.pipeline.syncOperations.handler(type: HTTP2UpstreamConnection.self) else {
                        return probe.finish(false)
                    }
                    connection.owner = probe
                    if connection.isClosed { probe.finish(false) }
                case .failure:
                    probe.finish(false)
                }
            }
        return promise.futureResult.always { _ in
            deadline.cancel()
            bound.value.channel?.close(promise: nil)
        }
    }

    private func finish(_ up: Bool) {
        guard !done else { return }
        done = true
        promise.succeed(up)
    }

    // MARK: the connection

    package func connectionReady(_ connection: HTTP2UpstreamConnection) {
        guard let stream = connection.openStream(for: self) else { return finish(false) }
        stream.sendHead(method: "POST", scheme: "http", authority: authority, path: "/grpc.health.v1.Health/Check",
                        headers: ["content-type": "application/grpc", "te": "trailers"], endStream: false)
        stream.sendData(Self.request(service: service), endStream: true)
    }

    package func connectionHasRoom(_ connection: HTTP2UpstreamConnection) {}
    package func connectionUnavailable(_ connection: HTTP2UpstreamConnection) { finish(false) }

    // MARK: the stream

    package func streamReceivedInterim(_ head: UpstreamResponseHead.Head) {}

    package func streamReceivedHead(_ head: UpstreamResponseHead.Head, endStream: Bool) {
        // Trailers-only (END_STREAM on the head) is an error answer: there is no status message.
        if head.status != 200 || endStream { finish(false) }
    }

    package func streamReceivedData(_ data: ByteBuffer, endStream: Bool) {
        guard body.readableBytes + data.readableBytes <= Self.maxAnswer else { return finish(false) }
        var data = data
        body.writeBuffer(&data)
        if endStream { finish(false) }  // no trailers, so no grpc-status
    }

    package func streamReceivedTrailers(_ trailers: HTTPHeaders) {
        finish(trailers.first(name: "grpc-status") == "0" && Self.isServing(body))
    }

    package func streamFailed(unprocessed: Bool, reset: Bool, reason: String) { finish(false) }
    package func streamWritabilityChanged(_ writable: Bool) {}
    package func streamReadComplete() {}
    package func streamReadTimedOut() {}

    // MARK: the messages

    /// A gRPC frame (uncompressed, length) around a HealthCheckRequest naming `service`.
    static func request(service: String) -> ByteBuffer {
        var message = ByteBuffer()
        let name = Array(service.utf8.prefix(256))
        if !name.isEmpty {
            message.writeInteger(UInt8(0x0A))  // field 1, length-delimited
            writeVarint(UInt64(name.count), into: &message)
            message.writeBytes(name)
        }
        var frame = ByteBuffer()
        frame.writeInteger(UInt8(0))
        frame.writeInteger(UInt32(message.readableBytes))
        frame.writeBuffer(&message)
        return frame
    }

    /// One uncompressed frame holding a HealthCheckResponse whose status (field 1) is SERVING (1).
    /// Other fields are skipped; anything malformed is not serving.
    static func isServing(_ answer: ByteBuffer) -> Bool {
        var answer = answer
        guard let (compressed, length) = answer.readMultipleIntegers(as: (UInt8, UInt32).self), compressed == 0,
              length == answer.readableBytes, var message = answer.readSlice(length: Int(length)) else { return false }
        var status: UInt64 = 0
        while message.readableBytes > 0 {
            guard let key = readVarint(&message) else { return false }
            switch key & 7 {
            case 0:
                guard let value = readVarint(&message) else { return false }
                if key >> 3 == 1 { status = value }
            case 2:
                guard let size = readVarint(&message), size <= UInt64(message.readableBytes) else { return false }
                message.moveReaderIndex(forwardBy: Int(size))
            default:
                return false
            }
        }
        return status == 1
    }

    static func writeVarint(_ value: UInt64, into out: inout ByteBuffer) {
        var value = value
        while value >= 0x80 {
            out.writeInteger(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.writeInteger(UInt8(value))
    }

    static func readVarint(_ buffer: inout ByteBuffer) -> UInt64? {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            guard let byte = buffer.readInteger(as: UInt8.self) else { return nil }
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }
}
