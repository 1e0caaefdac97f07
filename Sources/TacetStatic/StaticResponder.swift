import NIOCore
import NIOHTTP1
import TacetCompression
import TacetHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves files under a root: GET and HEAD, conditionals, one range, index files, the directory
/// slash redirect, and nothing outside the root. Bodies go out by sendfile (`FileRegion`), except
/// small files, which are read into the head's write (see `ResponseWriter.writeFile`).
///
/// open(2) and fstat(2) run on the event loop, as nginx does: on a local file system they are
/// short, and a thread hop per request would cost more than it saves.
public struct StaticResponder: Responder {
    private let root: StaticRoot?
    private let rootDirectory: RootDirectory?
    private let index: String
    private let precompressed: Precompressed?
    private let tryFiles: TryFiles?
    private let autoindex: Bool

    /// `precompressed`: siblings to look for (`app.js.br`), in the server's order of preference.
    public init(root: String, index: String = "index.html", precompressed: [ContentCoding] = [], tryFiles: TryFiles? = nil,
                autoindex: Bool = false) {
        self.tryFiles = tryFiles
        self.autoindex = autoindex
        self.root = StaticRoot(root)
        // The configured path, not its realpath: a root that is a symlink swapped on deploy is followed.
        self.rootDirectory = self.root.map { _ in RootDirectory(path: root) }
        self.index = index
        self.precompressed = precompressed.isEmpty ? nil : Precompressed(codings: precompressed)
    }

    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        guard let root else {
            return Self.error(.notFound, "not found", writer: writer)
        }
        let path = String(request.path)
        let query = request.query.map(String.init)
        let directory = rootDirectory ?? RootDirectory(path: root.path)
        guard let tryFiles else {
            return serve(openBeneath(path, root: root, directory: directory, query: query), request: request, writer: writer, directory: directory)
        }
        for template in tryFiles.candidates {
            let opened = openBeneath(TryFiles.expand(template, path: path), root: root, directory: directory, query: query)
            switch opened.result {
            case .file, .badRequest, .listing:
                return serve(opened, request: request, writer: writer, directory: directory)
            case .redirect, .notFound, .forbidden, .unsupported:
                continue  // a directory named without its slash, a file that is not there or not ours
            }
        }
        switch tryFiles.fallback {
        case .status(let code):
            return Self.error(HTTPResponseStatus(statusCode: code), HTTPResponseStatus(statusCode: code).reasonPhrase.lowercased(), writer: writer)
        case .path(let template):
            var opened = openBeneath(TryFiles.expand(template, path: path), root: root, directory: directory, query: query)
            if case .redirect = opened.result { opened.result = .notFound }
            return serve(opened, request: request, writer: writer, directory: directory)
        }
    }

    /// `path` opened beneath the root: by openat2, else (kernels before 5.6) as `StaticPath.resolve`
    /// found it (`beneath` false: no sibling is looked for).
    private func openBeneath(_ path: String, root: StaticRoot, directory: RootDirectory, query: String?) -> (result: BeneathOpen.Result, beneath: Bool) {
        let opened = BeneathOpen.open(requestPath: path, root: directory, index: index, query: query, autoindex: autoindex)
        if case .unsupported = opened {
            return (Self.openResolved(StaticPath.resolve(requestPath: path, root: root, index: index, query: query)), false)
        }
        return (opened, true)
    }

    private func serve(_ opened: (result: BeneathOpen.Result, beneath: Bool), request: Request, writer: ResponseWriter,
                       directory: RootDirectory) -> (any RequestHandler)? {
        switch opened.result {
        case .file(let fd, let info, let name, let location):
            guard let precompressed else {
                serveFile(fd: fd, info: info, path: name, request: request, writer: writer, variant: nil)
                return nil
            }
            // Without openat2 (kernels before 5.6) no sibling is looked for: a plain open could
            // follow a symlink out of the root, which RESOLVE_BENEATH refuses.
            let sibling = opened.beneath ? precompressed.open(location, original: info, for: request) {
                BeneathOpen.openSibling($0, root: directory)
            } : nil
            if let sibling {
                close(fd)
                serveFile(fd: sibling.fd, info: sibling.info, path: name, request: request, writer: writer, variant: .encoded(sibling.coding))
            } else {
                serveFile(fd: fd, info: info, path: name, request: request, writer: writer, variant: .identity)
            }
            return nil
        case .redirect(let location):
            return Self.redirect(location, writer: writer)
        case .listing(let relative):
            return Self.list(relative, request: request, writer: writer, directory: directory)
        case .badRequest:
            return Self.error(.badRequest, "bad request path", writer: writer)
        case .forbidden, .unsupported:
            return Self.error(.forbidden, "forbidden", writer: writer)
        case .notFound:
            return Self.error(.notFound, "not found", writer: writer)
        }
    }

    /// Where openat2 is missing: opens what `StaticPath.resolve` (realpath checks) found, and
    /// decides from the descriptor's own metadata, since the file may have changed since.
    private static func openResolved(_ resolution: PathResolution) -> BeneathOpen.Result {
        switch resolution {
        case .badRequest: return .badRequest
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .redirect(let location): return .redirect(location: location)
        case .file(let path, _):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return errno == ENOENT ? .notFound : .forbidden }
            var st = stat()
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
                close(fd)
                return .forbidden
            }
            return .file(fd: fd, info: st, name: path, path: path)
        }
    }

    private static func redirect(_ location: String, writer: ResponseWriter) -> (any RequestHandler)? {
        let body = ByteBuffer(string: "moved permanently\n")
        writer.respond(ResponseHead(status: .movedPermanently,
                                    headers: HTTPHeaders([("Location", location), ("Content-Type", "text/plain; charset=utf-8")]),
                                    body: .length(body.readableBytes)), body: body)
        return nil
    }

    /// On a route with `precompressed`, which representation is served: the file itself, or a
    /// sibling in this coding. Either way the response varies with Accept-Encoding.
    private enum Variant {
        case identity
        case encoded(ContentCoding)

        func add(to headers: inout HTTPHeaders, status: HTTPResponseStatus) {
            headers.add(name: "Vary", value: "Accept-Encoding")
            if case .encoded(let coding) = self, status == .ok || status == .partialContent {
                headers.add(name: "Content-Encoding", value: coding.token)
            }
        }
    }

    /// Answers from an open regular file `fd` (ownership passes here) with metadata `st`.
    private func serveFile(fd: Int32, info st: stat, path: String, request: Request, writer: ResponseWriter, variant: Variant?) {
        let info = FileInfo(size: Int(st.st_size), mtimeSeconds: Int(st.st_mtim.tv_sec),
                            mtimeNanoseconds: Int(st.st_mtim.tv_nsec),
                            device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        // The common case: GET or HEAD of the whole file, no conditional or range field.
        if request.method == .GET || request.method == .HEAD,
           !request.headers.contains(where: { StaticDecision.isConditionalOrRange($0.name) }) {
            var headers = FileHeadCache.current.headers(for: info, name: path)
            variant?.add(to: &headers, status: .ok)
            writer.writeHead(ResponseHead(status: .ok, headers: headers, body: .length(info.size)), flush: false)
            writer.writeFile(descriptor: fd, offset: 0, count: info.size)
            writer.end()
            return
        }
        let decision = StaticDecision.decide(method: request.method, headers: request.headers, info: info)
        var headers = decision.headers
        variant?.add(to: &headers, status: decision.status)
        guard let range = decision.bodyRange else {
            close(fd)
            switch decision {
            case .methodNotAllowed, .preconditionFailed, .rangeNotSatisfiable:
                ErrorResponse.write(writer, status: Int(decision.status.code), reason: decision.status.reasonPhrase.lowercased(),
                                    headers: headers)
            default:
                writer.respond(ResponseHead(status: decision.status, headers: headers, body: .empty), body: nil)
            }
            return
        }
        headers.add(name: "Content-Type", value: MimeTypes.contentType(forPath: path))
        writer.writeHead(ResponseHead(status: decision.status, headers: headers, body: .length(range.count)), flush: false)
        writer.writeFile(descriptor: fd, offset: range.lowerBound, count: range.count)
        writer.end()
    }

    /// autoindex: the listing, HTML or JSON by Accept; a directory that cannot be read is 403.
    private static func list(_ relative: String, request: Request, writer: ResponseWriter, directory: RootDirectory) -> (any RequestHandler)? {
        guard request.method == .GET || request.method == .HEAD else {
            return error(.methodNotAllowed, "method not allowed", writer: writer)
        }
        guard let rootFD = directory.descriptor, let (entries, truncated) = DirectoryListing.read(rootFD: rootFD, relative: relative) else {
            return error(.forbidden, "forbidden", writer: writer)
        }
        let json = request.headers["accept"].contains { $0.lowercased().contains("application/json") }
        let text = json ? DirectoryListing.json(entries: entries)
                        : DirectoryListing.html(path: String(request.path), entries: entries, truncated: truncated)
        let body = ByteBuffer(string: text)
        let headers = HTTPHeaders([("Content-Type", json ? "application/json" : "text/html; charset=utf-8"), ("Vary", "Accept")])
        writer.respond(ResponseHead(status: .ok, headers: headers, body: .length(body.readableBytes)), body: body)
        return nil
    }

    private static func error(_ status: HTTPResponseStatus, _ text: String, writer: ResponseWriter) -> (any RequestHandler)? {
        ErrorResponse.write(writer, status: Int(status.code), reason: text)
        return nil
    }
}
