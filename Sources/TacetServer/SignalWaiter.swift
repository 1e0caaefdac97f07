import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Waits for a process signal (SIGINT, SIGTERM) without a signal handler's restrictions.
public enum SignalWaiter {
    /// Suspends until one of `signals` arrives, and returns it.
    public static func wait(for signals: [Int32]) async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let state = NIOLockedValueBox<(resumed: Bool, sources: [any DispatchSourceSignal])>((false, []))
            for number in signals {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    let sources: [any DispatchSourceSignal]? = state.withLockedValue { s in
                        guard !s.resumed else { return nil }
                        s.resumed = true
                        return s.sources
                    }
                    guard let sources else { return }
                    for source in sources { source.cancel() }
                    continuation.resume(returning: number)
                }
                state.withLockedValue { $0.sources.append(source) }
                source.resume()
            }
        }
    }
}
