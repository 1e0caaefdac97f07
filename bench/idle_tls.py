#!/usr/bin/env python3
"""Open many idle TLS keep-alive connections to an HTTPS server and hold them.

The TLS counterpart of bench/idle_conns.py (same protocol with the caller,
bench/tls.sh): each connection does a full TLS handshake (certificate not
verified, SNI --sni, TCP_NODELAY unless --nagle), sends one `GET PATH HTTP/1.1`
and reads the complete response, then all connections are kept open, idle,
until SIGTERM or SIGINT (or --hold-seconds pass). Standard library only (`ssl`).

  * when every connection has been tried, one line is written to --ready-file
    (and stdout): "READY ok=N failed=M statuses=200:N,... tls=TLSv1.3/CIPHER"
  * on SIGTERM the script checks how many connections the server still holds
    open, prints "DONE still_open=N closed_by_server=M", closes them and exits.
"""

import argparse
import os
import socket
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idle_conns import hold_idle, read_response  # noqa: E402  (works on an SSLSocket too)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sni", default="localhost", help="server name sent in the handshake")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--path", default="/hello")
    ap.add_argument("--ready-file", default=None)
    ap.add_argument("--hold-seconds", type=float, default=300.0,
                    help="give up holding after this long even without a signal")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="per-connection connect+handshake+response timeout")
    ap.add_argument("--nagle", action="store_true",
                    help="leave Nagle's algorithm on (default: TCP_NODELAY, as wrk, h2load and curl set)")
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])

    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: tacet-bench-idle-tls\r\n"
               "Accept: */*\r\n\r\n" % (args.path, args.sni, args.port)).encode()

    def open_one(deadline):
        raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
        try:
            if not args.nagle:
                # Without it the request waits behind the unacknowledged client Finished until
                # the server ACKs it; a server that sends nothing after the handshake may delay
                # that ACK by ~40 ms (delayed ACK), for every connection.
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s = ctx.wrap_socket(raw, server_hostname=args.sni)   # handshakes here (blocking)
        except BaseException:
            raw.close()
            raise
        try:
            s.sendall(request)
            status = read_response(s, deadline)
            return s, status, "%s/%s" % (s.version(), (s.cipher() or ("?",))[0])
        except BaseException:
            s.close()
            raise

    hold_idle(args, open_one, tls_closed)


def tls_closed(sock):
    """A readable socket whose TLS read returns b"" (close_notify or EOF) or fails was closed by
    the server; one that only wants more bytes (a record not yet whole, or a post-handshake
    message such as a session ticket) is still open."""
    try:
        return not sock.recv(4096)
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
        return False
    except OSError:
        return True


if __name__ == "__main__":
    sys.exit(main())
