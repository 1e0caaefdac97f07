/// A test fixture's own failure (a socket that would not bind, a server that never finished...):
/// thrown, so the test stops and says why.
public struct TestFailure: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
