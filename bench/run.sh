#!/usr/bin/env bash
# Tacet vs nginx: throughput/latency with wrk, and memory per idle keep-alive connection.
# See bench/README.md. Usage: bench/run.sh [options]; --help lists them.
# One thread/worker by default: wrk needs a core of its own, and on a 2-core machine a second
# server thread competes with it (bench/README.md, "Threads"). --threads 2 measures that too.
set -euo pipefail

THREADS=1
SCHEDULING=normal
# nginx's default, and its best for small files here: 1 KiB at 122k req/s against 102k with
# sendfile on (one worker, wrk -t1 -c64). Tacet reads files up to 16 KiB into its buffer either way.
NGINX_SENDFILE=off
DURATION=10s
ROUNDS=3
CONNS="64 256"
IDLE=5000
BUILD=1
RUN_IDLE=1
WARMUP=2s
TACET_BIN=""

usage() {
    cat <<EOF
Usage: bench/run.sh [options]
  --threads N       Tacet event-loop threads and nginx workers (default $THREADS)
  --scheduling M    Tacet's event-loop scheduling: normal or batch (default $SCHEDULING)
  --nginx-sendfile S  nginx's sendfile: off (its default and best for small files) or on (default $NGINX_SENDFILE)
  --duration D      wrk duration per run, e.g. 10s, 5s (default $DURATION)
  --rounds R        interleaved rounds per scenario; the table shows medians (default $ROUNDS)
  --conns "A B"     wrk connection counts (default "$CONNS")
  --idle N          idle keep-alive connections for the RSS test, 0 to skip (default $IDLE)
  --warmup D        wrk warm-up per server before measuring, 0 to skip (default $WARMUP)
  --no-build        do not run 'swift build'; use the existing release binary
  --tacet-bin PATH  use this tacet binary (implies --no-build)
Output is also written to bench/results/latest.txt.
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --threads) THREADS="$2"; shift 2 ;;
        --scheduling) SCHEDULING="$2"; shift 2 ;;
        --nginx-sendfile) NGINX_SENDFILE="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --conns) CONNS="$2"; shift 2 ;;
        --idle) IDLE="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --tacet-bin) TACET_BIN="$2"; BUILD=0; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done
[ "$IDLE" = 0 ] && RUN_IDLE=0

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/latest.txt"
exec > >(tee "$OUT") 2>&1

# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

# ---------------------------------------------------------------- prerequisites
install_missing wrk nginx curl python3
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

[ -z "$TACET_BIN" ] && TACET_BIN="$REPO/.build/release/tacet"
[ "$BUILD" = 1 ] && build_tacet "$REPO" "$BENCH_DIR/results/build.log"
[ -x "$TACET_BIN" ] || die "no tacet binary at $TACET_BIN (build it or pass --tacet-bin)"

# Enough descriptors for the idle test plus wrk for every process started below.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE="$(ulimit -n)"
[ "$NOFILE" = unlimited ] && NOFILE=1048576
NGINX_CONNS=$(( NOFILE < 20000 ? NOFILE : 20000 ))
if [ "$RUN_IDLE" = 1 ] && [ "$NOFILE" -lt $((IDLE + 1000)) ]; then
    log "warning: ulimit -n is $(ulimit -n); the idle test with $IDLE connections may fail"
fi

# ---------------------------------------------------------------- setup
WORK="$(mktemp -d /tmp/tacet-bench.XXXXXX)"
chmod 755 "$WORK"          # nginx workers run as 'nobody' and must reach www/
WWW="$WORK/www"
mkdir -p "$WWW" "$WORK/nginx"
head -c 1024 /dev/urandom | base64 -w 64 | head -c 1024 >"$WWW/1k.txt"
[ "$(stat -c %s "$WWW/1k.txt")" = 1024 ] || die "could not make the 1 KiB file"
chmod -R a+rX "$WWW"
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

TACET_PORT="$(free_port)"
NGINX_PORT="$(free_port)"
while [ "$NGINX_PORT" = "$TACET_PORT" ]; do NGINX_PORT="$(free_port)"; done

