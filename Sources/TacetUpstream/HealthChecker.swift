import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TacetHTTP2

/// Active health checks: every `interval`, each server of a group is checked once and marked
/// up or down by the result. One failed check marks a server down and one passed check marks
/// it up again; passive health (`recordFailure`) covers the time between checks.
public final class HealthChecker: Sendable {
    private let tasks = NIOLockedValueBox<[RepeatedTask]>([])

    public init() {}

    /// Starts checking every server of `group`, the first check at once. Each server's checks
    /// run on one event loop of `eventLoopGroup`, one at a time (the next waits for the last).
    public func start(group: UpstreamGroup, eventLoopGroup: any EventLoopGroup, check: HealthCheck, interval: TimeAmount) {
        for index in group.servers.indices {
            let server = group.servers[index]
            let loop = eventLoopGroup.next()
            let task = loop.scheduleRepeatedAsyncTask(initialDelay: .zero, delay: interval) { _ in
                Self.checkOnce(server: server, check: check, on: loop).map { up in
                    group.markHealth(index, up: up)
                }
            }
            tasks.withLockedValue { $0.append(task) }
        }
    }

    /// Stops all checks; a check in flight finishes but its result is still recorded.
    public func stop() {
        let stopped = tasks.withLockedValue { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in stopped { task.cancel() }
    }

    /// One check of one server; never fails, succeeds with whether the server is up.
    public static func checkOnce(server: UpstreamServer, check: HealthCheck, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        if case .grpc(let service, let timeout) = check {
            return GRPCHealthProbe.check(host: server.host, port: server.port, service: service, timeout: timeout, on: loop)
        }
        let status = loop.makePromise(of: Int.self)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(check.timeout)
            .channelInitializer { channel in
                guard case .http(let path, _, _) = check else { return channel.eventLoop.makeSucceededVoidFuture() }
                let request = HealthCheck.request(path: path, server: server)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HealthProbeHandler(request: request, promise: status))
                }
            }
        let timeout = loop.scheduleTask(in: check.timeout) { status.fail(HealthCheckError.timeout) }
        bootstrap.connect(host: server.host, port: server.port).whenComplete { result in
            switch result {
            case .failure(let error):
                status.fail(error)
            case .success(let channel):
                if case .tcp = check { status.succeed(0) }
                status.futureResult.whenComplete { _ in channel.close(promise: nil) }
            }
        }
        return status.futureResult.map { code in
            timeout.cancel()
            switch check {
            case .tcp: return true
            case .http(_, let expect, _): return expect.contains(code)
            case .grpc: return false  // answered above
            }
        }.recover { _ in
            timeout.cancel()
            return false
        }
    }
}
