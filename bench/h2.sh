#!/usr/bin/env bash
# Tacet's HTTP/2 vs nginx's: h2load over TLS 1.3 (ALPN h2) on a fixed response, a 1 KiB static
# file and a proxied request to one shared HTTP/1.1 upstream, and memory per idle HTTP/2
# connection; h2o (Debian's, when installed) beside them on the file and the proxy (it has no
# fixed-response directive without mruby). Every server presents the same ECDSA P-256 self-signed certificate, made here with
# openssl. See bench/README.md. Usage: bench/h2.sh [options]; --help lists them.
set -euo pipefail

THREADS=1
DURATION=10s
ROUNDS=3
CONNS=64
STREAMS=10
CLIENT_THREADS=1
LOADS="hello file proxy"
IDLE=1000
WARMUP=2s
BUILD=1
TACET_BIN=""
H2O=1

usage() {
    cat <<EOF
Usage: bench/h2.sh [options]
  --threads N         Tacet event-loop threads and nginx workers (default $THREADS)
  --duration D        h2load measured duration per run (-D), e.g. 10s, 5s (default $DURATION)
  --warmup D          h2load --warm-up-time before each measured run, 0 to skip (default $WARMUP)
  --rounds R          interleaved rounds per load; the table shows medians (default $ROUNDS)
  --conns C           h2load clients (= HTTP/2 connections) (default $CONNS)
  --streams S         h2load concurrent streams per connection (-m) (default $STREAMS)
  --client-threads T  h2load threads (-t) (default $CLIENT_THREADS)
  --loads "L..."      which loads, of: hello file proxy (default "$LOADS")
  --idle N            idle HTTP/2 connections for the RSS test, 0 to skip (default $IDLE)
  --no-build          do not run 'swift build'; use the existing release binary
  --tacet-bin PATH    use this tacet binary (implies --no-build)
  --no-h2o            leave h2o out (it runs the file and proxy loads when installed)
Output is also written to bench/results/h2-latest.txt. KEEP_WORK=1 keeps the temporary
directory (configs, certificate and key, raw h2load outputs, server logs).
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --threads) THREADS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --conns) CONNS="$2"; shift 2 ;;
        --streams) STREAMS="$2"; shift 2 ;;
        --client-threads) CLIENT_THREADS="$2"; shift 2 ;;
        --loads) LOADS="$2"; shift 2 ;;
        --idle) IDLE="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --tacet-bin) TACET_BIN="$2"; BUILD=0; shift 2 ;;
        --no-h2o) H2O=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done
for l in $LOADS; do
    case "$l" in hello|file|proxy) ;; *) echo "unknown load: $l (hello, file, proxy)" >&2; exit 2 ;; esac
done
[ "$WARMUP" = 0s ] && WARMUP=0

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/h2-latest.txt"
exec > >(tee "$OUT") 2>&1

# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

# ---------------------------------------------------------------- prerequisites
install_missing nginx curl python3 openssl
command -v h2load >/dev/null || install_missing nghttp2-client     # the package of h2load
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
"$NGINX" -V 2>&1 | grep -q with-http_ssl_module || die "this nginx has no http_ssl_module"
"$NGINX" -V 2>&1 | grep -q with-http_v2_module || die "this nginx has no http_v2_module"
if [ "$H2O" = 1 ] && ! command -v h2o >/dev/null; then
    install_missing h2o || true
    command -v h2o >/dev/null || { log "h2o is not installed: its column stays empty"; H2O=0; }
fi
H2O_BIN="$(command -v h2o || echo /usr/bin/h2o)"
SERVERS="tacet nginx"
[ "$H2O" = 1 ] && SERVERS="tacet nginx h2o"
curl -V | grep -qi 'HTTP2' || die "this curl has no HTTP/2 (needed for the readiness checks)"

# nginx 1.25.1 replaced 'listen ... http2' (deprecated since) by the 'http2 on' directive.
NGINX_VERSION="$("$NGINX" -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')"
if printf '1.25.1\n%s\n' "$NGINX_VERSION" | sort -V -C; then   # 1.25.1 <= this version
    H2_STYLE=directive; NGINX_LISTEN_H2=""; NGINX_H2_ON="http2 on;"
else
    H2_STYLE=listen; NGINX_LISTEN_H2=" http2"; NGINX_H2_ON=""
