#!/usr/bin/env bash
# Tacet's HTTP reverse proxy vs nginx's, both in front of the same upstream (one nginx worker
# answering `return 200 "hello\n"`): wrk throughput/latency, interleaved rounds, plus Tacet's
# peak memory for a 1 GiB download and a 1 GiB upload through the proxy.
# See bench/README.md. Usage: bench/proxy.sh [options]; --help lists them.
set -euo pipefail

THREADS=2
DURATION=10s
ROUNDS=3
CONNS="64 256"
WARMUP=2s
SIZE_MIB=1024
RUN_MEMORY=1
BUILD=1
TACET_BIN=""

usage() {
    cat <<EOF
Usage: bench/proxy.sh [options]
  --threads N       Tacet event-loop threads and nginx proxy workers (default $THREADS)
  --duration D      wrk duration per run, e.g. 10s, 5s (default $DURATION)
  --rounds R        interleaved rounds; the table shows medians; 0 = memory test only (default $ROUNDS)
  --conns "A B"     wrk connection counts (default "$CONNS")
  --warmup D        wrk warm-up per proxy before measuring, 0 to skip (default $WARMUP)
  --size MIB        size of the upload and download for the memory test (default $SIZE_MIB)
  --no-memory       skip the 1 GiB upload/download memory test
  --no-build        do not run 'swift build'; use the existing release binary
  --tacet-bin PATH  use this tacet binary (implies --no-build)
Output is also written to bench/results/proxy-latest.txt.
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --threads) THREADS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --conns) CONNS="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --size) SIZE_MIB="$2"; shift 2 ;;
        --no-memory) RUN_MEMORY=0; shift ;;
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
OUT="$BENCH_DIR/results/proxy-latest.txt"
exec > >(tee "$OUT") 2>&1

install_missing wrk nginx curl python3
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[ -z "$TACET_BIN" ] && TACET_BIN="$REPO/.build/release/tacet"
[ "$BUILD" = 1 ] && build_tacet "$REPO" "$BENCH_DIR/results/build.log"
[ -x "$TACET_BIN" ] || die "no tacet binary at $TACET_BIN (build it or pass --tacet-bin)"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE="$(ulimit -n)"; [ "$NOFILE" = unlimited ] && NOFILE=1048576

# ---------------------------------------------------------------- setup
WORK="$(mktemp -d /tmp/tacet-proxy-bench.XXXXXX)"
chmod 755 "$WORK"
mkdir -p "$WORK/www" "$WORK/up" "$WORK/nginx"
SIZE=$((SIZE_MIB * 1024 * 1024))
truncate -s "$SIZE" "$WORK/www/big.bin"          # sparse: costs no disk
cat "$WORK/www/big.bin" >/dev/null               # warm: the first read of a sparse file is slow
chmod -R a+rX "$WORK/www"
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

ports=()
while [ ${#ports[@]} -lt 5 ]; do
    p="$(free_port)"
    case " ${ports[*]-} " in *" $p "*) ;; *) ports+=("$p") ;; esac
done
UP_PORT=${ports[0]}; SINK_PORT=${ports[1]}; TACET_PORT=${ports[2]}; NGINX_PORT=${ports[3]}; TMEM_PORT=${ports[4]}

