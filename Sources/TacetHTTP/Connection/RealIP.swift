/// The client behind trusted proxies (nginx's set_real_ip_from with real_ip_recursive): the
/// rightmost X-Forwarded-For address that is not a trusted proxy, read from the right, since
/// only the entries our own proxies appended can be believed. A value that is not an IP literal
/// ends the walk (what came before it is the client's to write).
public enum RealIP {
    public static func client(of request: Request, peer: String, isTrusted: (String) -> Bool) -> String? {
        let values = request.headers["x-forwarded-for"]
        guard !values.isEmpty else { return nil }
        var candidate = peer
        for value in values.reversed() {
            for entry in value.split(separator: ",").reversed() {
                let address = entry.trimmingOWS()
                guard isIPLiteral(address) else { return candidate == peer ? nil : candidate }
                candidate = String(address)
                if !isTrusted(candidate) { return candidate }
            }
        }
        return candidate == peer ? nil : candidate
    }

    private static func isIPLiteral(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 45 && text.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46) || b == 0x2E || b == 0x3A
        }
    }
}