fi

[ -z "$TACET_BIN" ] && TACET_BIN="$REPO/.build/release/tacet"
[ "$BUILD" = 1 ] && build_tacet "$REPO" "$BENCH_DIR/results/build.log"
[ -x "$TACET_BIN" ] || die "no tacet binary at $TACET_BIN (build it or pass --tacet-bin)"

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE="$(ulimit -n)"
[ "$NOFILE" = unlimited ] && NOFILE=1048576
NGINX_CONNS=$(( NOFILE < 20000 ? NOFILE : 20000 ))
if [ "$IDLE" != 0 ] && [ "$NOFILE" -lt $((IDLE + 1000)) ]; then
    log "warning: ulimit -n is $(ulimit -n); the idle test with $IDLE connections may fail"
fi
# Upstream pool size on both proxies: at least the load's concurrent streams.
POOL=$(( CONNS * STREAMS > 1024 ? CONNS * STREAMS : 1024 ))

# ---------------------------------------------------------------- setup
WORK="$(mktemp -d /tmp/tacet-h2-bench.XXXXXX)"
chmod 755 "$WORK"          # nginx workers run as 'nobody' and must reach www/
WWW="$WORK/www"
mkdir -p "$WWW" "$WORK/nginx" "$WORK/up"
head -c 1024 /dev/urandom | base64 -w 64 | head -c 1024 >"$WWW/1k.txt"
[ "$(stat -c %s "$WWW/1k.txt")" = 1024 ] || die "could not make the 1 KiB file"
chmod -R a+rX "$WWW"
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