UP_PID=""; SINK_PID=""; TACET_PID=""; NGINX_PID=""; TMEM_PID=""
cleanup() {
    local rc=$? p
    for p in $TMEM_PID $TACET_PID $NGINX_PID $UP_PID $SINK_PID; do kill "$p" 2>/dev/null || true; done
    sleep 0.3
    for p in $TMEM_PID $TACET_PID $NGINX_PID $UP_PID $SINK_PID; do kill -9 "$p" 2>/dev/null || true; done
    if [ -n "${KEEP_WORK:-}" ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# The common upstream: one nginx worker, a fixed 6-byte answer, and the sparse file.
cat >"$WORK/up/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $WORK/up/nginx.pid;
error_log $WORK/up/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
$(temp_paths "$WORK/up")
    sendfile on;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server {
        listen 127.0.0.1:$UP_PORT;
        location = /big.bin { root $WORK/www; }
        location / { default_type text/plain; return 200 "hello\n"; }
    }
}
EOF

cat >"$WORK/tacet.yaml" <<EOF
listen: ["127.0.0.1:$TACET_PORT"]
access_log: off
keepalive_requests: 10000
max_connections: 20000
routes:
  - match: { path: / }
    proxy: { upstream: app }
upstreams:
  app: { servers: ["127.0.0.1:$UP_PORT"], keepalive: 512 }
EOF

# A second Tacet, started fresh for the memory test: downloads from the upstream nginx,
# uploads to the sink (which reads whole bodies).
cat >"$WORK/tacet-mem.yaml" <<EOF
listen: ["127.0.0.1:$TMEM_PORT"]
access_log: off
max_body_size: 2g
routes:
  - match: { path: /upload }
    proxy: { upstream: sink }
  - match: { path: / }
    proxy: { upstream: app }
upstreams:
  app: { servers: ["127.0.0.1:$UP_PORT"], keepalive: 16 }
  sink: { servers: ["127.0.0.1:$SINK_PORT"], keepalive: 16 }
EOF

# nginx as the proxy: as many workers as Tacet has threads, upstream keep-alive above the load's
# concurrency (per worker), HTTP/1.1 to the upstream, no access log.
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes $THREADS;
worker_rlimit_nofile $NOFILE;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
$(temp_paths "$WORK/nginx")
    keepalive_requests 10000;
    keepalive_timeout 75s;
    upstream app {
        server 127.0.0.1:$UP_PORT;
        keepalive 512;
        keepalive_requests 1000000;
        keepalive_timeout 300s;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF

wait_ready() { # port pid path
    local i
    for i in $(seq 1 300); do
        kill -0 "$2" 2>/dev/null || return 1
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1${3:-/}" || true)" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}

"$NGINX" -c "$WORK/up/nginx.conf" -p "$WORK/up" -g 'daemon off;' >"$WORK/up.stdout" 2>&1 &
UP_PID=$!
wait_ready "$UP_PORT" "$UP_PID" || { cat "$WORK/up/error.log"; die "upstream nginx did not start"; }
"$TACET_BIN" serve --config "$WORK/tacet.yaml" --threads "$THREADS" --log-level warning \
    >"$WORK/tacet.stdout" 2>"$WORK/tacet.stderr" &
TACET_PID=$!
wait_ready "$TACET_PORT" "$TACET_PID" || { cat "$WORK/tacet.stderr"; die "tacet did not start"; }
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' >"$WORK/nginx.stdout" 2>&1 &
NGINX_PID=$!
wait_ready "$NGINX_PORT" "$NGINX_PID" || { cat "$WORK/nginx/error.log"; die "nginx did not start"; }

port_of() { if [ "$1" = tacet ]; then echo "$TACET_PORT"; else echo "$NGINX_PORT"; fi; }
proxy_pids() { if [ "$1" = tacet ]; then echo "$TACET_PID"; else nginx_pids "$NGINX_PID"; fi; }
alive() { if [ "$1" = tacet ]; then kill -0 "$TACET_PID" 2>/dev/null; else kill -0 "$NGINX_PID" 2>/dev/null; fi; }

log "== Tacet proxy vs nginx proxy: $(date -u '+%Y-%m-%d %H:%M:%SZ')"
log "commit:   $(git -C "$REPO" log -1 --format='%h %s' 2>/dev/null || echo '?')"
log "tacet:    $TACET_BIN (threads $THREADS, upstream keepalive 512)"
log "nginx:    $("$NGINX" -v 2>&1 | sed 's/.*: //') (workers $THREADS, upstream keepalive 512 per worker, HTTP/1.1)"
log "upstream: nginx, 1 worker, return 200 \"hello\\n\" (shared by both proxies)"
log "wrk:      $(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}'), -t1, duration $DURATION, rounds $ROUNDS, connections: $CONNS"
log "cpus:     $(nproc) online; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
log "NOTE:     wrk, the upstream and the proxy under test all share these $(nproc) cores: the"
log "          figures compare the proxies under the same handicap, not their capacity."
log ""
for s in tacet nginx; do
    log "-- $s: GET /"
    curl -s -D - -o /dev/null "http://127.0.0.1:$(port_of $s)/" | tr -d '\r' | sed 's/^/   /'
done

# ---------------------------------------------------------------- memory: 1 GiB each way
MEM_LINES=()
if [ "$RUN_MEMORY" = 1 ]; then
    python3 "$BENCH_DIR/sink.py" "$SINK_PORT" >"$WORK/sink.log" 2>&1 &
    SINK_PID=$!
    "$TACET_BIN" serve --config "$WORK/tacet-mem.yaml" --threads "$THREADS" --log-level warning \
        >"$WORK/tacet-mem.stdout" 2>"$WORK/tacet-mem.stderr" &
    TMEM_PID=$!
    wait_ready "$TMEM_PORT" "$TMEM_PID" /hello || { cat "$WORK/tacet-mem.stderr"; die "tacet (memory) did not start"; }
    kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$TMEM_PID/status"; }
    log ""
    log "== memory: $SIZE_MIB MiB through a fresh Tacet proxy (threads $THREADS), one transfer at a time"
    MEM_LINES+=("start (after one small request)	$(kib VmHWM)	$(kib VmRSS)	-	-")
    for what in download upload; do
        echo 5 >"/proc/$TMEM_PID/clear_refs" 2>/dev/null || true   # reset VmHWM to the current RSS
        hwm0="$(kib VmHWM)"
        if [ "$what" = download ]; then
            res="$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
                "http://127.0.0.1:$TMEM_PORT/big.bin" || echo "000 0 0")"
        else
            res="$(curl -s -o "$WORK/upload.out" -w '%{http_code} %{size_upload} %{time_total}' \
                -T "$WORK/www/big.bin" "http://127.0.0.1:$TMEM_PORT/upload" || echo "000 0 0")"
            sink_got="$(cat "$WORK/upload.out" 2>/dev/null || echo '?')"
            [ "$sink_got" = "$SIZE" ] || log "   !! the sink received $sink_got bytes, expected $SIZE"
        fi
        read -r code bytes secs <<<"$res"
        [ "$code" = 200 ] && [ "$bytes" = "$SIZE" ] || log "   !! $what: HTTP $code, $bytes bytes"
        mbs="$(awk -v b="$bytes" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", b / 1e6 / s; else print "-" }')"
        MEM_LINES+=("$what $SIZE_MIB MiB (HTTP $code)	$(kib VmHWM)	$(kib VmRSS)	$hwm0	$mbs")
    done
    kill "$TMEM_PID" 2>/dev/null || true; wait "$TMEM_PID" 2>/dev/null || true; TMEM_PID=""
    kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=""
