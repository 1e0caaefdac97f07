import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, with the part of Foundation's `Process` the tests
/// use. Foundation's `Process.run` crashed here (a memcpy inside it) even with every start
/// serialised, taking the whole test run down; this starts under the same lock (`ProcessLaunch`),
/// closes every other descriptor in the child (so a pipe's reader sees EOF when its own child
/// ends, not when every child ends), and reaps its child once.
public final class TestProcess: Sendable {
    /// Pipe, FileHandle, or nil (inherit this process's).
    public typealias Output = any Sendable

    private struct Setup {
        var executableURL: URL?
        var arguments: [String] = []
        var environment: [String: String]?
        var standardOutput: (any Sendable)?
        var standardError: (any Sendable)?
    }

    private struct Child {
        var pid: pid_t = 0
        var exited = false
        var status: Int32 = 0
    }

    private let setup = Mutex(Setup())
    private let child = Mutex(Child())

    public init() {}

    public var executableURL: URL? {
        get { setup.withLock { $0.executableURL } }
        set { setup.withLock { $0.executableURL = newValue } }
    }
    public var arguments: [String] {
        get { setup.withLock { $0.arguments } }
        set { setup.withLock { $0.arguments = newValue } }
    }
    /// The child's whole environment; nil: this process's.
    public var environment: [String: String]? {
        get { setup.withLock { $0.environment } }
        set { setup.withLock { $0.environment = newValue } }
    }
    public var standardOutput: (any Sendable)? {
        get { setup.withLock { $0.standardOutput } }
        set { setup.withLock { $0.standardOutput = newValue } }
    }
    public var standardError: (any Sendable)? {
        get { setup.withLock { $0.standardError } }
        set { setup.withLock { $0.standardError = newValue } }
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    public func run() throws {
        let setup = self.setup.withLock { $0 }
        guard let path = setup.executableURL?.path else { throw SpawnError(description: "no executable") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [FileHandle] = []
        for (output, fd) in [(setup.standardOutput, Int32(1)), (setup.standardError, Int32(2))] {
            if let pipe = output as? Pipe {
                posix_spawn_file_actions_adddup2(&actions, pipe.fileHandleForWriting.fileDescriptor, fd)
                parentEnds.append(pipe.fileHandleForWriting)
            } else if let handle = output as? FileHandle {
                posix_spawn_file_actions_adddup2(&actions, handle.fileDescriptor, fd)
            }
        }
        // Every other descriptor closed in the child (after the dup2s above); Swift cannot reach
        // addclosefrom_np, so the open ones are listed. One closed meanwhile is ignored by glibc.
        let open = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
        for fd in open where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + setup.arguments).map { strdup($0) } + [nil]
        defer { for case let p? in argv { free(p) } }
        let variables = (setup.environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup($0) } + [nil]
        defer { for case let p? in envp { free(p) } }
        var pid: pid_t = 0
        let spawned = ProcessLaunch.withLock { posix_spawn(&pid, path, &actions, nil, argv, envp) }
        // The child has its copies; the parent keeps only the reading ends.
        for end in parentEnds { try? end.close() }
        guard spawned == 0 else { throw SpawnError(description: "\(path): \(String(cString: strerror(spawned)))") }
        child.withLock { $0.pid = pid }
    }

    public var processIdentifier: Int32 { child.withLock { $0.pid } }

    public var isRunning: Bool {
        child.withLock { child in
            guard child.pid > 0, !child.exited else { return false }
            var status: Int32 = 0
            if waitpid(child.pid, &status, WNOHANG) == child.pid {
                child.exited = true
                child.status = status
            }
            return !child.exited
        }
    }

    public func terminate() {
        let pid = child.withLock { $0.exited ? 0 : $0.pid }
        if pid > 0 { kill(pid, SIGTERM) }
    }

    /// Blocks until the child has exited (and reaps it).
    public func waitUntilExit() {
        let pid = child.withLock { $0.exited ? 0 : $0.pid }
        guard pid > 0 else { return }
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
        child.withLock { child in
            if result == pid {
                child.exited = true
                child.status = status
            }
        }
    }

    /// The exit code (or 128 + the signal that ended it).
    public var terminationStatus: Int32 {
        child.withLock { child in
            let status = child.status
            return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        }
    }
}