# One throw-away certificate for both servers (never leaves $WORK; the key is read by tacet and
# by nginx's master, both running as this user, before nginx's workers start).
(umask 077; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem") >"$WORK/openssl.log" 2>&1 \
    || { cat "$WORK/openssl.log"; die "openssl could not make the certificate"; }
CERT="$WORK/cert.pem"
KEY="$WORK/key.pem"

TACET_PORT="$(free_port)"
NGINX_PORT="$(free_port)"
while [ "$NGINX_PORT" = "$TACET_PORT" ]; do NGINX_PORT="$(free_port)"; done
UP_PORT="$(free_port)"
while [ "$UP_PORT" = "$TACET_PORT" ] || [ "$UP_PORT" = "$NGINX_PORT" ]; do UP_PORT="$(free_port)"; done
H2O_PORT="$(free_port)"
while [ "$H2O_PORT" = "$TACET_PORT" ] || [ "$H2O_PORT" = "$NGINX_PORT" ] || [ "$H2O_PORT" = "$UP_PORT" ]; do
    H2O_PORT="$(free_port)"
done

TACET_PID=""
NGINX_PID=""
UP_PID=""
H2O_PID=""
IDLE_PID=""
H2LOAD_PID=""
cleanup() {
    local rc=$?
    [ -n "$H2LOAD_PID" ] && kill "$H2LOAD_PID" 2>/dev/null || true
    [ -n "$IDLE_PID" ] && kill "$IDLE_PID" 2>/dev/null || true
    [ -n "$TACET_PID" ] && kill "$TACET_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
    [ -n "$UP_PID" ] && kill "$UP_PID" 2>/dev/null || true
    [ -n "$H2O_PID" ] && kill "$H2O_PID" 2>/dev/null || true
    sleep 0.3
    [ -n "$H2O_PID" ] && kill -9 "$H2O_PID" 2>/dev/null || true
    [ -n "$TACET_PID" ] && kill -9 "$TACET_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill -9 "$NGINX_PID" 2>/dev/null || true
    [ -n "$UP_PID" ] && kill -9 "$UP_PID" 2>/dev/null || true
    if [ -n "${KEEP_WORK:-}" ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The common upstream: one nginx worker, plain HTTP/1.1, the same 13-byte answer on every path.
cat >"$WORK/up/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $WORK/up/nginx.pid;
error_log $WORK/up/error.log warn;
events { worker_connections $NGINX_CONNS; }
http {
    access_log off;
$(temp_paths "$WORK/up")
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server {
        listen 127.0.0.1:$UP_PORT;
        location / { default_type text/plain; return 200 "hello, world\n"; }
    }
}
EOF

# HTTP/2 is on by default on a TLS listener (ALPN h2, then http/1.1). keepalive_requests only
# bounds HTTP/1.1 connections in Tacet; it is set high on both anyway.
cat >"$WORK/tacet.yaml" <<EOF
listen:
  - address: "127.0.0.1:$TACET_PORT"
    tls:
      certificates:
        - { cert: $CERT, key: $KEY }
      min_version: "1.3"
access_log: off
keepalive_requests: 1000000
max_connections: 20000
routes:
  - match: { path: /hello }
    respond: { status: 200, body: "hello, world\n" }
  - match: { path: /proxy/ }
    proxy: { upstream: app }
  - match: { path: / }
    static: { root: $WWW }
upstreams:
  app: { servers: ["127.0.0.1:$UP_PORT"], keepalive: $POOL }
EOF

# TLS 1.3 only, no session cache, no tickets (as bench/tls.sh). nginx applies keepalive_requests
# to HTTP/2 connections too (since 1.19.7): set far above what a run sends on one connection.
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes $THREADS;
worker_rlimit_nofile $NOFILE;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections $NGINX_CONNS; }
http {
    access_log off;
$(temp_paths "$WORK/nginx")
    types { text/plain txt; text/html html; }
    default_type application/octet-stream;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    upstream app {
        server 127.0.0.1:$UP_PORT;
        keepalive $POOL;
        keepalive_requests 1000000;
        keepalive_timeout 300s;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT ssl$NGINX_LISTEN_H2;
        $NGINX_H2_ON
        http2_max_concurrent_streams 128;
        ssl_certificate $CERT;
        ssl_certificate_key $KEY;
        ssl_protocols TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        location = /hello {
            default_type text/plain;
            return 200 "hello, world\n";
        }
        location /proxy/ {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location / {
            root $WWW;
        }
    }
}
EOF

# h2o 2.2: one thread, TLS 1.3, the same certificate (no OCSP stapling: it is self-signed),
# no access log (none is configured), the same stream limit as nginx, the upstream's
# connections kept (h2o keeps them by default; proxy.timeout.keepalive raised).
mkdir -p "$WORK/h2o"
cat >"$WORK/h2o/h2o.conf" <<EOF
user: $(id -un)
num-threads: $THREADS
pid-file: $WORK/h2o/h2o.pid
error-log: $WORK/h2o/error.log
max-connections: $NGINX_CONNS
http2-max-concurrent-requests-per-connection: 128
proxy.timeout.keepalive: 300000
listen:
  host: 127.0.0.1
  port: $H2O_PORT
  ssl:
    certificate-file: $CERT
    key-file: $KEY
    minimum-version: TLSv1.3
    ocsp-update-interval: 0
hosts:
  default:
    paths:
      /proxy/:
        proxy.reverse.url: http://127.0.0.1:$UP_PORT/proxy/
      /:
        file.dir: $WWW
EOF

wait_ready() { # url pid
    local i
    for i in $(seq 1 300); do
        kill -0 "$2" 2>/dev/null || return 1
        [ "$(curl -sk -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}
start_upstream() {
    "$NGINX" -c "$WORK/up/nginx.conf" -p "$WORK/up" -g 'daemon off;' >"$WORK/up.stdout" 2>&1 &
    UP_PID=$!
    wait_ready "http://127.0.0.1:$UP_PORT/hello" "$UP_PID" || {
        cat "$WORK/up.stdout" "$WORK/up/error.log" 2>/dev/null; die "upstream nginx did not start"; }
}
start_tacet() {
    "$TACET_BIN" serve --config "$WORK/tacet.yaml" --threads "$THREADS" --log-level warning \
        >"$WORK/tacet.stdout" 2>>"$WORK/tacet.stderr" &
    TACET_PID=$!
    wait_ready "https://127.0.0.1:$TACET_PORT/hello" "$TACET_PID" || {
        cat "$WORK/tacet.stdout" "$WORK/tacet.stderr"; die "tacet did not start (a build without TLS?)"; }
}
start_nginx() {
    "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' >"$WORK/nginx.stdout" 2>&1 &
    NGINX_PID=$!
    wait_ready "https://127.0.0.1:$NGINX_PORT/hello" "$NGINX_PID" || {
        cat "$WORK/nginx.stdout" "$WORK/nginx/error.log" 2>/dev/null; die "nginx did not start"; }
}

start_h2o() {
    "$H2O_BIN" -c "$WORK/h2o/h2o.conf" >"$WORK/h2o.stdout" 2>&1 &
    H2O_PID=$!
    wait_ready "https://127.0.0.1:$H2O_PORT/1k.txt" "$H2O_PID" || {
        cat "$WORK/h2o.stdout" "$WORK/h2o/error.log" 2>/dev/null; die "h2o did not start"; }
}

server_pids() {
    case "$1" in tacet) echo "$TACET_PID" ;; nginx) nginx_pids "$NGINX_PID" ;; h2o) nginx_pids "$H2O_PID" ;; esac
}
worker_pids() {
    case "$1" in
        tacet) echo "$TACET_PID" ;;
        nginx) ps -o pid= --ppid "$NGINX_PID" | tr -d ' ' ;;
        h2o) nginx_pids "$H2O_PID" ;;
    esac
}
cpu_ticks() { pids_cpu_ticks $(server_pids "$1"); }
up_ticks() { pids_cpu_ticks $(nginx_pids "$UP_PID"); }
rss_kib() { pids_rss_kib $(worker_pids "$1"); }
port_of() { case "$1" in tacet) echo "$TACET_PORT" ;; nginx) echo "$NGINX_PORT" ;; h2o) echo "$H2O_PORT" ;; esac; }
alive() {
    case "$1" in
        tacet) kill -0 "$TACET_PID" 2>/dev/null ;;
        nginx) kill -0 "$NGINX_PID" 2>/dev/null ;;
        h2o) kill -0 "$H2O_PID" 2>/dev/null ;;
    esac
}
# h2o has no fixed response without mruby: it runs the file and proxy loads only.
runs_load() { [ "$1" != h2o ] || [ "$2" != hello ]; }
path_of() { case "$1" in hello) echo /hello ;; file) echo /1k.txt ;; proxy) echo /proxy/hello ;; esac; }

