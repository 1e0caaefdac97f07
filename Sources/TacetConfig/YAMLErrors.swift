import Yams

extension ConfigError {
    /// Turns a Yams/libyaml failure into a located error; Yams' own description embeds a
    /// snippet of the document, which is noise next to `file:line:column`.
    init(yamlError: YamlError, file: String) {
        var line = 0
        var column = 0
        let message: String
        /// libyaml splits messages into a context ("while parsing a flow mapping") and a problem;
        /// recombine them into one readable sentence, mentioning the context's line only if it differs.
        func describe(_ problem: String, _ context: YamlError.Context?, at mark: Mark) -> String {
            guard let context, !context.text.isEmpty else { return "invalid YAML: \(problem)" }
            if problem.hasPrefix("but ") {
                return "invalid YAML: \(context.text), \(problem)"
            }
            let whereText = context.mark.line == mark.line ? "" : " at line \(context.mark.line)"
            return "invalid YAML: \(problem) (\(context.text)\(whereText))"
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            line = mark.line
            column = mark.column
            message = describe(problem, context, at: mark)
        case .reader(let problem, let offset, _, let yaml):
            if let offset {
                (line, column) = Self.position(ofCharacterOffset: offset, in: yaml)
            }
            message = "invalid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            line = context.mark.line
            column = context.mark.column
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            message = duplicates.count == 1 ? "duplicate key \(keys)" : "duplicate keys \(keys)"
        default:
            message = "invalid YAML: \(yamlError)"
        }
        self.init(file: file, line: line, column: column, keyPath: "", message: message)
    }

    /// 1-based line and column (in Unicode scalars, like libyaml) of a Character offset.
    static func position(ofCharacterOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character.isNewline {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
        }
        return (line, column)
    }
}
