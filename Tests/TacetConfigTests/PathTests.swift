import Testing
@testable import TacetConfig

/// Relative paths resolve against the config file's directory; static roots must be directories.
@Suite struct PathTests {
    static func staticRoute(_ root: String) -> String {
        "routes:\n  - match: { path: / }\n    static: { root: \(root) }\n"
    }

    @Test func relativeRootResolvesAgainstBaseDirectory() throws {
        try withTemporaryDirectory { dir in
            try makeDirectory(dir + "/site/public")
            for root in ["public", "./public", "public/", "../site/public", "\(dir)/site/public"] {
                let config = try parse(Self.staticRoute(root), base: dir + "/site")
                #expect(config.routes.first?.action == .staticFiles(StaticFiles(root: dir + "/site/public")))
            }
        }
    }

    @Test func loadResolvesAgainstTheFilesDirectory() throws {
        try withTemporaryDirectory { dir in
            try makeDirectory(dir + "/conf/www")
            try writeFile(dir + "/conf/tacet.yaml", Self.staticRoute("www") + "access_log: ../logs/a.log\n")
            let config = try ConfigLoader.load(path: dir + "/conf/tacet.yaml")
            #expect(config.routes.first?.action == .staticFiles(StaticFiles(root: dir + "/conf/www")))
            #expect(config.accessLog.destination == .file(dir + "/logs/a.log"))
        }
    }

    @Test func loadErrorsNameThePathAsGiven() throws {
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/bad.yaml", "listen: []\n")
            #expect(throws: ConfigError(file: dir + "/bad.yaml", line: 1, column: 9, keyPath: "listen",
                                        message: "must list at least one address")) {
                try ConfigLoader.load(path: dir + "/bad.yaml")
            }
            #expect(throws: ConfigError(file: dir + "/missing.yaml", line: 0, column: 0, keyPath: "",
                                        message: "config file not found")) {
                try ConfigLoader.load(path: dir + "/missing.yaml")
            }
            #expect((try? ConfigLoader.load(path: dir)) == nil)
        }
    }

    @Test func missingOrNonDirectoryRoot() throws {
        try withTemporaryDirectory { dir in
            try writeFile(dir + "/file.txt", "x")
            #expect(configError(Self.staticRoute("./nope"), base: dir)?.description
                == "tacet.yaml:3:21: routes[0].static.root: directory '\(dir)/nope' does not exist")
            #expect(configError(Self.staticRoute("file.txt"), base: dir)?.description
                == "tacet.yaml:3:21: routes[0].static.root: '\(dir)/file.txt' is not a directory")
        }
    }

    @Test func indexMustBeAFileName() throws {
        let yaml = "routes:\n  - match: { path: / }\n    static: { root: /, index: a/b.html }\n"
        #expect(configError(yaml)?.message == "must be a file name, got 'a/b.html'")
    }

    @Test func lexicalNormalisation() {
        #expect(Paths.absolute("a/./b/../c", relativeTo: "/x//y/") == "/x/y/a/c")
        #expect(Paths.absolute("../../..", relativeTo: "/x") == "/")
        #expect(Paths.directory(of: "/etc/tacet.yaml") == "/etc")
        #expect(Paths.directory(of: "/tacet.yaml") == "/")
    }
}
