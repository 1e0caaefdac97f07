import Testing
@testable import TacetAuth

/// Vectors made by Apache's `htpasswd -B` (bcrypt, `$2y$`) and `openssl passwd -5/-6`
/// (SHA-crypt, including Drepper's published `rounds=10000` cases).
@Suite("Password hashes: bcrypt and SHA-crypt against htpasswd's and openssl's")
struct PasswordHashTests {
    static let bcrypt: [(String, String)] = [
        ("correct horse", "$2y$04$EcaM16eqlmFBG.J7bx5lK.3rYqyJtb9KwMFLYNlcV7Wy1cm4BbIHO"),
        ("correct horse", "$2y$05$vBkXQwu8Z9fN.oExV5Hyd.I/5kE5cZvicMa6mfpN9ztEbh9ISOxYC"),
        ("pässwörd €", "$2y$04$/yc2A1X4IVzRwWf2o7VLoOeg6Jn4yIPbaJVMseY3Vl1.d1T8uiK8u"),
        (String(repeating: "x", count: 80), "$2y$04$OkoI0b4Vaq1EtiKuea97NOWVA8TA7Tklejf.4.IgiqmJz2CJDKDu2"),
        ("", "$2y$04$6t/sr64h49wM6FWozNvlb.dNoAu0l2Q/M3c4K0MMqvNJtqdOaLPLu"),
    ]
    static let shaCrypt: [(String, String)] = [
        ("Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"),
        ("Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
        ("Hello world!", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"),
        ("Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."),
    ]

    @Test("bcrypt: the right password matches, any other does not; 72 bytes count, no more")
    func bcryptVectors() throws {
        for (password, hash) in Self.bcrypt {
            let parsed = try PasswordHash(parsing: hash)
            #expect(parsed.verify(Array(password.utf8)), "\(hash)")
            #expect(!parsed.verify(Array((password + "!").utf8)) || password.utf8.count >= 72)
            #expect(!parsed.verify(Array("wrong".utf8)))
        }
        let long = try PasswordHash(parsing: Self.bcrypt[3].1)
        #expect(long.verify(Array(String(repeating: "x", count: 72).utf8)), "bcrypt reads 72 bytes")
        #expect(!long.verify(Array(String(repeating: "x", count: 71).utf8)))
        #expect(Bcrypt.verify(Array("correct horse".utf8), hash: "$2b$04$EcaM16eqlmFBG.J7bx5lK.3rYqyJtb9KwMFLYNlcV7Wy1cm4BbIHO"),
                "$2y$ is $2b$")
    }

    @Test("SHA-crypt: $5$ and $6$, default and explicit rounds")
    func shaCryptVectors() throws {
        for (password, hash) in Self.shaCrypt {
            let parsed = try PasswordHash(parsing: hash)
            #expect(parsed.verify(Array(password.utf8)), "\(hash)")
            #expect(!parsed.verify(Array("Hello world".utf8)))
        }
    }

    @Test("Weak and malformed hashes are refused with the reason")
    func refusals() {
        func refusal(_ text: String) -> PasswordHash.Refusal? {
            do { _ = try PasswordHash(parsing: text); return nil } catch { return error }
        }
        #expect(refusal("$apr1$bjUCdiAz$JNjLs.N5VXlqf7o421ugA.") == .md5)
        #expect(refusal("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=") == .sha1)
        #expect(refusal("secret") == .plainOrDES)
        #expect(refusal("abJnggxhB/yWI") == .plainOrDES)
        if case .malformed? = refusal("$2y$31$EcaM16eqlmFBG.J7bx5lK.3rYqyJtb9KwMFLYNlcV7Wy1cm4BbIHO") {} else { Issue.record("cost 31 accepted") }
        if case .malformed? = refusal("$2y$04$EcaM16eqlmFBG.J7bx5lK.3rYqyJtb9KwMFLYNlcV7Wy1cm4BbIH") {} else { Issue.record("short accepted") }
        if case .malformed? = refusal("$6$rounds=99999999$salt$x") {} else { Issue.record("huge rounds accepted") }
    }

    @Test("htpasswd files: users, comments, CRLF; errors with the line")
    func htpasswd() throws {
        let users = try Htpasswd.parse("# team\r\nalice:\(Self.bcrypt[0].1)\r\n\nsha:\(Self.shaCrypt[0].1)\n")
        #expect(users.keys.sorted() == ["alice", "sha"])
        #expect(throws: Htpasswd.LineError(line: 2, message: "user 'carol': " + PasswordHash.Refusal.md5.description)) {
            try Htpasswd.parse("alice:\(Self.bcrypt[0].1)\ncarol:$apr1$bjUCdiAz$JNjLs.N5VXlqf7o421ugA.\n")
        }
        #expect(throws: Htpasswd.LineError(line: 1, message: "expected user:hash")) { try Htpasswd.parse("nocolon\n") }
        #expect(throws: Htpasswd.LineError(line: 2, message: "user 'a' is listed twice")) {
            try Htpasswd.parse("a:\(Self.bcrypt[0].1)\na:\(Self.bcrypt[1].1)\n")
        }
    }

    @Test("Basic credentials: strict base64, one field, a colon")
    func basic() {
        #expect(BasicCredentials(authorization: ["Basic YWxpY2U6Y29ycmVjdCBob3JzZQ=="]) == BasicCredentials(user: "alice", password: Array("correct horse".utf8)))
        #expect(BasicCredentials(authorization: ["basic YTpiOmM="])?.password == Array("b:c".utf8))
        #expect(BasicCredentials(authorization: ["Basic YWxpY2U="]) == nil, "no colon")
        #expect(BasicCredentials(authorization: ["Basic YWxpY2U6Y29ycmVjdCBob3JzZQ"]) == nil, "no padding")
        #expect(BasicCredentials(authorization: ["Basic YWxp!2U6"]) == nil)
        #expect(BasicCredentials(authorization: ["Bearer abc"]) == nil)
        #expect(BasicCredentials(authorization: ["Basic YTpi", "Basic YTpi"]) == nil)
        #expect(BasicCredentials(authorization: ["Basic OmI="]) == nil, "empty user")
        for _ in 0..<500 {
            let junk = String((0..<Int.random(in: 0...40)).map { _ in Character(Unicode.Scalar(UInt8.random(in: 32...126))) })
            _ = BasicCredentials(authorization: ["Basic " + junk])
        }
    }

    @Test("The cache of checked credentials is bounded, oldest out first")
    func cache() {
        let cache = VerifiedCredentials(capacity: 2)
        cache.insert(user: "a", password: [1], hash: "h")
        cache.insert(user: "b", password: [1], hash: "h")
        cache.insert(user: "c", password: [1], hash: "h")
        #expect(cache.count == 2)
        #expect(!cache.contains(user: "a", password: [1], hash: "h"))
        #expect(cache.contains(user: "c", password: [1], hash: "h"))
        #expect(!cache.contains(user: "c", password: [2], hash: "h"))
        #expect(!cache.contains(user: "c", password: [1], hash: "h2"))
    }
}