log "== Tacet HTTP/2 vs nginx HTTP/2: $(date -u '+%Y-%m-%d %H:%M:%SZ')"
log "commit: $(git -C "$REPO" log -1 --format='%h %s' 2>/dev/null | cut -c1-100 || echo '?')"
log "tacet:    $TACET_BIN (threads $THREADS, port $TACET_PORT, TLS min_version 1.3, upstream keepalive $POOL)"
log "nginx:    $NGINX_VERSION (workers $THREADS, port $NGINX_PORT, TLSv1.3, session cache and tickets off," \
    "$([ "$H2_STYLE" = directive ] && echo "'http2 on'" || echo "'listen ... ssl http2'"), upstream keepalive $POOL)"
[ "$H2O" = 1 ] && log "h2o:      $("$H2O_BIN" --version 2>&1 | head -n1 | awk '{print $3}') (num-threads $THREADS, port $H2O_PORT, TLSv1.3, file and proxy loads only)"
log "upstream: nginx $NGINX_VERSION, 1 worker, plain HTTP/1.1, return 200 \"hello, world\\n\" (port $UP_PORT, shared)"
log "cert:     ECDSA P-256, self-signed, CN=localhost, SAN DNS:localhost, IP:127.0.0.1 ($(openssl version | awk '{print $1, $2}'))"
log "h2load:   $(h2load --version 2>&1 | head -n1), -c $CONNS -m $STREAMS -t $CLIENT_THREADS -D $DURATION" \
    "$([ "$WARMUP" != 0 ] && echo "--warm-up-time $WARMUP"), rounds $ROUNDS, loads: $LOADS"
log "cpus:     $(nproc) online; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

start_upstream
start_tacet
start_nginx
[ "$H2O" = 1 ] && start_h2o

# Every path on both servers over HTTP/2 (curl negotiates h2 by ALPN): status, protocol, size.
log ""
log "== check (curl --http2): status, HTTP version, body bytes"
CHECK_FAILED=0
for s in $SERVERS; do
    line="   $s:"
    for l in hello file proxy; do
        runs_load "$s" "$l" || continue
        got="$(curl -sk --http2 -o /dev/null -w '%{http_code} %{http_version} %{size_download}' \
            "https://127.0.0.1:$(port_of "$s")$(path_of "$l")" || true)"
        line="$line  $(path_of "$l") $got;"
        case "$got" in "200 2 "*) ;; *) CHECK_FAILED=1 ;; esac
    done
    log "$line"
