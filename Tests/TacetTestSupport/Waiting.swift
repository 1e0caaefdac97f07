import Foundation
import Synchronization

/// Runs `work` on a thread of its own and returns its result: for calls that block a thread (a
/// blocking socket read, a semaphore wait, a poll with a timeout). Swift's cooperative pool has
/// only as many threads as cores (two on CI); a test that blocks one of them can starve the
/// server it is testing, when that server runs tasks of its own.
public func blocking<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    let result: Result<T, E> = await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: Result(catching: work)) }.start()
    }
    return try result.get()
}

/// Polls `condition` until it holds or `timeout` seconds pass: for state another thread changes
/// and nothing announces. Where a fixture can announce an event, use a `OneShot` instead. The
/// timeout is only a bound for a failing test (a passing one returns as soon as it holds), so it
/// is generous: a loaded CI machine must not turn slowness into a failure.
public func eventually(timeout: Double = 30, _ condition: @Sendable () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

/// `eventually` for a condition that must itself wait (a request over a socket, made `blocking`).
public func eventually(timeout: Double = 30, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}

/// An event that happens once, with a value: a fixture resolves it (from any thread), a test
/// awaits it, with a time limit so a broken fixture fails the test instead of hanging it.
public final class OneShot<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var resolved = false
        var waiters: [Int: CheckedContinuation<Value, any Error>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())
    /// Signalled once, on resolve, for `waitBlocking` (and re-signalled by each waiter).
    private let semaphore = DispatchSemaphore(value: 0)

    public init() {}

    /// Resolves the event; only the first call counts.
    public func resolve(_ value: Value) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value, any Error>]? in
            guard !state.resolved else { return nil }
            state.resolved = true
            state.value = value
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        guard let waiters else { return }
        semaphore.signal()
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The value, once resolved; waits at most `timeout` seconds, then throws `failure`.
    public func value(timeout: Double, failure: String) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let (ready, id) = state.withLock { state -> (Value?, Int) in
                if state.resolved, let value = state.value { return (value, 0) }
                state.nextWaiter += 1
                state.waiters[state.nextWaiter] = continuation
                return (nil, state.nextWaiter)
            }
            if let ready {
                continuation.resume(returning: ready)
                return
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
                let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.resume(throwing: TestFailure(failure))
            }
        }
    }

    /// The value, blocking this thread at most `timeout` seconds: for synchronous tests and for
    /// fixture threads only, never on Swift's cooperative pool.
    public func waitBlocking(timeout: Double) -> Value? {
        guard semaphore.wait(timeout: .now() + timeout) == .success else { return nil }
        semaphore.signal()
        return state.withLock { $0.value }
    }
}
