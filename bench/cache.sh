#!/usr/bin/env bash
# Tacet's cache vs nginx proxy_cache vs Varnish, all hits: each in front of the same origin
# (one nginx worker serving a 1 KiB and a 100 KiB file with Cache-Control: max-age=3600), one
# thread / one worker where the server allows (Varnish: one thread pool), wrk -t1 -c64.
# Reports requests per second and the cache's CPU µs per request (utime+stime / requests).
# See bench/README.md ("Cache"). Usage: bench/cache.sh [options]; --help lists them.
set -euo pipefail

DURATION=10s
ROUNDS=3
CONNS=64
WARMUP=2s
BUILD=1
TACET_BIN=""

usage() {
    cat <<EOF
Usage: bench/cache.sh [options]
  --duration D      wrk duration per run (default $DURATION)
  --rounds R        interleaved rounds; the table shows medians (default $ROUNDS)
  --conns N         wrk connections (default $CONNS)
  --warmup D        wrk warm-up per cache and object, 0 to skip (default $WARMUP)
  --no-build        use the existing release binary
  --tacet-bin PATH  use this tacet binary (implies --no-build)
Output is also written to bench/results/cache-latest.txt.
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --conns) CONNS="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --tacet-bin) TACET_BIN="$2"; BUILD=0; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"
mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/cache-latest.txt"
exec > >(tee "$OUT") 2>&1

install_missing wrk nginx curl python3 varnishd
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
VARNISHD="$(command -v varnishd || echo /usr/sbin/varnishd)"
[ -z "$TACET_BIN" ] && TACET_BIN="$REPO/.build/release/tacet"
[ "$BUILD" = 1 ] && build_tacet "$REPO" "$BENCH_DIR/results/build.log"
[ -x "$TACET_BIN" ] || die "no tacet binary at $TACET_BIN (build it or pass --tacet-bin)"
ulimit -n 65536 2>/dev/null || true

WORK="$(mktemp -d /tmp/tacet-cache-bench.XXXXXX)"
chmod 755 "$WORK"
mkdir -p "$WORK/www" "$WORK/up" "$WORK/nginx" "$WORK/tcache" "$WORK/ncache" "$WORK/varnish"
head -c 1024 /dev/urandom >"$WORK/www/1k.bin"
head -c 102400 /dev/urandom >"$WORK/www/100k.bin"
chmod -R a+rX "$WORK/www"
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

UP_PORT="$(free_port)"; TACET_PORT="$(free_port)"; NGINX_PORT="$(free_port)"; VARNISH_PORT="$(free_port)"
UP_PID=""; TACET_PID=""; NGINX_PID=""; VARNISH_PID=""
cleanup() {
    local rc=$? p
    for p in $TACET_PID $NGINX_PID $UP_PID; do kill "$p" 2>/dev/null || true; done
    [ -n "$VARNISH_PID" ] && kill "$VARNISH_PID" 2>/dev/null || true
    sleep 0.3
    for p in $TACET_PID $NGINX_PID $UP_PID $VARNISH_PID; do kill -9 "$p" 2>/dev/null || true; done
    pkill -9 -f "varnishd.*$WORK" 2>/dev/null || true
    if [ -n "${KEEP_WORK:-}" ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$WORK/up/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/up/nginx.pid;
error_log $WORK/up/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
$(temp_paths "$WORK/up")
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$UP_PORT;
        root $WORK/www;
        add_header Cache-Control "max-age=3600";
    }
}
EOF

cat >"$WORK/tacet.yaml" <<EOF
listen: ["127.0.0.1:$TACET_PORT"]
access_log: off
keepalive_requests: 1000000
cache:
  zones:
    main: { path: "$WORK/tcache", max_size: 1g, memory: 256m }
upstreams:
  app: { servers: ["127.0.0.1:$UP_PORT"] }
routes:
  - match: { path: / }
    proxy: { upstream: app }
    cache: { zone: main }
EOF

# nginx at its best for hits: one worker, the cache's files kept open (open_file_cache),
# sendfile for the large object and not for the small (its best at each size here).
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
$(temp_paths "$WORK/nginx")
    keepalive_requests 1000000;
    open_file_cache max=1000 inactive=60s;
    proxy_cache_path $WORK/ncache levels=1:2 keys_zone=main:10m max_size=1g inactive=1h;
    upstream app { server 127.0.0.1:$UP_PORT; keepalive 16; }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_cache main;
        add_header Cache-Status \$upstream_cache_status;
        location /100k { sendfile on; proxy_pass http://app; }
        location / { sendfile off; proxy_pass http://app; }
    }
}
EOF

cat >"$WORK/varnish/default.vcl" <<EOF
vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "$UP_PORT"; }
EOF

wait_ready() { # port pid path
    local i
    for i in $(seq 1 300); do
        kill -0 "$2" 2>/dev/null || return 1
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1${3:-/1k.bin}" || true)" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}