fi

# ---------------------------------------------------------------- wrk runs
run_wrk() { # server conns round
    local s=$1 c=$2 r=$3 f="$WORK/wrk.$1.$2.$3.txt" tf="$WORK/time.txt" c0 u0 c1 u1
    if ! alive "$s"; then printf 'proxy\t%s\t%s\t%s\tdead\n' "$c" "$s" "$r" >>"$RESULTS"; return; fi
    c0="$(pids_cpu_ticks $(proxy_pids "$s"))"; u0="$(pids_cpu_ticks $(nginx_pids "$UP_PID"))"
    local TIMEFORMAT='%U %S %R'
    { time wrk -t1 -c"$c" -d"$DURATION" --latency "http://127.0.0.1:$(port_of "$s")/" >"$f" 2>&1 ; } 2>"$tf" || true
    c1="$(pids_cpu_ticks $(proxy_pids "$s"))"; u1="$(pids_cpu_ticks $(nginx_pids "$UP_PID"))"
    read -r wu ws wr <"$tf"
    printf 'proxy\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$s" "$r" "$(parse_wrk "$f" | tr ' ' '\t')" \
        "$(ticks_to_s "$c0" "$c1")" "$(awk -v u="$wu" -v s="$ws" 'BEGIN{printf "%.2f", u + s}')" "$wr" \
        "$(ticks_to_s "$u0" "$u1")" >>"$RESULTS"
    alive "$s" || log "!! $s died during c=$c round $r"
    grep -iE 'Non-2xx|Socket errors|error' "$f" | sed "s/^ */   [$s c=$c r$r] /" || true
}

if [ "$WARMUP" != 0 ] && [ "$WARMUP" != 0s ]; then
    for s in tacet nginx; do wrk -t1 -c64 -d"$WARMUP" "http://127.0.0.1:$(port_of $s)/" >/dev/null 2>&1 || true; done
fi
log ""
log "== wrk runs (interleaved: tacet, nginx; $ROUNDS rounds each)"
for c in $CONNS; do
    for r in $(seq 1 "$ROUNDS"); do
        for s in tacet nginx; do run_wrk "$s" "$c" "$r"; done
    done
    log "   done: c=$c"
done

# ---------------------------------------------------------------- report
log ""
[ -s "$RESULTS" ] && python3 - "$RESULTS" "$DURATION" "$(nproc)" <<'PY'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
data, dead = {}, set()
for r in rows:
    scen, conns, srv, rnd = r[:4]
    if r[4] == "dead":
        dead.add((conns, srv)); continue
    rps, p50, p99, non2xx, sock, reqs, cpu, wrkcpu, wall, upcpu = r[4:14]
    data.setdefault((int(conns), srv), []).append(dict(
        rps=float(rps), p50=float(p50), p99=float(p99), non2xx=int(non2xx), sock=int(sock),
        reqs=int(reqs), cpu=float(cpu), wrkcpu=float(wrkcpu), wall=float(wall), upcpu=float(upcpu)))
med = lambda runs, k: statistics.median([x[k] for x in runs]) if runs else float("nan")
fms = lambda v: "%.2f" % v if v < 10 else "%.1f" % v
def per_req(runs, k):
    reqs = sum(x["reqs"] for x in runs)
    return "%.1f" % (1e6 * sum(x[k] for x in runs) / reqs) if reqs else "-"
def share(runs, k):  # share of the whole machine, median over runs
    return statistics.median([x[k] / x["wall"] / ncpu for x in runs if x["wall"] > 0] or [0])