TACET_PID=""
NGINX_PID=""
IDLE_PID=""
cleanup() {
    local rc=$?
    [ -n "$IDLE_PID" ] && kill "$IDLE_PID" 2>/dev/null || true
    [ -n "$TACET_PID" ] && kill "$TACET_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
    sleep 0.3
    [ -n "$TACET_PID" ] && kill -9 "$TACET_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill -9 "$NGINX_PID" 2>/dev/null || true
    if [ -n "${KEEP_WORK:-}" ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$WORK/tacet.yaml" <<EOF
listen: ["127.0.0.1:$TACET_PORT"]
access_log: off
keepalive_requests: 10000
max_connections: 20000
routes:
  - match: { path: /fixed }
    respond: { status: 200, body: "hello, world\n" }
  - match: { path: / }
    static: { root: $WWW }
EOF

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
    sendfile $NGINX_SENDFILE;
    keepalive_requests 10000;
    keepalive_timeout 75s;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /fixed {
            default_type text/plain;
            return 200 "hello, world\n";
        }
        location / {
            root $WWW;
        }
    }
}
EOF

wait_ready() { # name port pid
    local i code
    for i in $(seq 1 300); do
        kill -0 "$3" 2>/dev/null || return 1
        code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/fixed" || true)"
        [ "$code" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}

start_tacet() {
    "$TACET_BIN" serve --config "$WORK/tacet.yaml" --threads "$THREADS" --scheduling "$SCHEDULING" --log-level warning \
        >"$WORK/tacet.stdout" 2>>"$WORK/tacet.stderr" &
    TACET_PID=$!
    wait_ready tacet "$TACET_PORT" "$TACET_PID" || {
        cat "$WORK/tacet.stdout" "$WORK/tacet.stderr"; die "tacet did not start"; }
}
start_nginx() {
    "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' \
        >"$WORK/nginx.stdout" 2>&1 &
    NGINX_PID=$!
    wait_ready nginx "$NGINX_PORT" "$NGINX_PID" || {
        cat "$WORK/nginx.stdout" "$WORK/nginx/error.log" 2>/dev/null; die "nginx did not start"; }
}

# PIDs of a server: Tacet is one process; nginx is the master plus its workers.
server_pids() { if [ "$1" = tacet ]; then echo "$TACET_PID"; else nginx_pids "$NGINX_PID"; fi; }
worker_pids() {
    if [ "$1" = tacet ]; then echo "$TACET_PID"; else ps -o pid= --ppid "$NGINX_PID" | tr -d ' '; fi
}
cpu_ticks() { pids_cpu_ticks $(server_pids "$1"); }
rss_kib() { pids_rss_kib $(worker_pids "$1"); }
port_of() { if [ "$1" = tacet ]; then echo "$TACET_PORT"; else echo "$NGINX_PORT"; fi; }
alive() { if [ "$1" = tacet ]; then kill -0 "$TACET_PID" 2>/dev/null; else kill -0 "$NGINX_PID" 2>/dev/null; fi; }

log "== Tacet vs nginx: $(date -u '+%Y-%m-%d %H:%M:%SZ')"
log "commit: $(git -C "$REPO" log -1 --format='%h %s' 2>/dev/null || echo '?')"
log "tacet:  $TACET_BIN (threads $THREADS, scheduling $SCHEDULING, port $TACET_PORT)"
log "nginx:  $("$NGINX" -v 2>&1 | sed 's/.*: //') (workers $THREADS, sendfile $NGINX_SENDFILE, access_log off, port $NGINX_PORT)"
log "wrk:    $(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}'), -t1, duration $DURATION, rounds $ROUNDS, connections: $CONNS"
log "cpus:   $(nproc) online; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

start_tacet
start_nginx

# A look at what each server answers for the file (sizes of the heads differ a little).
log ""
for s in tacet nginx; do
    log "-- $s: GET /1k.txt"
    curl -s -D - -o /dev/null "http://127.0.0.1:$(port_of $s)/1k.txt" | tr -d '\r' | sed 's/^/   /'
done
TACET_STATIC="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TACET_PORT/1k.txt")"
if [ "$TACET_STATIC" != 200 ]; then
    log "note: Tacet answers $TACET_STATIC for /1k.txt (static files not served yet?); its 'file' numbers measure that response, not file serving"
