import Testing
@testable import TacetHTTP

/// The bit sets are hand-written literals: check every byte against the RFCs' own lists.
@Suite("CharacterClass: token and host bytes, all 256")
struct CharacterClassTests {
    static let alnum = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)

    @Test("tchar = ALPHA / DIGIT / !#$%&'*+-.^_`|~ (RFC 9110 §5.6.2)")
    func token() {
        let allowed = Self.alnum.union("!#$%&'*+-.^_`|~".utf8)
        for b in 0...255 {
            #expect(CharacterClass.isToken(UInt8(b)) == allowed.contains(UInt8(b)), "byte \(b)")
        }
    }

    @Test("host = ALPHA / DIGIT / -._~!$&'()*+,;=%:[] (RFC 3986 reg-name, IP-literal, port colon)")
    func host() {
        let allowed = Self.alnum.union("-._~!$&'()*+,;=%:[]".utf8)
        for b in 0...255 {
            #expect(CharacterClass.isHostCharacter(UInt8(b)) == allowed.contains(UInt8(b)), "byte \(b)")
        }
    }
}
