import NIOCore

/// One HTTP health check on one connection: writes the request when connected, completes
/// `promise` with the status of the first line (or fails it), then closes.
final class HealthProbeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let request: String
    private let promise: EventLoopPromise<Int>
    private var buffer: ByteBuffer?

    init(request: String, promise: EventLoopPromise<Int>) {
        self.request = request
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        let bytes = context.channel.allocator.buffer(string: request)
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if buffer == nil {
            buffer = bytes
        } else {
            buffer?.writeBuffer(&bytes)
        }
        guard let buffer else { return }
        switch StatusLine.parse(buffer) {
        case .incomplete:
            return
        case .status(let status):
            promise.succeed(status)
        case .invalid:
            promise.fail(HealthCheckError.invalidResponse)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(HealthCheckError.closedBeforeStatus)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}

enum HealthCheckError: Error {
    case invalidResponse
    case closedBeforeStatus
    case timeout
}
