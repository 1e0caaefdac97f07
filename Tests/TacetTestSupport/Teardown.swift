/// A fixture a test starts and must stop: a server, a backend.
public protocol Stoppable: Sendable {
    func stop() async
}

/// Runs `body`, then stops `fixtures` in order, awaited, whether `body` returned or threw: a
/// failed `#expect` does not throw, a failed `#require` (or any `try`) does, and either way the
/// servers are gone when the test ends. (A `defer { Task { await stop() } }` would let the test
/// end first and the stop race the next test.)
@discardableResult
public func whileRunning<T>(_ fixtures: any Stoppable..., body: () async throws -> T) async throws -> T {
    let result: T
    do {
        result = try await body()
    } catch {
        for fixture in fixtures { await fixture.stop() }
        throw error
    }
    for fixture in fixtures { await fixture.stop() }
    return result
}
