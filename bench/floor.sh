#!/usr/bin/env bash
# How far Tacet is from SwiftNIO's own floor, and where that floor stands against nginx, on this
# machine: the same loads against nginx, Tacet and bench/nio-floor (a NIO server that does
# nothing but read and write: no parser, no routing, no timers, no pool), interleaved.
#   fixed  GET /fixed (wrk, 64 and 256 connections): nio-floor answers each "\r\n\r\n" with a constant
#   proxy  GET / through a proxy to one upstream nginx (wrk): nio-floor glues each client connection
#          to its own upstream connection and copies bytes unparsed
#   short  TCP stream proxy, short connections ('ping' + FIN, 'pong' + FIN): nio-floor passes bytes
#          and FINs, nothing else
# If the floor's ratio to nginx is below a target, no design on SwiftNIO reaches that target here.
# Usage: bench/floor.sh [--threads N] [--rounds R] [--duration D] [--no-build]
set -euo pipefail

THREADS=2
ROUNDS=3
DURATION=5s
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) THREADS="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/floor-latest.txt"
exec > >(tee "$OUT") 2>&1
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

install_missing wrk nginx gcc python3 curl
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || install_missing libnginx-mod-stream
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
TACET="$REPO/.build/release/tacet"
FLOOR="$BENCH_DIR/nio-floor/.build/release/nio-floor"
if [ "$BUILD" = 1 ]; then
    build_tacet "$REPO" "$BENCH_DIR/results/build.log"
    log "building nio-floor (release)..."
    (cd "$BENCH_DIR/nio-floor" && swift build "${RELEASE_FLAGS[@]}") >"$BENCH_DIR/results/build-floor.log" 2>&1 \
        || { tail -n 30 "$BENCH_DIR/results/build-floor.log"; die "nio-floor build failed"; }
fi
[ -x "$TACET" ] || die "no tacet binary at $TACET"
[ -x "$FLOOR" ] || die "no nio-floor binary at $FLOOR"

