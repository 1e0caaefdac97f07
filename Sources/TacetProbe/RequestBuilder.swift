/// Builds the raw request bytes: fixed and predictable, so a server's answer depends only on the
/// scenario's ending, never on what the request looked like.
struct RequestBuilder {
    var target: HTTPTarget
    var headers: [(String, String)]

    func request(method: String, target override: HTTPTarget? = nil, bodySize: Int? = nil) -> [UInt8] {
        let target = override ?? self.target
        var lines = ["\(method) \(target.path) HTTP/1.1"]
        if !headers.contains(where: { $0.0.lowercased() == "host" }) { lines.append("Host: \(target.hostHeader)") }
        lines.append("User-Agent: tacet-probe")
        lines.append("Accept: */*")
        if let bodySize {
            lines.append("Content-Type: application/octet-stream")
            lines.append("Content-Length: \(bodySize)")
        }
        for (name, value) in headers { lines.append("\(name): \(value)") }
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    /// A body of `size` bytes of 'x': printable, so a server that echoes it shows it plainly.
    static func body(size: Int) -> [UInt8] { [UInt8](repeating: UInt8(ascii: "x"), count: max(0, size)) }
}
