#!/usr/bin/env bash
# Tacet's TCP stream proxy vs nginx's stream module (proxy_half_close on), same number of
# threads/workers, on loopback: 1 GiB through each (one way, then both ways at once: MB/s and
# the proxy's CPU seconds) and short connections per second. Usage: bench/stream.sh [options].
set -euo pipefail

THREADS=2
ROUNDS=3
SIZE_MIB=1024
SHORT_SECONDS=5
SHORT_CLIENTS=32
BUILD=1
TACET_BIN=""
BASE_BIN=""

usage() {
    cat <<EOF
Usage: bench/stream.sh [options]
  --threads N       Tacet event-loop threads and nginx workers (default $THREADS)
  --rounds R        rounds per scenario, interleaved; the table shows medians (default $ROUNDS)
  --size MIB        bytes per bulk transfer, in MiB (default $SIZE_MIB)
  --short-seconds S duration of the short-connection runs (default $SHORT_SECONDS)
  --clients C       concurrent short-connection clients (default $SHORT_CLIENTS)
  --no-build        do not run 'swift build'; use the existing release binary
  --tacet-bin PATH  use this tacet binary (implies --no-build)
  --baseline-bin P  also run this (older) tacet binary, interleaved, and compare it with the first
Output is also written to bench/results/stream-latest.txt.
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --threads) THREADS="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --size) SIZE_MIB="$2"; shift 2 ;;
        --short-seconds) SHORT_SECONDS="$2"; shift 2 ;;
        --clients) SHORT_CLIENTS="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --tacet-bin) TACET_BIN="$2"; BUILD=0; shift 2 ;;
        --baseline-bin) BASE_BIN="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/stream-latest.txt"
exec > >(tee "$OUT") 2>&1

# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

# ---------------------------------------------------------------- prerequisites
install_missing nginx gcc python3
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || install_missing libnginx-mod-stream
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

[ -z "$TACET_BIN" ] && TACET_BIN="$REPO/.build/release/tacet"
[ "$BUILD" = 1 ] && build_tacet "$REPO" "$BENCH_DIR/results/build.log"
[ -x "$TACET_BIN" ] || die "no tacet binary at $TACET_BIN (build it or pass --tacet-bin)"

WORK="$(mktemp -d /tmp/tacet-stream-bench.XXXXXX)"
chmod 755 "$WORK"
LOAD="$WORK/streamload"
gcc -O2 -pthread -o "$LOAD" "$BENCH_DIR/streamload.c" || die "could not build streamload"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE="$(ulimit -n)"; [ "$NOFILE" = unlimited ] && NOFILE=1048576

ports=()
while [ ${#ports[@]} -lt 8 ]; do
    p="$(free_port)"
    case " ${ports[*]-} " in *" $p "*) ;; *) ports+=("$p") ;; esac
done
BULK_BACKEND=${ports[0]}; SHORT_BACKEND=${ports[1]}
TACET_BULK=${ports[2]}; TACET_SHORT=${ports[3]}
NGINX_BULK=${ports[4]}; NGINX_SHORT=${ports[5]}
BASE_BULK=${ports[6]}; BASE_SHORT=${ports[7]}
SERVERS="tacet nginx"
[ -n "$BASE_BIN" ] && SERVERS="tacet nginx base"
SIZE=$((SIZE_MIB * 1024 * 1024))