fi

# ---------------------------------------------------------------- idle connections
if [ "$RUN_IDLE" = 1 ]; then
    log ""
    log "== RSS with $IDLE idle keep-alive connections (one GET /fixed each, then held open)"
    idle_test tacet idle_conns.py 1200
    idle_test nginx idle_conns.py 1200
    sleep 1    # let both servers see the closes before the load runs
fi

# ---------------------------------------------------------------- wrk runs
run_wrk() { # server scenario path conns round
    local s=$1 scen=$2 path=$3 c=$4 r=$5 f="$WORK/wrk.$1.$2.$4.$5.txt" c0 c1 tf="$WORK/time.txt"
    if ! alive "$s"; then
        printf '%s\t%s\t%s\t%s\tdead\n' "$scen" "$c" "$s" "$r" >>"$RESULTS"
        return
    fi
    c0="$(cpu_ticks "$s")"
    local TIMEFORMAT='%U %S %R' spread=""
    if [ "$s" = nginx ] && [ "$THREADS" -gt 1 ]; then
        # How nginx's workers shared wrk's connections, one second in: they race to accept.
        (sleep 1; ss -tnpH state established "( sport = :$NGINX_PORT )" 2>/dev/null | grep -o 'pid=[0-9]*' \
            | sort | uniq -c | awk '{print $1}' | sort -rn | paste -sd/ >"$WORK/spread.$scen.$c.$r") &
        spread=$!
    fi
    { time wrk -t1 -c"$c" -d"$DURATION" --latency "http://127.0.0.1:$(port_of "$s")$path" >"$f" 2>&1 ; } 2>"$tf" || true
    [ -n "$spread" ] && wait "$spread"
    c1="$(cpu_ticks "$s")"
    read -r wu ws wr <"$tf"
    local srv_cpu
    srv_cpu="$(ticks_to_s "$c0" "$c1")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scen" "$c" "$s" "$r" \
        "$(parse_wrk "$f" | tr ' ' '\t')" "$srv_cpu" "$(awk -v u="$wu" -v s="$ws" 'BEGIN{printf "%.2f", u + s}')" "$wr" >>"$RESULTS"
    if ! alive "$s"; then log "!! $s died during $scen c=$c round $r"; fi
    grep -iE 'Non-2xx|Socket errors|error' "$f" | sed "s/^ */   [$s $scen c=$c r$r] /" || true
}

if [ "$WARMUP" != 0 ] && [ "$WARMUP" != 0s ]; then
    for s in tacet nginx; do
        for p in /1k.txt /fixed; do
            wrk -t1 -c64 -d"$WARMUP" "http://127.0.0.1:$(port_of $s)$p" >/dev/null 2>&1 || true
        done
    done
fi

log ""
log "== wrk runs (interleaved: tacet, nginx; $ROUNDS rounds each)"
for scen in file fixed; do
    path=/1k.txt; [ "$scen" = fixed ] && path=/fixed
    for c in $CONNS; do
        for r in $(seq 1 "$ROUNDS"); do
            for s in tacet nginx; do
                run_wrk "$s" "$scen" "$path" "$c" "$r"
            done
        done
        log "   done: $scen c=$c"
    done
done

# ---------------------------------------------------------------- report
if [ "$THREADS" -gt 1 ]; then
    log ""
    log "nginx: wrk's connections per worker (busiest first; a worker with none is not listed), by round:"
    for scen in file fixed; do
        for c in $CONNS; do
            log "   $scen c=$c: $(for r in $(seq 1 "$ROUNDS"); do cat "$WORK/spread.$scen.$c.$r" 2>/dev/null || echo '?'; done | paste -sd' ')"
        done
    done
