import Foundation
import Synchronization

/// Every child process a test starts is started under one lock: Foundation's `Process.run`
/// crashed here (a memmove inside it) when suites running in parallel started processes at
/// the same moment. Only the start is serialised; the processes run side by side.
public enum ProcessLaunch {
    private static let lock = Mutex(())

    public static func run(_ process: Process) throws {
        try lock.withLock { _ in try process.run() }
    }

    static func withLock<T>(_ body: () -> T) -> T {
        lock.withLock { _ in body() }
    }
}
