import NIOHTTP1
import TacetHTTP

/// What the compression layer does with one response: decided from the request's negotiation
/// and the response's head, as a value (tested without sockets; `CompressingSink` carries it out).
package enum CompressionChoice: Sendable, Equatable {
    /// Not this layer's business (no body ever, already encoded, `no-transform`, a type off the
    /// list): the head and body pass untouched.
    case untouched
    /// Could have been compressed but is not (client, size, range): as it is, with
    /// `Vary: Accept-Encoding`, so a cache keeps the variants apart.
    case identity
    /// Compressed with this coding: Content-Encoding, Vary, the ETag's suffix, no Content-Length
    /// until the whole output is known.
    case compress(ContentCoding)
    /// The client refused identity and accepts nothing this response could be encoded with:
    /// RFC 9110 §12.5.3 leaves 406 as the answer only here.
    case notAcceptable

    /// What the decision reads from a response head.
    package struct Response: Sendable, Equatable {
        package var status: Int
        package var contentType: String?
        package var isEncoded: Bool
        package var noTransform: Bool
        package var body: ResponseHead.Body

        package init(status: Int, contentType: String?, isEncoded: Bool, noTransform: Bool, body: ResponseHead.Body) {
            self.status = status
            self.contentType = contentType
            self.isEncoded = isEncoded
            self.noTransform = noTransform
            self.body = body
        }

        /// One pass over the fields, without allocating.
        package init(_ head: ResponseHead, fields: HTTPHeaders) {
            var contentType: String?
            var isEncoded = false
            var noTransform = false
            for (name, value) in fields {
                switch name.utf8.count {
                case 12 where name.lowercasedASCIIEquals("content-type"): contentType = value
                case 13 where name.lowercasedASCIIEquals("cache-control"): noTransform = noTransform || Self.namesNoTransform(value)
                case 16 where name.lowercasedASCIIEquals("content-encoding"): isEncoded = true
                default: break
                }
            }
            self.init(status: Int(head.status.code), contentType: contentType, isEncoded: isEncoded, noTransform: noTransform, body: head.body)
        }

        /// Whether a Cache-Control value lists `no-transform`.
        static func namesNoTransform(_ value: String) -> Bool {
            value.split(separator: ",").contains { directive in
                var d = directive[...]
                while d.first == " " || d.first == "\t" { d = d.dropFirst() }
                while d.last == " " || d.last == "\t" { d = d.dropLast() }
                return d.lowercasedASCIIEquals("no-transform")
            }
        }
    }

    /// `coding`: what the request negotiated among the encodings available (nil: none);
    /// `accept`: the parsed field (nil: absent or malformed); `hasRange`: a Range field.
    package static func decide(coding: ContentCoding?, accept: AcceptEncoding?, hasRange: Bool,
                               response: Response, settings: CompressionSettings) -> CompressionChoice {
        let status = response.status
        if status < 200 || status == 204 || response.isEncoded || response.noTransform { return .untouched }
        // A 304 stands for the 200 it validates: it carries the same Vary (RFC 9110 §15.4.5).
        if status == 304 { return .identity }
        guard let type = response.contentType, settings.compresses(contentType: Substring(type)) else { return .untouched }
        // Ranges are of the identity representation (nginx does the same); a 206 is one.
        if hasRange || status == 206 { return .identity }
        switch response.body {
        case .empty: return .identity
        case .length(let count) where count < settings.minSize: return .identity
        default: break
        }
        if let coding { return .compress(coding) }
        if let accept, accept.identityWeight == 0, (200..<300).contains(status) { return .notAcceptable }
        return .identity
    }
}
