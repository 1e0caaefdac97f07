#!/usr/bin/env bash
# A unary gRPC call through Tacet (upstream protocol: h2c) and through nginx (grpc_pass) in one
# run: h2load with a prepared gRPC request (a 5-byte frame header and a 64-byte message,
# content-type application/grpc, te: trailers) over h2c, 64 concurrent streams (4 connections
# x 16), one Tacet loop and one nginx worker, access logs off. Both proxy to the same upstream:
# a second Tacet process answering every call as a gRPC server does (a message, then
# trailers). Reports requests per second and the proxy's CPU microseconds per request
# (utime+stime over the run / requests). See bench/README.md. Usage: bench/grpc.sh [--no-build]
# [--duration 8s] [--rounds 3].
set -euo pipefail
DURATION=8s
ROUNDS=3
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
mkdir -p "$BENCH_DIR/results"
exec > >(tee "$BENCH_DIR/results/grpc-latest.txt") 2>&1
. "$BENCH_DIR/lib.sh"
install_missing nginx python3
command -v h2load >/dev/null || install_missing nghttp2-client
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
"$NGINX" -V 2>&1 | grep -q with-http_v2_module || die "this nginx has no http_v2_module"
# nginx 1.25.1 moved HTTP/2 from a listen parameter to a directive.
NGINX_VERSION="$("$NGINX" -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')"
if printf '1.25.1\n%s\n' "$NGINX_VERSION" | sort -V -C; then NGINX_LISTEN_H2=""; NGINX_H2_ON="http2 on;"
else NGINX_LISTEN_H2=" http2"; NGINX_H2_ON=""; fi
TACET_BIN="$REPO/.build/release/tacet"
[ "$BUILD" = 1 ] && build_tacet "$REPO" "$BENCH_DIR/results/build.log"
[ -x "$TACET_BIN" ] || die "no tacet binary at $TACET_BIN"
CLK_TCK="$(getconf CLK_TCK)"

WORK="$(mktemp -d /tmp/tacet-grpc-bench.XXXXXX)"
chmod 755 "$WORK"
mkdir -p "$WORK/nginx"
UP_PORT="$(free_port)"; TACET_PORT="$(free_port)"; NGINX_PORT="$(free_port)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$WORK"; }
trap cleanup EXIT

# The upstream: a gRPC-shaped answer to every call (HEADERS, a 5+8-byte message, trailers).
cat >"$WORK/upstream.yaml" <<EOF
listen: [{ address: "127.0.0.1:$UP_PORT", http2: true }]
access_log: off
keepalive_requests: 100000000
routes:
  - match: { path: / }
    respond: { status: 200, content_type: application/grpc, body: "\u0000\u0000\u0000\u0000\u0008grpc-ok!", headers: { grpc-status: "0" } }
EOF
cat >"$WORK/tacet.yaml" <<EOF
listen: [{ address: "127.0.0.1:$TACET_PORT", http2: true }]
access_log: off
keepalive_requests: 100000000
routes:
  - match: { path: / }
    proxy: { upstream: grpc }
upstreams:
  grpc: { servers: ["127.0.0.1:$UP_PORT"], protocol: h2c }
EOF
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
$(temp_paths "$WORK/nginx")
    keepalive_requests 100000000;
    http2_max_concurrent_streams 128;
    upstream grpc { server 127.0.0.1:$UP_PORT; keepalive 32; keepalive_requests 100000000; }
    server {
        listen 127.0.0.1:$NGINX_PORT$NGINX_LISTEN_H2;
        $NGINX_H2_ON
        location / { grpc_pass grpc://grpc; }
    }
}
EOF
printf '\x00\x00\x00\x00\x40' >"$WORK/req.bin"
head -c 64 /dev/zero >>"$WORK/req.bin"

"$TACET_BIN" serve --config "$WORK/upstream.yaml" >"$WORK/upstream.log" 2>&1 & PIDS+=($!)
"$TACET_BIN" serve --config "$WORK/tacet.yaml" >"$WORK/tacet.log" 2>&1 & TACET_PID=$!; PIDS+=($TACET_PID)
"$NGINX" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log"
NGINX_MASTER="$(cat "$WORK/nginx/nginx.pid" 2>/dev/null || true)"
for _ in $(seq 50); do [ -s "$WORK/nginx/nginx.pid" ] && break; sleep 0.1; done
NGINX_MASTER="$(cat "$WORK/nginx/nginx.pid")"; PIDS+=($NGINX_MASTER)
sleep 0.5

run() {  # run NAME PORT PIDS...: one measured h2load run; prints rps and µs/request
    local name="$1" port="$2"; shift 2
    local before after out reqs
    h2load -n 20000 -c 4 -m 16 -t 1 -d "$WORK/req.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
        "http://127.0.0.1:$port/bench.Echo/Get" >/dev/null 2>&1 || true   # warm-up
    before="$(pids_cpu_ticks "$@")"
    out="$(h2load -D "$DURATION" -c 4 -m 16 -t 1 -d "$WORK/req.bin" -H 'content-type: application/grpc' \
        -H 'te: trailers' "http://127.0.0.1:$port/bench.Echo/Get" 2>&1)"
    after="$(pids_cpu_ticks "$@")"
    reqs="$(printf '%s\n' "$out" | sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p')"
    local rps; rps="$(printf '%s\n' "$out" | sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p')"
    local status; status="$(printf '%s\n' "$out" | sed -n 's/^status codes: \(.*\)/\1/p')"
    awk -v n="$name" -v r="$rps" -v q="$reqs" -v a="$before" -v b="$after" -v t="$CLK_TCK" -v s="$status" \
        'BEGIN { printf "%-6s %10.0f req/s %8.1f us/req  (%s)\n", n, r, (b - a) / t * 1e6 / (q > 0 ? q : 1), s }'
}
log "gRPC unary, h2c, 4 connections x 16 streams, $DURATION per run, $ROUNDS rounds"
for r in $(seq "$ROUNDS"); do
    run tacet "$TACET_PORT" "$TACET_PID"
    run nginx "$NGINX_PORT" $(nginx_pids "$NGINX_MASTER")
done
