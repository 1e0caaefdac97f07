import NIOHTTP1

/// Why a request could not be read, and the status that tells the client so.
/// Every one of these ends the connection: after a framing error nothing that follows can be trusted.
public enum RequestError: Error, Equatable, Sendable {
    case requestLineTooLong
    case headersTooLarge
    case bodyTooLarge
    case malformed(String)
    case unsupportedTransferCoding
    case versionNotSupported
    /// The client's FIN arrived before the request was whole.
    case truncated
    /// The client was too slow sending the head or the body.
    case timedOut

    public var status: HTTPResponseStatus {
        switch self {
        case .requestLineTooLong: return .uriTooLong
        case .headersTooLarge: return .requestHeaderFieldsTooLarge
        case .bodyTooLarge: return .payloadTooLarge
        case .malformed, .truncated: return .badRequest
        case .timedOut: return .requestTimeout
        case .unsupportedTransferCoding: return .notImplemented
        case .versionNotSupported: return .httpVersionNotSupported
        }
    }

    /// A short reason for the response body and the log.
    public var reason: String {
        switch self {
        case .requestLineTooLong: return "request line too long"
        case .headersTooLarge: return "request header fields too large"
        case .bodyTooLarge: return "request body too large"
        case .malformed(let why): return why
        case .unsupportedTransferCoding: return "unsupported transfer coding"
        case .versionNotSupported: return "HTTP version not supported"
        case .truncated: return "request ended before it was complete"
        case .timedOut: return "request timed out"
        }
    }
}

extension RequestError {
    /// A chunked body's framing error, as the client is told it: 400, 413 or 431.
    init(_ failure: ChunkedDecoder.Failure) {
        switch failure {
        case .malformed(let why): self = .malformed(why)
        case .bodyTooLarge: self = .bodyTooLarge
        case .trailersTooLarge: self = .headersTooLarge
        }
    }
}