ncpu = int(sys.argv[3])
hdr = ("scenario", "conns", "tacet req/s", "nginx req/s", "ratio", "tacet p50/p99 ms", "nginx p50/p99 ms",
       "tacet us/req", "nginx us/req", "upstream us/req t/n", "wrk cpu")
table, warnings, shares = [], [], []
for conns in sorted({k[0] for k in data}):
    t, n = data.get((conns, "tacet"), []), data.get((conns, "nginx"), [])
    tr, nr = med(t, "rps"), med(n, "rps")
    wrk_frac = max([x["wrkcpu"] / x["wall"] for x in t + n if x["wall"] > 0] or [0])
    flag = ""
    for name, runs in (("tacet", t), ("nginx", n)):
        bad = sum(x["non2xx"] for x in runs); se = sum(x["sock"] for x in runs)
        if bad: warnings.append("%s c=%d: %d non-2xx/3xx responses" % (name, conns, bad)); flag = " !"
        if se: warnings.append("%s c=%d: %d socket errors" % (name, conns, se)); flag = " !"
        if (str(conns), name) in dead: warnings.append("%s c=%d: proxy was dead" % (name, conns)); flag = " !"
        shares.append("  c=%-4d %-5s proxy %3.0f%%  upstream %3.0f%%  wrk %3.0f%%" % (
            conns, name, 100 * share(runs, "cpu"), 100 * share(runs, "upcpu"), 100 * share(runs, "wrkcpu")))
    if wrk_frac > 0.9:
        warnings.append("c=%d: wrk used %.0f%% of a core: the load generator may be the limit" % (conns, 100 * wrk_frac))
    table.append(("proxy" + flag, str(conns), "%.0f" % tr, "%.0f" % nr, "%.2f" % (tr / nr) if nr else "-",
                  "%s / %s" % (fms(med(t, "p50")), fms(med(t, "p99"))),
                  "%s / %s" % (fms(med(n, "p50")), fms(med(n, "p99"))),
                  per_req(t, "cpu"), per_req(n, "cpu"),
                  "%s / %s" % (per_req(t, "upcpu"), per_req(n, "upcpu")), "%.0f%%" % (100 * wrk_frac)))
widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(hdr)]
line = lambda cells: "  ".join(c.rjust(w) if i > 0 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
print("== Results (median of rounds; wrk -t1 -d%s; GET / proxied to the upstream's 6-byte 200)" % sys.argv[2])
print(line(hdr)); print(line(["-" * w for w in widths]))
for r in table: print(line(r))
print()
print("ratio = Tacet req/s / nginx req/s.  us/req = CPU (user+sys, all threads/workers) per request:")
print("the proxy's, and the upstream's during Tacet's / nginx's runs.  wrk cpu = highest share of one core.")
print()
print("Share of the machine (%d cores) during the runs, medians:" % ncpu)
for s in shares: print(s)
print()
print("Per round (req/s, proxy CPU s, upstream CPU s):")
for (conns, srv), runs in sorted(data.items(), key=lambda kv: (kv[0][0], kv[0][1] != "tacet")):
    print("  c=%-4d %-5s  %s" % (conns, srv, "  ".join("%.0f (%.1fs, %.1fs)" % (x["rps"], x["cpu"], x["upcpu"]) for x in runs)))
for w in warnings: print("WARNING: " + w)
PY

if [ "$RUN_MEMORY" = 1 ]; then
    log ""
    log "== Tacet memory through the proxy (VmHWM = peak RSS; reset before each transfer)"
    printf '%-36s %12s %12s %14s %8s\n' "" "peak MiB" "RSS MiB" "RSS before" "MB/s"
    for l in "${MEM_LINES[@]}"; do
        IFS=$'\t' read -r what hwm rss before mbs <<<"$l"
        mib() { [ "$1" = - ] && echo - || awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
        printf '%-36s %12s %12s %14s %8s\n' "$what" "$(mib "$hwm")" "$(mib "$rss")" "$(mib "$before")" "$mbs"
    done
fi

log ""
for s in tacet nginx; do alive "$s" && log "$s: still running" || log "!! $s: NOT running at the end"; done
kill -0 "$UP_PID" 2>/dev/null && log "upstream: still running" || log "!! upstream NOT running at the end"
if [ -s "$WORK/tacet.stderr" ]; then log "tacet stderr (last 10 lines):"; tail -n 10 "$WORK/tacet.stderr" | sed 's/^/   /'; fi
if [ -s "$WORK/nginx/error.log" ]; then log "nginx error.log (last 10 lines):"; tail -n 10 "$WORK/nginx/error.log" | sed 's/^/   /'; fi
if [ -s "$WORK/up/error.log" ]; then log "upstream error.log (last 10 lines):"; tail -n 10 "$WORK/up/error.log" | sed 's/^/   /'; fi
log "written to $OUT"
