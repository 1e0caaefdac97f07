import Foundation
import NIOConcurrencyHelpers
import TacetProbe
import TacetTestSupport

/// A steady client load on its own threads (blocking sockets never run on Swift's cooperative
/// pool): one client sends requests one after another on a keep-alive connection, opening a new
/// one every `keepAliveRun` requests; another opens a new connection for every request. Every
/// answer is checked: a 200, complete, with a body from `expectedBodies`; anything else is kept
/// as a failure.
final class SteadyLoad: Sendable {
    struct Report: Sendable {
        var completed = 0
        var failures: [String] = []
        /// Bodies seen on fresh connections, in order.
        var freshBodies: [String] = []
        var keepAliveBodies: Set<String> = []
    }

    private let port: Int
    private let expectedBodies: Set<String>
    private let keepAliveRun: Int
    private let state = NIOLockedValueBox((stop: false, report: Report()))
    private let running = DispatchGroup()

    init(port: Int, expectedBodies: Set<String>, keepAliveRun: Int = 25) {
        self.port = port
        self.expectedBodies = expectedBodies
        self.keepAliveRun = keepAliveRun
    }

    var completed: Int { state.withLockedValue { $0.report.completed } }

    func start() {
        for keepAlive in [true, false] {
            running.enter()
            let thread = Thread { [self] in
                defer { running.leave() }
                if keepAlive { keepAliveLoop() } else { freshLoop() }
            }
            thread.start()
        }
    }

    /// Stops both clients after their current request and returns what they saw.
    func stop() async -> Report {
        state.withLockedValue { $0.stop = true }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            running.notify(queue: .global()) { continuation.resume() }
        }
        return state.withLockedValue { $0.report }
    }

    private var stopped: Bool { state.withLockedValue { $0.stop } }

    private func keepAliveLoop() {
        while !stopped {
            guard let client = connect() else { return }
            for _ in 0..<keepAliveRun where !stopped {
                guard let body = exchange(client, get("/")) else { return }
                _ = state.withLockedValue { $0.report.keepAliveBodies.insert(body) }
            }
        }
    }

    private func freshLoop() {
        while !stopped {
            guard let client = connect(), let body = exchange(client, get("/", "Connection: close\r\n")) else { return }
            client.close()
            state.withLockedValue { $0.report.freshBodies.append(body) }
        }
    }

    private func connect() -> RawClient? {
        do {
            return try RawClient.connect(host: "127.0.0.1", port: port, timeout: 10)
        } catch {
            fail("connect: \(error)")
            return nil
        }
    }

    /// One request and its response; nil (and a failure recorded) unless it is a complete 200
    /// with an expected body.
    private func exchange(_ client: RawClient, _ request: String) -> String? {
        do {
            try client.write(request)
        } catch {
            fail("write: \(error)")
            return nil
        }
        let read = client.readResponses(count: 1, timeout: 10)
        guard read.end == .open, let response = read.responses().finalResponses.first, response.isComplete else {
            fail("no complete response (\(read.end)): \(read.string)")
            return nil
        }
        guard response.status == 200, expectedBodies.contains(response.bodyString) else {
            fail("unexpected \(response.status) \(response.bodyString)")
            return nil
        }
        state.withLockedValue { $0.report.completed += 1 }
        return response.bodyString
    }

    private func fail(_ message: String) {
        state.withLockedValue { $0.report.failures.append(message) }
    }
}
