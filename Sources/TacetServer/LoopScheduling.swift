import CTacetSys
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the kernel schedules the event-loop threads (`tacet serve --scheduling`).
///
/// `batch` (Linux SCHED_BATCH) keeps each loop's fair share of CPU but stops it from preempting
/// whatever runs on its core when a socket wakes it: it waits for that task's slice instead and
/// then finds more ready sockets at once. Where the loops share cores with other busy processes
/// (a load generator, an application server on the same host) that trades some tail latency
/// for throughput: measured in bench/README.md (`bench/run.sh --scheduling batch`).
public enum LoopScheduling: String, Sendable, CaseIterable {
    /// The kernel's default (SCHED_OTHER).
    case normal
    /// SCHED_BATCH on Linux; elsewhere the same as `normal`, with a warning.
    case batch

    func apply(to group: any EventLoopGroup, logger: Logger) {
        guard self == .batch else { return }
        for loop in group.makeIterator() {
            loop.execute {
                let rc = tacet_set_batch_scheduling()
                if rc != 0 {
                    logger.warning("event loop thread left at normal scheduling: \(String(cString: strerror(-rc)))")
                }
            }
        }
    }
}