"$NGINX" -c "$WORK/up/nginx.conf" -p "$WORK/up" -g 'daemon off;' >"$WORK/up.stdout" 2>&1 &
UP_PID=$!
wait_ready "$UP_PORT" "$UP_PID" || { cat "$WORK/up/error.log"; die "origin nginx did not start"; }
"$TACET_BIN" serve --config "$WORK/tacet.yaml" --threads 1 --log-level warning >"$WORK/tacet.stdout" 2>"$WORK/tacet.stderr" &
TACET_PID=$!
wait_ready "$TACET_PORT" "$TACET_PID" || { cat "$WORK/tacet.stderr"; die "tacet did not start"; }
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' >"$WORK/nginx.stdout" 2>&1 &
NGINX_PID=$!
wait_ready "$NGINX_PORT" "$NGINX_PID" || { cat "$WORK/nginx/error.log"; die "nginx did not start"; }
# Varnish: one thread pool (its threads are per connection: it cannot run on one thread),
# malloc storage, jail off so it runs as this user from the work directory.
"$VARNISHD" -F -j none -n "$WORK/varnish/n" -a "127.0.0.1:$VARNISH_PORT" -f "$WORK/varnish/default.vcl" \
    -s malloc,256m -p thread_pools=1 -p thread_pool_min=100 >"$WORK/varnish.stdout" 2>&1 &
VARNISH_PID=$!
wait_ready "$VARNISH_PORT" "$VARNISH_PID" || { cat "$WORK/varnish.stdout"; die "varnish did not start"; }

port_of() { case "$1" in tacet) echo "$TACET_PORT" ;; nginx) echo "$NGINX_PORT" ;; varnish) echo "$VARNISH_PORT" ;; esac; }
pids_of() {
    case "$1" in
        tacet) echo "$TACET_PID" ;;
        nginx) nginx_pids "$NGINX_PID" ;;
        varnish) echo "$VARNISH_PID"; pgrep -P "$VARNISH_PID" 2>/dev/null || true ;;
    esac
}

log "== Cache hits: Tacet vs nginx proxy_cache vs Varnish: $(date -u '+%Y-%m-%d %H:%M:%SZ')"
log "commit:   $(git -C "$REPO" log -1 --format='%h %s' 2>/dev/null || echo '?')"
log "tacet:    $TACET_BIN (threads 1, zone memory 256m)"
log "nginx:    $("$NGINX" -v 2>&1 | sed 's/.*: //') (1 worker, proxy_cache, open_file_cache, sendfile on for 100k only)"
log "varnish:  $("$VARNISHD" -V 2>&1 | head -n1) (thread_pools=1, malloc 256m)"
log "wrk:      -t1 -c$CONNS, duration $DURATION, rounds $ROUNDS; cpus: $(nproc)"
for s in tacet nginx varnish; do
    for o in 1k 100k; do curl -s -o /dev/null "http://127.0.0.1:$(port_of $s)/$o.bin"; done
    log "-- $s: GET /1k.bin (second fetch)"
    curl -s -D - -o /dev/null "http://127.0.0.1:$(port_of $s)/1k.bin" | tr -d '\r' | grep -iE '^(HTTP|age|cache-status|x-cache|x-varnish|content-length)' | sed 's/^/   /'
done

run_wrk() { # server object round
    local s=$1 o=$2 r=$3 f="$WORK/wrk.$1.$2.$3.txt" c0 c1
    c0="$(pids_cpu_ticks $(pids_of "$s"))"
    wrk -t1 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$(port_of "$s")/$o.bin" >"$f" 2>&1 || true
    c1="$(pids_cpu_ticks $(pids_of "$s"))"
    printf '%s\t%s\t%s\t%s\t%s\n' "$o" "$s" "$r" "$(parse_wrk "$f" | tr ' ' '\t')" "$(ticks_to_s "$c0" "$c1")" >>"$RESULTS"
}

if [ "$WARMUP" != 0 ]; then
    for s in tacet nginx varnish; do for o in 1k 100k; do wrk -t1 -c"$CONNS" -d"$WARMUP" "http://127.0.0.1:$(port_of $s)/$o.bin" >/dev/null 2>&1 || true; done; done
fi
for r in $(seq 1 "$ROUNDS"); do
    for o in 1k 100k; do for s in tacet nginx varnish; do run_wrk "$s" "$o" "$r"; done; done
done

python3 - "$RESULTS" <<'EOF'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
# object server round rps p50 p99 non2xx sockerrs requests cpu_s
table = {}
for o, s, r, rps, p50, p99, non2xx, errs, reqs, cpu in rows:
    table.setdefault((o, s), []).append((float(rps), float(p99), int(non2xx or 0), float(cpu), int(reqs or 0)))
print()
print("== Results (median of rounds; all hits; CPU us/req = the cache's utime+stime / requests)")
print("%-6s %-8s %10s %9s %11s %7s" % ("object", "cache", "req/s", "p99 ms", "CPU us/req", "non2xx"))
for o in ["1k", "100k"]:
    for s in ["tacet", "nginx", "varnish"]:
        runs = table.get((o, s), [])
        if not runs: continue
        rps = statistics.median(x[0] for x in runs)
        p99 = statistics.median(x[1] for x in runs)
        us = statistics.median(1e6 * x[3] / x[4] for x in runs if x[4] > 0)
        print("%-6s %-8s %10.0f %9.2f %11.1f %7d" % (o, s, rps, p99, us, sum(x[2] for x in runs)))
EOF