PIDS=()
TACET_PID=""; NGINX_PID=""; BASE_PID=""
cleanup() {
    local rc=$? p
    for p in "${PIDS[@]}" $TACET_PID $NGINX_PID $BASE_PID; do kill "$p" 2>/dev/null || true; done
    sleep 0.3
    for p in "${PIDS[@]}" $TACET_PID $NGINX_PID $BASE_PID; do kill -9 "$p" 2>/dev/null || true; done
    if [ -n "${KEEP_WORK:-}" ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Backends: one sends SIZE bytes per connection (and reads whatever comes), one answers 4 bytes.
"$LOAD" backend "$BULK_BACKEND" "$SIZE" & PIDS+=($!)
"$LOAD" backend "$SHORT_BACKEND" 4 & PIDS+=($!)

cat >"$WORK/tacet.yaml" <<EOF
access_log: off
streams:
  - { listen: "127.0.0.1:$TACET_BULK", to: "127.0.0.1:$BULK_BACKEND" }
  - { listen: "127.0.0.1:$TACET_SHORT", to: "127.0.0.1:$SHORT_BACKEND" }
EOF
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes $THREADS;
worker_rlimit_nofile $NOFILE;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 20000; }
stream {
    proxy_half_close on;
    server { listen 127.0.0.1:$NGINX_BULK; proxy_pass 127.0.0.1:$BULK_BACKEND; }
    server { listen 127.0.0.1:$NGINX_SHORT; proxy_pass 127.0.0.1:$SHORT_BACKEND; }
}
EOF

"$TACET_BIN" serve --config "$WORK/tacet.yaml" --threads "$THREADS" --log-level warning \
    >"$WORK/tacet.stdout" 2>"$WORK/tacet.stderr" &
TACET_PID=$!
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' >"$WORK/nginx.stdout" 2>&1 &
NGINX_PID=$!
if [ -n "$BASE_BIN" ]; then
    sed -e "s/:$TACET_BULK\"/:$BASE_BULK\"/" -e "s/:$TACET_SHORT\"/:$BASE_SHORT\"/" "$WORK/tacet.yaml" >"$WORK/base.yaml"
    "$BASE_BIN" serve --config "$WORK/base.yaml" --threads "$THREADS" --log-level warning \
        >"$WORK/base.stdout" 2>"$WORK/base.stderr" &
    BASE_PID=$!
fi

wait_port() { # port pid
    local i
    for i in $(seq 1 100); do
        kill -0 "$2" 2>/dev/null || return 1
        python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),1).close()" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# Probe the short listeners: both proxies bind all their listeners before accepting.
wait_port "$TACET_SHORT" "$TACET_PID" || { cat "$WORK/tacet.stderr"; die "tacet did not start"; }
wait_port "$NGINX_SHORT" "$NGINX_PID" || { cat "$WORK/nginx/error.log"; die "nginx did not start"; }
if [ -n "$BASE_BIN" ]; then
    wait_port "$BASE_SHORT" "$BASE_PID" || { cat "$WORK/base.stderr"; die "baseline tacet did not start"; }
fi

server_pids() {
    if [ "$1" = tacet ]; then echo "$TACET_PID"; elif [ "$1" = base ]; then echo "$BASE_PID"; else nginx_pids "$NGINX_PID"; fi
}
cpu_ticks() { pids_cpu_ticks $(server_pids "$1"); }
rss_kib() { pids_rss_kib $(server_pids "$1"); }
port_of() { # server scenario
    case "$1.$2" in
        tacet.short) echo "$TACET_SHORT" ;; tacet.*) echo "$TACET_BULK" ;;
        base.short) echo "$BASE_SHORT" ;; base.*) echo "$BASE_BULK" ;;
        nginx.short) echo "$NGINX_SHORT" ;; *) echo "$NGINX_BULK" ;;
    esac
}

log "== Tacet stream vs nginx stream (proxy_half_close on): $(date -u '+%Y-%m-%d %H:%M:%SZ')"
log "commit: $(git -C "$REPO" log -1 --format='%h %s' 2>/dev/null || echo '?')"
log "tacet:  $TACET_BIN (threads $THREADS)"
[ -n "$BASE_BIN" ] && log "base:   $BASE_BIN (threads $THREADS; interleaved with the two others)"
log "nginx:  $("$NGINX" -v 2>&1 | sed 's/.*: //') (workers $THREADS)"
log "bulk:   $SIZE_MIB MiB per direction; short: $SHORT_CLIENTS clients for ${SHORT_SECONDS}s ('ping' + FIN, 'pong' + FIN)"
log "cpus:   $(nproc) online; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
log ""

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
run() { # server scenario round
    local s=$1 scen=$2 r=$3 port c0 c1 line value rss cpu secs
    port="$(port_of "$s" "$scen")"
    c0="$(cpu_ticks "$s")"
    case "$scen" in
        down) line="$("$LOAD" bulk 127.0.0.1 "$port" 0 "$SIZE" || true)" ;;
        both) line="$("$LOAD" bulk 127.0.0.1 "$port" "$SIZE" "$SIZE" || true)" ;;
        short) line="$("$LOAD" short 127.0.0.1 "$port" "$SHORT_CLIENTS" "$SHORT_SECONDS" || true)" ;;
    esac
    c1="$(cpu_ticks "$s")"
    rss="$(rss_kib "$s")"
    cpu="$(ticks_to_s "$c0" "$c1")"
    secs="$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")"
    case "$scen" in
        down) value="$(awk -v s="$secs" -v n="$SIZE" 'BEGIN { printf "%.0f", n / 1e6 / s }')" ;;
        both) value="$(awk -v s="$secs" -v n="$SIZE" 'BEGIN { printf "%.0f", 2 * n / 1e6 / s }')" ;;
        short) value="$(sed -n 's/.*conns=\([0-9]*\).*/\1/p' <<<"$line" | awk -v s="$secs" '{ printf "%.0f", $1 / s }')" ;;
    esac
    if [ -z "$secs" ] || ! grep -qE 'error=0|errors=0' <<<"$line"; then
        log "   !! $s $scen r$r: $line"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$scen" "$s" "$r" "${value:-0}" "$cpu" "$rss" >>"$RESULTS"
}

