import NIOCore
import NIOHTTP1
import TacetHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves files under a root: GET and HEAD, conditionals, one range, index files, the directory
/// slash redirect, and nothing outside the root. Bodies go out by sendfile (`FileRegion`).
///
/// open(2) and fstat(2) run on the event loop, as nginx does: on a local file system they are
/// short, and a thread hop per request would cost more than it saves.
public struct StaticResponder: Responder {
    private let root: StaticRoot?
    private let index: String

    public init(root: String, index: String = "index.html") {
        self.root = StaticRoot(root)
        self.index = index
    }

    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        guard let root else {
            return Self.error(.notFound, "not found", writer: writer)
        }
        switch StaticPath.resolve(requestPath: String(request.path), root: root, index: index,
                                  query: request.query.map(String.init)) {
        case .badRequest:
            return Self.error(.badRequest, "bad request path", writer: writer)
        case .forbidden:
            return Self.error(.forbidden, "forbidden", writer: writer)
        case .notFound:
            return Self.error(.notFound, "not found", writer: writer)
        case .redirect(let location):
            let body = ByteBuffer(string: "moved permanently\n")
            writer.respond(ResponseHead(status: .movedPermanently,
                                        headers: HTTPHeaders([("Location", location), ("Content-Type", "text/plain; charset=utf-8")]),
                                        body: .length(body.readableBytes)), body: body)
            return nil
        case .file(let path, _):
            serveFile(path, request: request, writer: writer)
            return nil
        }
    }

    private func serveFile(_ path: String, request: Request, writer: ResponseWriter) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            _ = Self.error(errno == ENOENT ? .notFound : .forbidden, errno == ENOENT ? "not found" : "forbidden", writer: writer)
            return
        }
        // Decide from the descriptor's own metadata: the file may have changed since the path was resolved.
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            _ = Self.error(.forbidden, "forbidden", writer: writer)
            return
        }
        let info = FileInfo(size: Int(st.st_size), mtimeSeconds: Int(st.st_mtim.tv_sec),
                            mtimeNanoseconds: Int(st.st_mtim.tv_nsec),
                            device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        let decision = StaticDecision.decide(method: request.method, headers: request.headers, info: info)
        guard let range = decision.bodyRange else {
            close(fd)
            switch decision {
            case .methodNotAllowed, .preconditionFailed, .rangeNotSatisfiable:
                let body = ByteBuffer(string: decision.status.reasonPhrase.lowercased() + "\n")
                var headers = decision.headers
                headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
                writer.respond(ResponseHead(status: decision.status, headers: headers, body: .length(body.readableBytes)),
                               body: body)
            default:
                writer.respond(ResponseHead(status: decision.status, headers: decision.headers, body: .empty), body: nil)
            }
            return
        }
        var headers = decision.headers
        headers.add(name: "Content-Type", value: MimeTypes.contentType(forPath: path))
        writer.writeHead(ResponseHead(status: decision.status, headers: headers, body: .length(range.count)))
        writer.writeFile(NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd), offset: range.lowerBound, count: range.count)
        writer.end()
    }

    private static func error(_ status: HTTPResponseStatus, _ text: String, writer: ResponseWriter) -> (any RequestHandler)? {
        let body = ByteBuffer(string: text + "\n")
        writer.respond(ResponseHead(status: status, headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]),
                                    body: .length(body.readableBytes)), body: body)
        return nil
    }
}
