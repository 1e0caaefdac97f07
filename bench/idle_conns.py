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

    raise_fd_limit(args.count)

    stop = {"flag": False}

    def on_signal(_signum, _frame):
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: tacet-bench-idle\r\n"
               "Accept: */*\r\n\r\n" % (args.path, args.host, args.port)).encode()
    socks = []
    statuses = {}
    failures = {}
    started = time.monotonic()
    for _ in range(args.count):
        if stop["flag"]:
            break
        s = None
        try:
            deadline = time.monotonic() + args.timeout
            s = socket.create_connection((args.host, args.port), timeout=args.timeout)
            s.sendall(request)
            status = read_response(s, deadline)
            statuses[status] = statuses.get(status, 0) + 1
            s.setblocking(False)
            socks.append(s)
        except (OSError, ValueError, IndexError) as e:
            key = type(e).__name__
            if isinstance(e, OSError) and e.errno:
                key = errno.errorcode.get(e.errno, str(e.errno))
            failures[key] = failures.get(key, 0) + 1
            if s is not None:
                s.close()
            if isinstance(e, OSError) and e.errno == errno.EMFILE:
                break
    elapsed = time.monotonic() - started
    status_text = ",".join("%d:%d" % kv for kv in sorted(statuses.items())) or "-"
    fail_text = ",".join("%s:%d" % kv for kv in sorted(failures.items())) or "-"
    ready = "READY ok=%d failed=%d statuses=%s failures=%s seconds=%.2f" % (
        len(socks), sum(failures.values()), status_text, fail_text, elapsed)
    print(ready, flush=True)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(ready + "\n")
        os.rename(tmp, args.ready_file)

    end = time.monotonic() + args.hold_seconds
    while not stop["flag"] and time.monotonic() < end:
        time.sleep(0.2)

    # How many did the server keep? A readable socket that returns b"" (or an
    # error) was closed by the server; anything else is still open and idle.
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    closed = 0
    for key, _ in sel.select(timeout=0):
        try:
            data = key.fileobj.recv(4096)
            if not data:
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    sel.close()
    print("DONE still_open=%d closed_by_server=%d" % (len(socks) - closed, closed), flush=True)
    for s in socks:
        s.close()


if __name__ == "__main__":
    sys.exit(main())