done
[ "$CHECK_FAILED" = 0 ] || die "a path did not answer 200 over HTTP/2 (see above)"

# ---------------------------------------------------------------- idle HTTP/2 connections
: >"$WORK/idle.tsv"
if [ "$IDLE" != 0 ]; then
    log ""
    log "== RSS with $IDLE idle HTTP/2 connections (handshake, SETTINGS both ways, one GET /hello on stream 1, then held open)"
    idle_test tacet idle_h2.py 3000
    idle_test nginx idle_h2.py 3000
    [ "$H2O" = 1 ] && idle_test h2o idle_h2.py 3000
    sleep 1    # let both servers see the closes before the load runs
fi

# ---------------------------------------------------------------- loads
# parse_h2load FILE -> "req/s req_mean_ms succeeded bad protocol uncounted"
# bad = failed + errored + timed out + 3xx, 4xx, 5xx answers (any other status fails the request).
# uncounted = succeeded requests in no status class: h2load counts a status only when its HEADERS
# arrive after the warm-up, but a stream when it closes; a response whose HEADERS came just before
# the end of the warm-up and its END_STREAM just after is "succeeded" without a status (at most
# the streams in flight then, clients x -m).
parse_h2load() {
    awk '
    function ms(v) {
        if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
        if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
        if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
        return v + 0
    }
    /^finished in / { rps = $4 }
    /^requests: / { gsub(",", ""); total = $2; ok = $8; bad += $10 + $12 + $14 }
    /^status codes: / { gsub(",", ""); two = $3; other = $5 + $7 + $9; bad += other }
    /^time for request:/ { req = ms($6) }
    /^Application protocol: / { proto = $3 }
    END {
        unc = ok - two - other; if (unc < 0) unc = 0
        printf "%s %s %d %d %s %d\n", rps ? rps : 0, req ? req : 0, ok, bad, proto ? proto : "?", unc
    }' "$1"
}

# One h2load run. With a warm-up, the server's and the upstream's CPU are read when it ends
# (h2load starts its warm-up timer as it starts, before connecting), so they cover the measured
# duration, as h2load's request count does.
run_load() { # server load round
    local s=$1 load=$2 r=$3 f="$WORK/$2.$1.$3.txt" c0 c1 u0 u1 tf="$WORK/time.$2.$1.$3" url parsed
    url="https://127.0.0.1:$(port_of "$s")$(path_of "$load")"
    if ! alive "$s"; then
        printf '%s\t%s\t%s\tdead\n' "$load" "$s" "$r" >>"$RESULTS"
        return
    fi
    local warm=()
    [ "$WARMUP" != 0 ] && warm=(--warm-up-time "$WARMUP")
    ( TIMEFORMAT='%U %S %R'
      time h2load -c "$CONNS" -m "$STREAMS" -t "$CLIENT_THREADS" -D "$DURATION" "${warm[@]}" \
          "$url" >"$f" 2>&1 ) 2>"$tf" &
    H2LOAD_PID=$!
    [ "$WARMUP" != 0 ] && sleep "$WARMUP"
    c0="$(cpu_ticks "$s")"; u0="$(up_ticks)"
    wait "$H2LOAD_PID" || true
    H2LOAD_PID=""
    c1="$(cpu_ticks "$s")"; u1="$(up_ticks)"
    read -r wu ws wr <"$tf" || { wu=0; ws=0; wr=0; }
    # rps req_ms ok bad proto; more uncounted successes than streams in flight are counted as bad
    parsed="$(parse_h2load "$f" | awk -v inflight=$((CONNS * STREAMS)) '{
        bad = $4 + ($6 > inflight ? $6 - inflight : 0)
        printf "%s\t%s\t%d\t%d\t%s\t%d", $1, $2, $3, bad, $5, $6 }')"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$load" "$s" "$r" "${parsed%	*}" \
        "$(ticks_to_s "$c0" "$c1")" "$(ticks_to_s "$u0" "$u1")" \
        "$(awk -v u="$wu" -v s="$ws" 'BEGIN{printf "%.2f", u + s}')" "$wr" >>"$RESULTS"
    alive "$s" || log "!! $s died during $load round $r"
    if [ "${parsed##*	}" != 0 ]; then
        log "   [$s $load r$r] ${parsed##*	} succeeded without a counted status" \
            "(HEADERS in the warm-up, END_STREAM after it; at most $((CONNS * STREAMS)) expected)"
    fi
    grep -E '^requests:|^status codes:' "$f" | grep -vE ' 0 failed, 0 errored, 0 timeout| 0 3xx, 0 4xx, 0 5xx' \
        | sed "s/^/   [$s $load r$r] /" || true
    grep -iE 'error|fail|abort|No protocol' "$f" | grep -vE '^requests:' | head -n 3 | sed "s/^/   [$s $load r$r] /" || true
}