WORK="$(mktemp -d /tmp/tacet-floor.XXXXXX)"
chmod 755 "$WORK"
gcc -O2 -pthread -o "$WORK/streamload" "$BENCH_DIR/streamload.c" || die "could not build streamload"
ulimit -n 65536 2>/dev/null || true
PIDS=()
cleanup() {
    local rc=$? p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ports=()
while [ ${#ports[@]} -lt 11 ]; do
    p="$(free_port)"
    case " ${ports[*]-} " in *" $p "*) ;; *) ports+=("$p") ;; esac
done
UP=${ports[0]} BACK=${ports[1]}
T_FIXED=${ports[2]} N_FIXED=${ports[3]} F_FIXED=${ports[4]}
T_PROXY=${ports[5]} N_PROXY=${ports[6]} F_PROXY=${ports[7]}
T_SHORT=${ports[8]} N_SHORT=${ports[9]} F_SHORT=${ports[10]}

mkdir -p "$WORK/up" "$WORK/ng"
# The upstream: one nginx worker, shared by both proxies and the floor.
cat >"$WORK/up/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/up/nginx.pid;
error_log $WORK/up/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
$(temp_paths "$WORK/up")
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server { listen 127.0.0.1:$UP; location / { default_type text/plain; return 200 "hello\n"; } }
}
EOF
cat >"$WORK/ng/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes $THREADS;
pid $WORK/ng/nginx.pid;
error_log $WORK/ng/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
$(temp_paths "$WORK/ng")
    keepalive_requests 100000;
    keepalive_timeout 75s;
    upstream app { server 127.0.0.1:$UP; keepalive 512; keepalive_requests 1000000; keepalive_timeout 300s; }
    server {
        listen 127.0.0.1:$N_FIXED;
        location = /fixed { default_type text/plain; return 200 "hello, world\n"; }
    }
    server {
        listen 127.0.0.1:$N_PROXY;
        location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
stream {
    proxy_half_close on;
    server { listen 127.0.0.1:$N_SHORT; proxy_pass 127.0.0.1:$BACK; }
}
EOF
cat >"$WORK/tacet.yaml" <<EOF
access_log: off
keepalive_requests: 100000
max_connections: 20000
listen: ["127.0.0.1:$T_FIXED", "127.0.0.1:$T_PROXY"]
routes:
  - match: { path: /fixed }
    respond: { status: 200, body: "hello, world\n" }
  - match: { path: / }
    proxy: { upstream: app }
upstreams:
  app: { servers: ["127.0.0.1:$UP"], keepalive: 512 }
streams:
  - { listen: "127.0.0.1:$T_SHORT", to: "127.0.0.1:$BACK" }
EOF

"$WORK/streamload" backend "$BACK" 4 & PIDS+=($!)
"$NGINX" -c "$WORK/up/nginx.conf" -p "$WORK/up" -g 'daemon off;' >/dev/null 2>&1 & PIDS+=($!)
"$NGINX" -c "$WORK/ng/nginx.conf" -p "$WORK/ng" -g 'daemon off;' >/dev/null 2>&1 & PIDS+=($!); NGINX_PID=$!
"$TACET" serve --config "$WORK/tacet.yaml" --threads "$THREADS" --log-level warning >"$WORK/tacet.log" 2>&1 & PIDS+=($!); TACET_PID=$!
"$FLOOR" fixed "$F_FIXED" "$THREADS" >/dev/null 2>&1 & PIDS+=($!); FLOOR_FIXED_PID=$!
"$FLOOR" proxy "$F_PROXY" "$THREADS" "$UP" >/dev/null 2>&1 & PIDS+=($!); FLOOR_PROXY_PID=$!
"$FLOOR" stream "$F_SHORT" "$THREADS" "$BACK" >/dev/null 2>&1 & PIDS+=($!); FLOOR_SHORT_PID=$!
for port in $UP $N_FIXED $T_FIXED $F_FIXED $T_PROXY $N_PROXY $F_PROXY; do
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

log "== nio-floor vs Tacet vs nginx: $(date -u '+%Y-%m-%d %H:%M:%SZ')"
log "commit: $(git -C "$REPO" log -1 --format='%h %s' 2>/dev/null || echo '?')"
log "threads/workers $THREADS; wrk -t1 $DURATION; $ROUNDS rounds interleaved; $(nproc) cpus"
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
port_of() { # scenario server
    case "$1.$2" in
        fixed.tacet) echo "$T_FIXED" ;; fixed.nginx) echo "$N_FIXED" ;; fixed.floor) echo "$F_FIXED" ;;
        proxy*.tacet) echo "$T_PROXY" ;; proxy*.nginx) echo "$N_PROXY" ;; proxy*.floor) echo "$F_PROXY" ;;
        short.tacet) echo "$T_SHORT" ;; short.nginx) echo "$N_SHORT" ;; short.floor) echo "$F_SHORT" ;;
    esac
}
pids_of() { # scenario server: the processes whose CPU time counts
    case "$2" in
        nginx) nginx_pids "$NGINX_PID" ;;
        tacet) echo "$TACET_PID" ;;
        floor) case "$1" in fixed) echo "$FLOOR_FIXED_PID" ;; proxy) echo "$FLOOR_PROXY_PID" ;; short) echo "$FLOOR_SHORT_PID" ;; esac ;;
    esac
}
for r in $(seq 1 "$ROUNDS"); do
    for scen in fixed.64 fixed.256 proxy.64 proxy.256 short.32; do
        for s in nginx tacet floor; do
            name="${scen%.*}"; c="${scen#*.}"; port="$(port_of "$name" "$s")"
            # shellcheck disable=SC2046
            cpu0="$(pids_cpu_split $(pids_of "$name" "$s"))"
            if [ "$name" = short ]; then
                secs="${DURATION%s}"
                line="$("$WORK/streamload" short 127.0.0.1 "$port" "$c" "$secs" || true)"
                value="$(sed -n 's/.*conns=\([0-9]*\).*seconds=\([0-9.]*\).*/\1 \2/p' <<<"$line" | awk '{ printf "%.0f", $1 / $2 }')"
                count="$(sed -n 's/.*conns=\([0-9]*\).*/\1/p' <<<"$line")"
            else
                path=/; [ "$name" = fixed ] && path=/fixed
                wrk -t1 -c"$c" -d"$DURATION" "http://127.0.0.1:$port$path" >"$WORK/wrk.txt" 2>&1 || true
                value="$(parse_wrk "$WORK/wrk.txt" | cut -d' ' -f1)"
                count="$(parse_wrk "$WORK/wrk.txt" | cut -d' ' -f6)"
            fi
            # shellcheck disable=SC2046
            cpu1="$(pids_cpu_split $(pids_of "$name" "$s"))"
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$scen" "$s" "${value:-0}" "${count:-0}" "$cpu0" "$cpu1" >>"$RESULTS"
        done
    done
    log "   round $r done"
done

python3 - "$RESULTS" "$CLK_TCK" <<'PY'
import sys, statistics
data = {}; cpu = {}
tck = float(sys.argv[2])
for line in open(sys.argv[1]):
    scen, srv, v, count, u0, s0, u1, s1 = line.split()
    data.setdefault((scen, srv), []).append(float(v))
    if int(count) > 0:
        us = 1e6 / tck / int(count)
        cpu.setdefault((scen, srv), []).append(((int(u1) - int(u0)) * us, (int(s1) - int(s0)) * us))
print("%-10s %10s %10s %10s %12s %12s %14s" % ("load", "nginx", "tacet", "floor", "tacet/nginx", "floor/nginx", "tacet/floor"))
for scen in ("fixed.64", "fixed.256", "proxy.64", "proxy.256", "short.32"):
    n, t, f = (statistics.median(data.get((scen, s), [0])) for s in ("nginx", "tacet", "floor"))
    if not n or not f: continue
    print("%-10s %10.0f %10.0f %10.0f %12.2f %12.2f %14.2f" % (scen, n, t, f, t / n, f / n, t / f))
print("\nrequests/s (connections/s for short), medians; load.N = N connections (short: N clients).")
print("\nCPU per request (per connection for short), user + system, microseconds, medians:")
print("%-10s %16s %16s %16s" % ("load", "nginx", "tacet", "floor"))
for scen in ("fixed.64", "fixed.256", "proxy.64", "proxy.256", "short.32"):
    cells = []
    for s in ("nginx", "tacet", "floor"):
        xs = cpu.get((scen, s))
        if not xs: cells.append("-"); continue
        u = statistics.median(x[0] for x in xs); k = statistics.median(x[1] for x in xs)
        cells.append("%.2f + %.2f" % (u, k))
    print("%-10s %16s %16s %16s" % (scen, *cells))
PY
