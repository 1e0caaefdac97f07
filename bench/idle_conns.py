#!/usr/bin/env python3
"""Open many idle keep-alive connections to an HTTP server and hold them.

Each connection sends one `GET PATH HTTP/1.1` and reads the complete response
(Content-Length framed), so the server has parsed a request and answered it on
every connection; then all connections are kept open, idle, until SIGTERM or
SIGINT (or --hold-seconds pass). Standard library only.

Protocol with the caller (bench/run.sh):
  * when every connection has been tried, one line is written to --ready-file
    (and stdout): "READY ok=N failed=M statuses=200:N,..."
  * on SIGTERM the script checks how many connections the server still holds
    open, prints "DONE still_open=N closed_by_server=M", closes them and exits.
"""

import argparse
import errno
import os
import resource
import selectors
import signal
import socket
import ssl
import sys
import time


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + 64
    if soft >= want:
        return
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))
    except (ValueError, OSError):
        pass


def read_response(sock, deadline):
    """Read one response; return its status code. Raises on EOF/timeout."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("EOF before end of head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    status = int(parts[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        # Not expected for /fixed; read until the terminating chunk.
        while not body.endswith(b"0\r\n\r\n"):
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("EOF in chunked body")
            body += chunk
        return status
    while len(body) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("EOF in body")
        body += chunk
    return status


class ProtocolError(Exception):
    """A connection that spoke, but not as expected (no h2 by ALPN, no SETTINGS...): its text is the failure key."""


def failure_key(e):
    if isinstance(e, ProtocolError):
        return str(e)
    if isinstance(e, OSError) and not isinstance(e, ssl.SSLError) and e.errno:
        return errno.errorcode.get(e.errno, str(e.errno))
    return type(e).__name__


def hold_idle(args, open_one, closed_by_server):
    """What the idle clients share: open args.count connections, each with open_one(deadline) ->
    (socket, status or None, version text or None) (which closes what it opened before raising);
    write READY (stdout and --ready-file); hold them until SIGTERM/SIGINT or --hold-seconds; then
    count those the server closed (closed_by_server(readable socket) -> bool) and print DONE."""
    raise_fd_limit(args.count)
    stop = {"flag": False}

    def on_signal(_signum, _frame):
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    socks, statuses, failures, versions = [], {}, {}, {}
    started = time.monotonic()
    for _ in range(args.count):
        if stop["flag"]:
            break
        try:
            s, status, version = open_one(time.monotonic() + args.timeout)
        except (OSError, ValueError, IndexError, ProtocolError) as e:
            key = failure_key(e)
            failures[key] = failures.get(key, 0) + 1
            if isinstance(e, OSError) and e.errno == errno.EMFILE:
                break
            continue
        if status is not None:
            statuses[status] = statuses.get(status, 0) + 1
        if version is not None:
            versions[version] = versions.get(version, 0) + 1
        s.setblocking(False)
        socks.append(s)
    elapsed = time.monotonic() - started
    status_text = ",".join("%s:%d" % kv for kv in sorted(statuses.items(), key=str)) or "-"
    fail_text = ",".join("%s:%d" % kv for kv in sorted(failures.items())) or "-"
    tls_text = (" tls=" + (",".join(sorted(versions)) or "-")) if versions or args.__dict__.get("sni") else ""
    ready = "READY ok=%d failed=%d statuses=%s failures=%s%s seconds=%.2f" % (
        len(socks), sum(failures.values()), status_text, fail_text, tls_text, elapsed)
    print(ready, flush=True)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(ready + "\n")
        os.rename(tmp, args.ready_file)

    end = time.monotonic() + args.hold_seconds
    while not stop["flag"] and time.monotonic() < end:
        time.sleep(0.2)

    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    closed = sum(1 for key, _ in sel.select(timeout=0) if closed_by_server(key.fileobj))
    sel.close()
    print("DONE still_open=%d closed_by_server=%d" % (len(socks) - closed, closed), flush=True)
    for s in socks:
        s.close()


def plain_closed(sock):
    """A readable plain socket that returns b"" (or an error) was closed by the server."""
    try:
        return not sock.recv(4096)
    except BlockingIOError:
        return False
    except OSError:
        return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--path", default="/fixed")
    ap.add_argument("--ready-file", default=None)
    ap.add_argument("--hold-seconds", type=float, default=300.0,
                    help="give up holding after this long even without a signal")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="per-connection connect+response timeout")
    args = ap.parse_args()

    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: tacet-bench-idle\r\n"
               "Accept: */*\r\n\r\n" % (args.path, args.host, args.port)).encode()

    def open_one(deadline):
        s = socket.create_connection((args.host, args.port), timeout=args.timeout)
        try:
            s.sendall(request)
            return s, read_response(s, deadline), None
        except BaseException:
            s.close()
            raise

    hold_idle(args, open_one, plain_closed)


if __name__ == "__main__":
    sys.exit(main())
