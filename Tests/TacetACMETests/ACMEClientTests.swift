import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOHTTP1
import Testing
@testable import TacetACME

/// A CA that answers from a script, recording what it was sent.
final class ScriptedCA: ACMETransport {
    typealias Answer = @Sendable (HTTPMethod, String, [UInt8]?) -> ACMEHTTPResponse
    private let answer: Answer
    let sent = NIOLockedValueBox<[(HTTPMethod, String)]>([])

    init(_ answer: @escaping Answer) { self.answer = answer }

    func send(method: HTTPMethod, url: String, body: [UInt8]?, contentType: String?) async throws -> ACMEHTTPResponse {
        sent.withLockedValue { $0.append((method, url)) }
        return answer(method, url, body)
    }

    static let directory = """
        {"newNonce":"https://ca/nonce","newAccount":"https://ca/acct","newOrder":"https://ca/order","meta":{"termsOfService":"https://ca/tos"}}
        """

    static func response(_ status: Int, _ body: String = "", headers: [(String, String)] = []) -> ACMEHTTPResponse {
        var fields = HTTPHeaders(headers)
        fields.add(name: "Replay-Nonce", value: "nonce-\(UUID().uuidString)")
        return ACMEHTTPResponse(status: status, headers: fields, body: Array(body.utf8))
    }
}

@Suite("ACME client: nonces, badNonce, problems, Retry-After")
struct ACMEClientTests {
    static func client(_ ca: ScriptedCA) -> ACMEClient {
        ACMEClient(directoryURL: "https://ca/dir", key: AccountKey(), transport: ca, logger: Logger(label: "test"))
    }

    @Test("badNonce is retried with the nonce that came with it; the account URL becomes the kid")
    func badNonce() async throws {
        let posts = NIOLockedValueBox(0)
        let ca = ScriptedCA { method, url, _ in
            if url == "https://ca/dir" { return ScriptedCA.response(200, ScriptedCA.directory) }
            if url == "https://ca/nonce" { return ScriptedCA.response(204) }
            let n = posts.withLockedValue { $0 += 1; return $0 }
            if n <= 2 { return ScriptedCA.response(400, #"{"type":"urn:ietf:params:acme:error:badNonce","detail":"stale"}"#) }
            return ScriptedCA.response(201, "{}", headers: [("Location", "https://ca/acct/7")])
        }
        let client = Self.client(ca)
        let url = try await client.register(email: "ops@example.com")
        #expect(url == "https://ca/acct/7")
        #expect(await client.accountURL == "https://ca/acct/7")
        let nonceFetches = ca.sent.withLockedValue { $0.filter { $0.1 == "https://ca/nonce" }.count }
        #expect(nonceFetches == 1, "later nonces come with the answers")
        #expect(posts.withLockedValue { $0 } == 3)
    }

    @Test("A refusal surfaces the CA's problem document; a long Retry-After is handed back, not slept on")
    func problems() async throws {
        let ca = ScriptedCA { _, url, _ in
            switch url {
            case "https://ca/dir": return ScriptedCA.response(200, ScriptedCA.directory)
            case "https://ca/nonce": return ScriptedCA.response(204)
            case "https://ca/order":
                return ScriptedCA.response(429, #"{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many"}"#,
                                           headers: [("Retry-After", "3600")])
            default:
                return ScriptedCA.response(403, #"{"type":"urn:ietf:params:acme:error:unauthorized","detail":"no such account"}"#)
            }
        }
        let client = Self.client(ca)
        do {
            _ = try await client.authorization("https://ca/authz/1")
            Issue.record("expected a problem")
        } catch ACMEError.problem(let problem, let url) {
            #expect(problem.code == "unauthorized" && problem.detail == "no such account" && url == "https://ca/authz/1")
        }
        do {
            _ = try await client.newOrder(["example.com"])
            Issue.record("expected retryLater")
        } catch ACMEError.retryLater(let seconds, let problem) {
            #expect(seconds == 3600 && problem?.code == "rateLimited")
        }
    }

    @Test("Retry-After: seconds or an HTTP-date")
    func retryAfter() {
        let seconds = ACMEHTTPResponse(status: 503, headers: ["Retry-After": "120"], body: [])
        #expect(ACMEClient.retryAfter(seconds) == 120)
        let date = ACMEHTTPResponse(status: 503, headers: ["Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"], body: [])
        #expect(ACMEClient.retryAfter(date) == 1, "a date in the past: at once, not negative")
        #expect(ACMEClient.retryAfter(ACMEHTTPResponse(status: 503, headers: [:], body: [])) == nil)
    }

    @Test("http-01 tokens: only base64url tokens under the well-known path, only while out")
    func tokens() {
        let tokens = HTTP01Tokens()
        #expect(tokens.isEmpty)
        tokens.present(name: "a.example", token: "abc_DEF-123", keyAuthorization: "abc_DEF-123.thumb")
        #expect(tokens.response(path: "/.well-known/acme-challenge/abc_DEF-123") == "abc_DEF-123.thumb")
        #expect(tokens.response(path: "/.well-known/acme-challenge/../x") == nil)
        #expect(tokens.response(path: "/.well-known/acme-challenge/") == nil)
        #expect(tokens.response(path: "/other/abc_DEF-123") == nil)
        tokens.remove(name: "a.example", token: "abc_DEF-123")
        #expect(tokens.response(path: "/.well-known/acme-challenge/abc_DEF-123") == nil)
    }
}

@Suite("ACME storage: the order lock instances sharing it take turns with")
struct OrderLockTests {
    @Test("One holder at a time; only the holder releases it; a lease past its end is taken over")
    func lock() throws {
        let root = NSTemporaryDirectory() + "tacet-lock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let storage = ACMEStorage(root: root)
        try storage.prepare()
        #expect(storage.lockOrder("a.example", holder: "one", lease: 600))
        #expect(!storage.lockOrder("a.example", holder: "two", lease: 600), "held")
        #expect(storage.lockOrder("b.example", holder: "two", lease: 600), "per name")
        storage.unlockOrder("a.example", holder: "two")
        #expect(!storage.lockOrder("a.example", holder: "two", lease: 600), "only its holder releases it")
        storage.unlockOrder("a.example", holder: "one")
        #expect(storage.lockOrder("a.example", holder: "two", lease: 600))
        #expect(storage.lockOrder("a.example", holder: "three", lease: 600, now: Date().addingTimeInterval(601)),
                "past its lease: taken over")
        let file = try String(contentsOfFile: "\(root)/certificates/a.example/order.lock", encoding: .utf8)
        #expect(file.hasPrefix("three\n"))
    }
}
