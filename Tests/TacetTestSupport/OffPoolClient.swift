import TacetProbe

/// The probe's `RawClient` for async tests: every call that can wait (connect, write, each read)
/// runs on a thread of its own (`blocking`), never on Swift's cooperative pool, where it would
/// hold one of its few threads for up to its timeout. Calls that cannot wait (shutdownWrite,
/// close, reset) and the client's properties (`timeline`, `requestMethods`, ...) pass straight through.
///
/// `@unchecked Sendable`, because RawClient is not Sendable: a client belongs to one thread at a
/// time. That holds here: a test awaits each call before it makes the next, so the client is used
/// by one thread at a time, and the continuation that resumes the test orders the accesses.
/// Do not share one client between concurrent tasks.
@dynamicMemberLookup
public final class OffPoolClient: @unchecked Sendable {
    private let raw: RawClient

    private init(_ raw: RawClient) { self.raw = raw }

    /// `RawClient.connect`, off the pool; then `send(request)` on the same thread, at once, when the
    /// test needs the first bytes to follow the connect without a gap (a short header timeout
    /// runs from the accept: a busy machine must not stretch the gap into a timed-out idle connection).
    public static func connect(host: String, port: Int, timeout: Double = 5,
                               sending request: String? = nil) async throws -> OffPoolClient {
        try await blocking {
            let raw = try RawClient.connect(host: host, port: port, timeout: timeout)
            if let request { try raw.send(request) }
            return OffPoolClient(raw)
        }
    }

    public subscript<Value>(dynamicMember keyPath: KeyPath<RawClient, Value>) -> Value {
        raw[keyPath: keyPath]
    }

    public subscript<Value>(dynamicMember keyPath: ReferenceWritableKeyPath<RawClient, Value>) -> Value {
        get { raw[keyPath: keyPath] }
        set { raw[keyPath: keyPath] = newValue }
    }

    // MARK: Waiting calls, each on its own thread

    public func write(_ string: String) async throws {
        try await blocking { try self.raw.write(string) }
    }

    public func write(_ bytes: [UInt8]) async throws {
        try await blocking { try self.raw.write(bytes) }
    }

    /// Writes a request and records its method for the response parser.
    public func send(_ request: String) async throws {
        try await blocking { try self.raw.send(request) }
    }

    public func readToEnd(timeout: Double) async -> ReadResult {
        await blocking { self.raw.readToEnd(timeout: timeout) }
    }

    public func read(until predicate: @escaping @Sendable ([UInt8]) -> Bool, timeout: Double) async -> ReadResult {
        await blocking { self.raw.read(until: predicate, timeout: timeout) }
    }

    public func readResponses(count: Int, timeout: Double) async -> ReadResult {
        await blocking { self.raw.readResponses(count: count, timeout: timeout) }
    }

    // MARK: Calls that do not wait

    public func shutdownWrite() throws { try raw.shutdownWrite() }
    public func close() { raw.close() }
    public func reset() { raw.reset() }
}

extension RawClient {
    /// Writes a request and records its method for the response parser.
    public func send(_ request: String) throws {
        if let method = request.split(separator: " ", maxSplits: 1).first {
            requestMethods.append(String(method))
        }
        try write(request)
    }
}
