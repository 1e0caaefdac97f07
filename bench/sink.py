#!/usr/bin/env python3
"""A tiny HTTP/1.1 upload sink for bench/proxy.sh: reads each request's whole body
(Content-Length or chunked, answering Expect: 100-continue), discards it, and answers
200 with the byte count. Keep-alive; one thread per connection. stdlib only.

Usage: sink.py PORT
"""
import socket
import socketserver
import sys


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.buf = b""
        self.chunk = bytearray(1 << 20)

    def fill(self):
        data = self.request.recv(1 << 20)
        if not data:
            raise EOFError
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def discard(self, n):
        take = min(n, len(self.buf))
        self.buf = self.buf[take:]
        n -= take
        view = memoryview(self.chunk)
        while n > 0:
            got = self.request.recv_into(view, min(n, len(self.chunk)))
            if not got:
                raise EOFError
            n -= got

    def handle(self):
        try:
            while True:
                while b"\r\n\r\n" not in self.buf:
                    self.fill()
                head, self.buf = self.buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for h in lines[1:]:
                    k, _, v = h.partition(":")
                    headers[k.strip().lower()] = v.strip()
                if headers.get("expect", "").lower() == "100-continue":
                    self.request.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                total = 0
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    while True:
                        size = int(self.line().split(b";")[0], 16)
                        if size == 0:
                            while self.line():
                                pass
                            break
                        self.discard(size + 2)
                        total += size
                else:
                    total = int(headers.get("content-length", "0"))
                    self.discard(total)
                body = b"%d\n" % total
                close = headers.get("connection", "").lower() == "close"
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n%s"
                                     % (len(body), b"Connection: close\r\n" if close else b"", body))
                if close:
                    return
        except (EOFError, ConnectionError):
            return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server(("127.0.0.1", int(sys.argv[1])), Handler) as server:
        server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.serve_forever()
