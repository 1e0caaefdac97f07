#if canImport(Glibc)
import Glibc
#endif

/// Runs a program with `posix_spawn` and returns its exit status and standard output: for
/// tests that run a helper program from a thread of their own while others run in parallel,
/// where Foundation's `Process.run` has crashed here (a memmove inside it, under concurrency).
/// Blocking: call it off the cooperative pool. Standard error goes to /dev/null.
public enum Spawn {
    /// `environment`: variables set (or replaced) for the child, over this process's own.
    public static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:]) -> (status: Int32, output: [UInt8])? {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for case let p? in argv { free(p) } }
        var pid: pid_t = 0
        let spawned: Int32
        if environment.isEmpty {
            spawned = ProcessLaunch.withLock { posix_spawn(&pid, path, &actions, nil, argv, environ) }
        } else {
            var inherited: [String] = []
            var cursor = environ
            while let entry = cursor.pointee {
                let text = String(cString: entry)
                let name = String(text.prefix { $0 != "=" })
                if environment[name] == nil { inherited.append(text) }
                cursor += 1
            }
            let envp: [UnsafeMutablePointer<CChar>?] = (inherited + environment.map { "\($0.key)=\($0.value)" }).map { strdup($0) } + [nil]
            defer { for case let p? in envp { free(p) } }
            spawned = ProcessLaunch.withLock { posix_spawn(&pid, path, &actions, nil, argv, envp) }
        }
        close(pipeEnds[1])
        guard spawned == 0 else {
            close(pipeEnds[0])
            return nil
        }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
            if n > 0 {
                output += chunk[0..<n]
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        close(pipeEnds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return ((status >> 8) & 0xFF, output)
    }
}