log ""
log "== loads (interleaved: $SERVERS; $ROUNDS rounds each)"
for load in $LOADS; do
    for r in $(seq 1 "$ROUNDS"); do
        for s in $SERVERS; do runs_load "$s" "$load" && run_load "$s" "$load" "$r"; done
    done
    log "   done: $load"
done

# ---------------------------------------------------------------- report
log ""
python3 - "$RESULTS" "$WORK/idle.tsv" "$DURATION" "$IDLE" "$CONNS" "$STREAMS" "$CLIENT_THREADS" "$LOADS" <<'PY'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
idle = {l.split("\t")[0]: l.rstrip("\n").split("\t")[1:] for l in open(sys.argv[2]) if l.strip()}
duration, nidle, conns, streams, cthreads, loads = sys.argv[3:9]
loads = loads.split()
data, dead = {}, set()
for r in rows:
    load, srv, rnd = r[:3]
    if r[3] == "dead":
        dead.add((load, srv)); continue
    rps, lat, ok, bad, proto, cpu, ucpu, ccpu, wall = r[3:12]
    data.setdefault((load, srv), []).append(dict(
        rps=float(rps), lat=float(lat), reqs=int(ok), bad=int(bad), proto=proto,
        cpu=float(cpu), ucpu=float(ucpu), ccpu=float(ccpu), wall=float(wall)))
med = lambda runs, k: statistics.median([x[k] for x in runs]) if runs else float("nan")
fms = lambda v: "%.2f" % v if v < 10 else "%.1f" % v
def per_req(runs, k="cpu"):
    reqs = sum(x["reqs"] for x in runs)
    return "%.1f" % (1e6 * sum(x[k] for x in runs) / reqs) if reqs else "-"
def share(runs, k, wall):  # of one core, median over runs; wall = the interval the CPU was read over
    return statistics.median([x[k] / w for x in runs for w in [wall(x)] if w > 0] or [0])
dur_s = lambda x: x["reqs"] / x["rps"] if x["rps"] else 0   # h2load's measured duration

hdr = ("load", "tacet req/s", "nginx req/s", "ratio", "tacet ms", "nginx ms",
       "tacet us/req", "nginx us/req", "nginx/tacet cpu", "h2o req/s", "h2o us/req", "h2o/tacet cpu",
       "upstream us/req t/n", "client cpu")
