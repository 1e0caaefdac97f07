import Testing
@testable import TacetConfig

@Suite struct YAMLSyntaxTests {
    @Test func syntaxErrorHasLine() throws {
        let error = try #require(configError("listen: \":80\"\nrouts: a: b\n"))
        #expect(error.file == "tacet.yaml")
        #expect(error.line == 2)
        #expect(error.column > 0)
        #expect(error.message.hasPrefix("invalid YAML: "))
        #expect(error.description.hasPrefix("tacet.yaml:2:"))
    }

    @Test func unterminatedFlowMapping() throws {
        let error = try #require(configError("routes:\n  - match: { path: /\n\n"))
        #expect(error.line >= 2)
        #expect(error.message.hasPrefix("invalid YAML: "))
    }

    @Test func tabIndentation() throws {
        let error = try #require(configError("routes:\n\t- match: { path: / }\n"))
        #expect(error.line == 2)
    }

    @Test func secondDocumentIsRejected() throws {
        let error = try #require(configError("listen: \":80\"\n---\nlisten: \":81\"\n"))
        #expect(error.line == 2)
    }

    @Test func characterOffsetToPosition() {
        #expect(ConfigError.position(ofCharacterOffset: 0, in: "ab\ncd") == (1, 1))
        #expect(ConfigError.position(ofCharacterOffset: 4, in: "ab\r\ncd") == (2, 2))
    }
}

@Suite struct YAMLMessageTests {
    @Test func messagesReadAsSentences() {
        #expect(configError("listen: \":80\"\nrouts: a: b\n")?.description
            == "tacet.yaml:2:9: invalid YAML: mapping values are not allowed in this context")
        #expect(configError("routes:\n  - match: { path: /\n\n")?.description
            == "tacet.yaml:4:1: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping at line 2)")
        #expect(configError("listen: \":80\"\n---\nlisten: \":81\"\n")?.description
            == "tacet.yaml:2:1: invalid YAML: expected a single document in the stream, but found another document")
    }
}