fi
log ""
python3 - "$RESULTS" "$DURATION" <<'PY'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
data = {}
dead = set()
for r in rows:
    scen, conns, srv, rnd = r[:4]
    if r[4] == "dead":
        dead.add((scen, conns, srv)); continue
    rps, p50, p99, non2xx, sock, reqs, cpu, wrkcpu, wall = r[4:13]
    data.setdefault((scen, int(conns), srv), []).append(dict(
        rps=float(rps), p50=float(p50), p99=float(p99), non2xx=int(non2xx), sock=int(sock),
        reqs=int(reqs), cpu=float(cpu), wrkcpu=float(wrkcpu), wall=float(wall)))

def med(runs, k):
    return statistics.median([x[k] for x in runs]) if runs else float("nan")

def fms(v):
    return "%.2f" % v if v < 10 else "%.1f" % v

hdr = ("scenario", "conns", "tacet req/s", "nginx req/s", "ratio",
       "tacet p50/p99 ms", "nginx p50/p99 ms", "tacet us/req", "nginx us/req", "wrk cpu")
table = []
warnings = []
keys = sorted({(k[0], k[1]) for k in data}, key=lambda k: (k[0] != "file", k[1]))
for scen, conns in keys:
    t = data.get((scen, conns, "tacet"), [])
    n = data.get((scen, conns, "nginx"), [])
    tr, nr = med(t, "rps"), med(n, "rps")
    def cpu_per_req(runs):
        reqs = sum(x["reqs"] for x in runs)
        return "%.1f" % (1e6 * sum(x["cpu"] for x in runs) / reqs) if reqs else "-"
    wrk_frac = max([x["wrkcpu"] / x["wall"] for x in t + n if x["wall"] > 0] or [0])
    flag = ""
    for name, runs in (("tacet", t), ("nginx", n)):
        bad = sum(x["non2xx"] for x in runs); se = sum(x["sock"] for x in runs)
        if bad: warnings.append("%s %s c=%d: %d non-2xx/3xx responses" % (name, scen, conns, bad)); flag = " !"
        if se: warnings.append("%s %s c=%d: %d socket errors" % (name, scen, conns, se)); flag = " !"
        if (scen, str(conns), name) in dead: warnings.append("%s %s c=%d: server was dead" % (name, scen, conns)); flag = " !"
    if wrk_frac > 0.9:
        warnings.append("%s c=%d: wrk used %.0f%% of a core: the load generator, not the server, may be the limit"
                        % (scen, conns, 100 * wrk_frac))
    table.append((scen + flag, str(conns), "%.0f" % tr, "%.0f" % nr,
                  "%.2f" % (tr / nr) if nr else "-",
                  "%s / %s" % (fms(med(t, "p50")), fms(med(t, "p99"))),
                  "%s / %s" % (fms(med(n, "p50")), fms(med(n, "p99"))),
                  cpu_per_req(t), cpu_per_req(n), "%.0f%%" % (100 * wrk_frac)))
widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(hdr)]
line = lambda cells: "  ".join(c.rjust(w) if i > 0 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
print("== Results (median of rounds; wrk -t1 -d%s; file = 1 KiB static file, fixed = 13-byte 200)" % sys.argv[2])
print(line(hdr))
print(line(["-" * w for w in widths]))
for r in table:
    print(line(r))
print()
print("ratio = Tacet req/s / nginx req/s.  us/req = server CPU (user+sys, all threads/workers) per request.")
print("wrk cpu = highest share of one core used by wrk in any run of that row.")
print()
print("Per round (req/s, server CPU s):")
for (scen, conns, srv), runs in sorted(data.items(), key=lambda kv: (kv[0][0] != "file", kv[0][1], kv[0][2] != "tacet")):
    print("  %-5s c=%-4d %-5s  %s" % (scen, conns, srv,
          "  ".join("%.0f (%.1fs)" % (x["rps"], x["cpu"]) for x in runs)))
if warnings:
    print()
    for w in warnings:
        print("WARNING: " + w)
PY

if [ "$RUN_IDLE" = 1 ]; then
    log ""
    log "== RSS with $IDLE idle keep-alive connections (VmRSS; nginx = sum over its $THREADS workers)"
    print_idle_table
fi

# ---------------------------------------------------------------- server health
report_server_health
