#!/usr/bin/env python3
"""Open many idle HTTP/2 connections (TLS, ALPN h2) to a server and hold them.

The HTTP/2 counterpart of bench/idle_tls.py (same protocol with the caller,
bench/h2.sh): each connection does a full TLS handshake (certificate not
verified, SNI --sni, ALPN "h2" only, TCP_NODELAY), sends the client connection
preface and an empty SETTINGS frame, reads the server's SETTINGS, acknowledges
them, and waits for the ACK of its own. Unless --no-request, it then sends one
`GET PATH` on stream 1 (HEADERS with END_STREAM, HPACK without Huffman or the
dynamic table) and reads the response to its END_STREAM. Then all connections
are kept open, idle, until SIGTERM or SIGINT (or --hold-seconds pass).
Standard library only (`ssl`); the client sends no WINDOW_UPDATE and no PING.

  * when every connection has been tried, one line is written to --ready-file
    (and stdout): "READY ok=N failed=M statuses=200:N,... failures=... tls=TLSv1.3/CIPHER/h2 seconds=S"
  * on SIGTERM the script checks how many connections the server still holds
    open (a GOAWAY, a close_notify or an EOF counts as closed), prints
    "DONE still_open=N closed_by_server=M", closes them and exits.
"""

import argparse
import os
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idle_conns import ProtocolError, hold_idle  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x9
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 0x1, 0x1, 0x4, 0x8, 0x20
# HPACK static table entries 8-14 (RFC 7541 Appendix A): ":status" with a value.
STATIC_STATUS = {8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500}


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes((ftype, flags)) + struct.pack(">I", stream) + payload


def hpack_string(text):
    raw = text.encode()
    if len(raw) >= 127:
        raise ValueError("header value too long for this encoder")
    return bytes((len(raw),)) + raw


def request_block(path, authority):
    # :method GET (static 2), :scheme https (static 7), then :path and :authority as literals
    # without indexing with an indexed name (static 4 and 1), user-agent (static 58).
    return (b"\x82\x87" + b"\x04" + hpack_string(path) + b"\x01" + hpack_string(authority)
            + b"\x0f\x2b" + hpack_string("tacet-bench-idle-h2"))


def status_of(block):
    """The :status of a response header block when it is the first field and needs no table."""
    if not block:
        return "?"
    b = block[0]
    if b & 0x80:                                  # indexed field
        return STATIC_STATUS.get(b & 0x7F, "?")
    # A literal with an indexed :status name (8-14) and a plain (not Huffman) value.
    if b & 0xC0 == 0x40:
        index = b & 0x3F
    elif b & 0xF0 in (0x00, 0x10):
        index = b & 0x0F
    else:
        return "?"
    if index in STATIC_STATUS and len(block) > 1 and not block[1] & 0x80:
        n = block[1] & 0x7F
        try:
            return int(block[2:2 + n])
        except ValueError:
            return "?"
    return "?"


class Reader:
    """Frames from a blocking socket with a deadline."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def next_frame(self, deadline):
        while True:
            if len(self.buf) >= 9:
                length = int.from_bytes(self.buf[0:3], "big")
                if len(self.buf) >= 9 + length:
                    ftype, flags = self.buf[3], self.buf[4]
                    stream = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
                    payload = self.buf[9:9 + length]
                    self.buf = self.buf[9 + length:]
                    return ftype, flags, stream, payload
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("EOF")
            self.buf += chunk


def h2_open(sock, deadline, path, authority):
    """Preface and SETTINGS both ways, then (if path) one GET; returns the status or None."""
    sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
    reader = Reader(sock)
    got_settings = got_ack = False
    while not (got_settings and got_ack):
        ftype, flags, stream, payload = reader.next_frame(deadline)
        if ftype == SETTINGS and not flags & ACK:
            sock.sendall(frame(SETTINGS, ACK, 0))
            got_settings = True
        elif ftype == SETTINGS:
            got_ack = True
        elif ftype == PING and not flags & ACK:
            sock.sendall(frame(PING, ACK, 0, payload))
        elif ftype == GOAWAY:
            raise ProtocolError("GOAWAY")
    if not path:
        return None
    sock.sendall(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block(path, authority)))
    status = "?"
    while True:
        ftype, flags, stream, payload = reader.next_frame(deadline)
        if ftype == PING and not flags & ACK:
            sock.sendall(frame(PING, ACK, 0, payload))
            continue
        if ftype == GOAWAY:
            raise ProtocolError("GOAWAY")
        if stream != 1:
            continue
        if ftype == RST_STREAM:
            raise ProtocolError("RST_STREAM")
        if ftype == HEADERS and status == "?":
            block = payload
            if flags & PADDED:
                block = block[1:len(block) - block[0]]
            if flags & PRIORITY:
                block = block[5:]
            status = status_of(block)
        if ftype in (HEADERS, DATA) and flags & END_STREAM:
            return status


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sni", default="localhost", help="server name sent in the handshake and as :authority")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--path", default="/hello")
    ap.add_argument("--no-request", action="store_true",
                    help="only the preface and the SETTINGS exchange, no request")
    ap.add_argument("--ready-file", default=None)
    ap.add_argument("--hold-seconds", type=float, default=300.0,
                    help="give up holding after this long even without a signal")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="per-connection connect+handshake+SETTINGS+response timeout")
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    path = None if args.no_request else args.path

    def open_one(deadline):
        raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # as h2load and curl
            s = ctx.wrap_socket(raw, server_hostname=args.sni)   # handshakes here (blocking)
        except BaseException:
            raw.close()
            raise
        try:
            alpn = s.selected_alpn_protocol()
            if alpn != "h2":
                raise ProtocolError("alpn_%s" % (alpn or "none"))
            status = h2_open(s, deadline, path, args.sni)
            return s, status, "%s/%s/%s" % (s.version(), (s.cipher() or ("?",))[0], alpn)
        except BaseException:
            s.close()
            raise

    hold_idle(args, open_one, h2_closed)


def h2_closed(sock):
    """A readable socket whose TLS read returns b"" (close_notify or EOF), fails, or carries a
    GOAWAY frame was closed by the server (or is closing); one that only wants more bytes, or
    carries other frames (a WINDOW_UPDATE, a session ticket), is open."""
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True
            data += chunk
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
        pass
    except OSError:
        return True
    while len(data) >= 9:
        if data[3] == GOAWAY:
            return True
        data = data[9 + int.from_bytes(data[0:3], "big"):]
    return False


if __name__ == "__main__":
    sys.exit(main())
