import NIOPosix

/// A cache kept per event-loop thread (the Date line, static file heads, validators): each
/// instance is touched by its own thread only, so it needs no lock; it is made on first use.
public protocol PerThreadCache: AnyObject {
    init()
    static var perThread: ThreadSpecificVariable<Self> { get }
}

extension PerThreadCache {
    /// This thread's instance.
    public static var current: Self {
        if let cache = perThread.currentValue { return cache }
        let cache = Self()
        perThread.currentValue = cache
        return cache
    }
}