names = {"hello": "/hello", "file": "1 KiB file", "proxy": "proxy /hello"}
table, warnings, shares = [], [], []
for load in [l for l in loads if any(k[0] == l for k in data)]:
    t, n, h = data.get((load, "tacet"), []), data.get((load, "nginx"), []), data.get((load, "h2o"), [])
    tr, nr = med(t, "rps"), med(n, "rps")
    cfrac = max([x["ccpu"] / x["wall"] for x in t + n + h if x["wall"] > 0] or [0])
    flag = ""
    for name, runs in (("tacet", t), ("nginx", n), ("h2o", h)):
        if not runs and name == "h2o": continue
        bad = sum(x["bad"] for x in runs)
        if bad:
            warnings.append("%s %s: %d failed + errored + timeout + non-2xx" % (name, load, bad)); flag = " !"
        if (load, name) in dead:
            warnings.append("%s %s: server was dead" % (name, load)); flag = " !"
        protos = {x["proto"] for x in runs}
        if protos - {"h2"}:
            warnings.append("%s %s: h2load's application protocol was %s, not h2" % (name, load, "/".join(sorted(protos))))
            flag = " !"
        shares.append("  %-13s %-5s server %3.0f%%  h2load %3.0f%%%s" % (
            names[load], name, 100 * share(runs, "cpu", dur_s), 100 * share(runs, "ccpu", lambda x: x["wall"]),
            ("  upstream %3.0f%%" % (100 * share(runs, "ucpu", dur_s))) if load == "proxy" else ""))
    if cfrac > 0.9 * int(cthreads):
        warnings.append("%s: h2load used %.0f%% of a core (-t %s): the client, not the server, may be the limit"
                        % (names[load], 100 * cfrac, cthreads))
    ratio = lambda a, b: "%.2f" % (float(a) / float(b)) if a != "-" and b != "-" and float(b) else "-"
    table.append((names[load] + flag, "%.0f" % tr, "%.0f" % nr, "%.2f" % (tr / nr) if nr else "-",
                  fms(med(t, "lat")), fms(med(n, "lat")), per_req(t), per_req(n), ratio(per_req(n), per_req(t)),
                  "%.0f" % med(h, "rps") if h else "-", per_req(h) if h else "-",
                  ratio(per_req(h), per_req(t)) if h else "-",
                  "%s / %s" % (per_req(t, "ucpu"), per_req(n, "ucpu")) if load == "proxy" else "-",
                  "%.0f%%" % (100 * cfrac)))
idle_per = {}
for name in ("tacet", "nginx", "h2o"):
    v = idle.get(name)
    if v and v[1] != "-" and int(v[2]) > 0:
        idle_per[name] = (int(v[1]) - int(v[0])) / int(v[2])
if nidle != "0":
    t, n = idle_per.get("tacet"), idle_per.get("nginx")
    hk = idle_per.get("h2o")
    table.append(("idle KiB/conn (%s)" % nidle, "%.1f" % t if t is not None else "-", "%.1f" % n if n is not None else "-",
                  "%.2f" % (t / n) if t is not None and n else "-", "-", "-", "-", "-", "-",
                  "%.1f" % hk if hk is not None else "-", "-", "-", "-", "-"))
if table:
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(hdr)]
    line = lambda cells: "  ".join(c.rjust(w) if i > 0 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print("== Results (median of rounds; HTTP/2 over TLS 1.3; h2load -c %s -m %s -t %s -D %s)"
          % (conns, streams, cthreads, duration))
    print(line(hdr)); print(line(["-" * w for w in widths]))
    for r in table: print(line(r))
    print()
    print("ratio = Tacet / nginx req/s (for idle KiB/conn, lower is better; h2o's KiB/conn in its req/s column).")
    print("nginx/tacet cpu, h2o/tacet cpu = their CPU per request over Tacet's (1.0 or more: Tacet costs no more).")
    print("ms = h2load's mean time per request")
    print("(no percentiles).  us/req = server CPU (user+sys, all threads/workers, nginx master included) per")
    print("request over the measured duration; upstream us/req = the shared upstream's, during Tacet's /")
    print("nginx's runs.  client cpu = highest share of one core used by h2load in any run of that row.")
    print()
    print("Share of one core during the runs, medians:")
    for s in shares: print(s)
    print()
    print("Per round (req/s, server CPU s):")
    order = {"tacet": 0, "nginx": 1, "h2o": 2}
    for (load, srv), runs in sorted(data.items(), key=lambda kv: (loads.index(kv[0][0]), order.get(kv[0][1], 3))):
        print("  %-13s %-5s  %s" % (names[load], srv, "  ".join("%.0f (%.1fs)" % (x["rps"], x["cpu"]) for x in runs)))
for w in warnings: print("WARNING: " + w)
PY

if [ "$IDLE" != 0 ]; then
    log ""
    log "== RSS with $IDLE idle HTTP/2 connections (VmRSS; nginx = sum over its $THREADS workers)"
    print_idle_table
fi

# ---------------------------------------------------------------- server health
log ""
kill -0 "$UP_PID" 2>/dev/null && log "upstream: still running" || log "!! upstream NOT running at the end"
if [ -s "$WORK/up/error.log" ]; then
    log "upstream error.log (last 10 lines):"; tail -n 10 "$WORK/up/error.log" | sed 's/^/   /'
fi
report_server_health