for scen in down both short; do
    for r in $(seq 1 "$ROUNDS"); do
        for s in $SERVERS; do run "$s" "$scen" "$r"; done
    done
    log "   done: $scen"
done

log ""
python3 - "$RESULTS" "$SHORT_SECONDS" <<'PY'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
data = {}
for scen, srv, rnd, value, cpu, rss in rows:
    data.setdefault((scen, srv), []).append((float(value), float(cpu), int(rss)))
units = {"down": "MB/s", "both": "MB/s (sum)", "short": "conn/s"}
print("%-6s %-11s %10s %10s %7s %12s %12s %12s %12s" % ("scen", "unit", "tacet", "nginx", "ratio",
      "tacet cpu s", "nginx cpu s", "tacet RSS", "nginx RSS"))
for scen in ("down", "both", "short"):
    t, n = data.get((scen, "tacet"), []), data.get((scen, "nginx"), [])
    if not t or not n: continue
    tv, nv = statistics.median(x[0] for x in t), statistics.median(x[0] for x in n)
    tc, nc = statistics.median(x[1] for x in t), statistics.median(x[1] for x in n)
    tr, nr = max(x[2] for x in t), max(x[2] for x in n)
    print("%-6s %-11s %10.0f %10.0f %7.2f %12.2f %12.2f %10d K %10d K" % (
        scen, units[scen], tv, nv, tv / nv if nv else 0, tc, nc, tr, nr))
t, n = data.get(("short", "tacet"), []), data.get(("short", "nginx"), [])
if t and n:
    secs = float(sys.argv[2])
    per = lambda runs: 1e6 * sum(c for _, c, _ in runs) / sum(v * secs for v, _, _ in runs)
    print("short: proxy CPU per connection: tacet %.0f us, nginx %.0f us" % (per(t), per(n)))
b = {scen: data.get((scen, "base"), []) for scen in ("down", "both", "short")}
if any(b.values()):
    print()
    print("baseline (--baseline-bin), same rounds:")
    for scen in ("down", "both", "short"):
        t, base, n = data.get((scen, "tacet"), []), b[scen], data.get((scen, "nginx"), [])
        if not t or not base: continue
        tv, bv = statistics.median(x[0] for x in t), statistics.median(x[0] for x in base)
        nv = statistics.median(x[0] for x in n) if n else 0
        line = "  %-6s %-11s baseline %8.0f  tacet %8.0f  (x%.2f)  ratio to nginx %.2f -> %.2f" % (
            scen, units[scen], bv, tv, tv / bv if bv else 0, bv / nv if nv else 0, tv / nv if nv else 0)
        if scen == "short":
            line += ";  CPU per connection %.0f -> %.0f us" % (per(base), per(t))
        print(line)
print()
print("down = 1 transfer backend->client; both = both directions at once (MB/s counts both);")
print("short = connections per second ('ping', FIN, 'pong', FIN). Medians over rounds.")
print("cpu s = the proxy's user+sys CPU per run (nginx: master + workers); RSS after the runs.")
print("Per round (value, cpu s):")
for (scen, srv), runs in sorted(data.items()):
    print("  %-5s %-5s %s" % (scen, srv, "  ".join("%.0f (%.2fs)" % (v, c) for v, c, _ in runs)))
PY

log ""
kill -0 "$TACET_PID" 2>/dev/null && log "tacet: still running" || log "!! tacet died"
kill -0 "$NGINX_PID" 2>/dev/null && log "nginx: still running" || log "!! nginx died"
if [ -n "$BASE_BIN" ]; then kill -0 "$BASE_PID" 2>/dev/null && log "base: still running" || log "!! base died"; fi
if [ -s "$WORK/tacet.stderr" ]; then log "tacet stderr (last 10 lines):"; tail -n 10 "$WORK/tacet.stderr" | sed 's/^/   /'; fi
if [ -s "$WORK/nginx/error.log" ]; then log "nginx error.log (last 10 lines):"; tail -n 10 "$WORK/nginx/error.log" | sed 's/^/   /'; fi
log "written to $OUT"
