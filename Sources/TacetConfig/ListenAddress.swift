#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A `HOST:PORT` to bind. IPv6 hosts are stored without brackets (what bind APIs want) and
/// `description` puts them back (what humans and URLs want).
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// IPv4 literal, IPv6 literal without brackets, or a lowercased host name.
    public var host: String
    /// 0...65535; 0 asks the OS for a free port (useful in tests).
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `127.0.0.1:8080`, `[::1]:8080`, `localhost:8080` or `:8080` (all IPv4 interfaces).
    /// The port is mandatory so a typo cannot silently bind somewhere unexpected.
    public init(parsing text: String) throws(ListenAddressError) {
        func fail(_ reason: String) -> ListenAddressError {
            ListenAddressError(input: text, reason: reason)
        }
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw fail("missing ']' after the IPv6 address")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else {
                throw fail("expected ':PORT' after ']'")
            }
            portPart = rest.dropFirst()
            guard Self.isIPv6(hostPart) else {
                throw fail("'\(hostPart)' is not an IPv6 address")
            }
            self.host = String(hostPart).lowercased()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw fail("missing port (expected HOST:PORT, e.g. 127.0.0.1:8080)")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") {
                throw fail("IPv6 addresses need brackets, e.g. [::1]:8080")
            }
            if hostPart.isEmpty {
                self.host = "0.0.0.0"
            } else if hostPart.allSatisfy({ $0 == "." || $0.isASCII && $0.isNumber }) {
                guard Self.isIPv4(hostPart) else {
                    throw fail("'\(hostPart)' is not an IPv4 address")
                }
                self.host = String(hostPart)
            } else {
                guard Self.isHostName(hostPart) else {
                    throw fail("'\(hostPart)' is not a valid host name")
                }
                self.host = hostPart.lowercased()
            }
        }
        guard !portPart.isEmpty else {
            throw fail("missing port")
        }
        guard portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portPart), port <= 65535 else {
            throw fail("port must be a number in 0...65535")
        }
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func isIPv4(_ text: Substring) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, String(text), &address) == 1
    }

    static func isIPv6(_ text: Substring) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, String(text), &address) == 1
    }

    /// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
    static func isHostName(_ text: Substring) -> Bool {
        guard text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            guard (1...63).contains(label.count), label.first != "-", label.last != "-" else { return false }
            return label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}

/// Why a listen address was rejected; `ConfigLoader` adds the file position.
public struct ListenAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    public var input: String
    public var reason: String

    public init(input: String, reason: String) {
        self.input = input
        self.reason = reason
    }

    public var description: String { "invalid listen address '\(input)': \(reason)" }
}
