#!/usr/bin/env bash
# Tacet's HTTPS vs nginx's: keep-alive requests over TLS (wrk), full TLS 1.3 handshakes per second
# (h2load, one request per connection), and memory per idle TLS keep-alive connection.
# Both servers present the same ECDSA P-256 self-signed certificate, made here with openssl.
# See bench/README.md. Usage: bench/tls.sh [options]; --help lists them.
set -euo pipefail

THREADS=1
DURATION=10s
ROUNDS=3
CONNS="64 256"
HANDSHAKES=20000
HS_CONNS=32
IDLE=2000
WARMUP=2s
BUILD=1
TACET_BIN=""

usage() {
    cat <<EOF
Usage: bench/tls.sh [options]
  --threads N       Tacet event-loop threads and nginx workers (default $THREADS)
  --duration D      wrk duration per run, e.g. 10s, 5s (default $DURATION)
  --rounds R        interleaved rounds per load; the table shows medians (default $ROUNDS)
  --conns "A B"     wrk connection counts for the keep-alive load (default "$CONNS")
  --handshakes N    h2load requests (= TLS connections) per handshake run, 0 to skip (default $HANDSHAKES)
  --hs-conns C      h2load concurrent connections (default $HS_CONNS)
  --idle N          idle TLS keep-alive connections for the RSS test, 0 to skip (default $IDLE)
  --warmup D        wrk warm-up per server before measuring, 0 to skip (default $WARMUP)
  --no-build        do not run 'swift build'; use the existing release binary
  --tacet-bin PATH  use this tacet binary (implies --no-build)
Output is also written to bench/results/tls-latest.txt. KEEP_WORK=1 keeps the temporary
directory (configs, certificate and key, raw wrk/h2load outputs, server logs).
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --threads) THREADS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --conns) CONNS="$2"; shift 2 ;;
        --handshakes) HANDSHAKES="$2"; shift 2 ;;
        --hs-conns) HS_CONNS="$2"; shift 2 ;;
        --idle) IDLE="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --tacet-bin) TACET_BIN="$2"; BUILD=0; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/tls-latest.txt"
exec > >(tee "$OUT") 2>&1

# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

# ---------------------------------------------------------------- prerequisites
install_missing wrk nginx curl python3 openssl
command -v h2load >/dev/null || install_missing nghttp2-client     # the package of h2load
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
"$NGINX" -V 2>&1 | grep -q with-http_ssl_module || die "this nginx has no http_ssl_module"

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

# ---------------------------------------------------------------- setup
WORK="$(mktemp -d /tmp/tacet-tls-bench.XXXXXX)"
chmod 755 "$WORK"
mkdir -p "$WORK/nginx"
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
listen:
  - address: "127.0.0.1:$TACET_PORT"
    tls:
      certificates:
        - { cert: $CERT, key: $KEY }
      min_version: "1.3"
access_log: off
keepalive_requests: 10000
max_connections: 20000
routes:
  - match: { path: /hello }
    respond: { status: 200, body: "hello, world\n" }
EOF

# TLS 1.3 only, no session cache, no tickets. Tacet has no session cache, but BoringSSL issues and
# accepts tickets (the s_client probe below says whether a session is resumed). No load here offers
# a session (h2load never sets one, wrk keeps its connections, idle_tls.py starts each one fresh),
# so every new connection is a full handshake on both.
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes $THREADS;
worker_rlimit_nofile $NOFILE;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections $NGINX_CONNS; }
http {
    access_log off;
$(temp_paths "$WORK/nginx")
    keepalive_requests 10000;
    keepalive_timeout 75s;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        ssl_certificate $CERT;
        ssl_certificate_key $KEY;
        ssl_protocols TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        location = /hello {
            default_type text/plain;
            return 200 "hello, world\n";
        }
    }
}
EOF

wait_ready() { # port pid
    local i
    for i in $(seq 1 300); do
        kill -0 "$2" 2>/dev/null || return 1
        [ "$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$1/hello" || true)" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}
start_tacet() {
    "$TACET_BIN" serve --config "$WORK/tacet.yaml" --threads "$THREADS" --log-level warning \
        >"$WORK/tacet.stdout" 2>>"$WORK/tacet.stderr" &
    TACET_PID=$!
    wait_ready "$TACET_PORT" "$TACET_PID" || {
        cat "$WORK/tacet.stdout" "$WORK/tacet.stderr"; die "tacet did not start (a build without TLS?)"; }
}
start_nginx() {
    "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' >"$WORK/nginx.stdout" 2>&1 &
    NGINX_PID=$!
    wait_ready "$NGINX_PORT" "$NGINX_PID" || {
        cat "$WORK/nginx.stdout" "$WORK/nginx/error.log" 2>/dev/null; die "nginx did not start"; }
}

server_pids() { if [ "$1" = tacet ]; then echo "$TACET_PID"; else nginx_pids "$NGINX_PID"; fi; }
worker_pids() {
    if [ "$1" = tacet ]; then echo "$TACET_PID"; else ps -o pid= --ppid "$NGINX_PID" | tr -d ' '; fi
}
cpu_ticks() { pids_cpu_ticks $(server_pids "$1"); }
rss_kib() { pids_rss_kib $(worker_pids "$1"); }
port_of() { if [ "$1" = tacet ]; then echo "$TACET_PORT"; else echo "$NGINX_PORT"; fi; }
alive() { if [ "$1" = tacet ]; then kill -0 "$TACET_PID" 2>/dev/null; else kill -0 "$NGINX_PID" 2>/dev/null; fi; }

log "== Tacet HTTPS vs nginx HTTPS: $(date -u '+%Y-%m-%d %H:%M:%SZ')"
log "commit: $(git -C "$REPO" log -1 --format='%h %s' 2>/dev/null | cut -c1-100 || echo '?')"
log "tacet:  $TACET_BIN (threads $THREADS, port $TACET_PORT, min_version 1.3)"
log "nginx:  $("$NGINX" -v 2>&1 | sed 's/.*: //') (workers $THREADS, port $NGINX_PORT, TLSv1.3, session cache and tickets off)"
log "cert:   ECDSA P-256, self-signed, CN=localhost, SAN DNS:localhost, IP:127.0.0.1 ($(openssl version | awk '{print $1, $2}'))"
log "wrk:    $(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}'), -t1, duration $DURATION, rounds $ROUNDS, connections: $CONNS"
log "h2load: $(h2load --version 2>&1 | head -n1), --h1 -n $HANDSHAKES -c $HS_CONNS, Connection: close"
log "cpus:   $(nproc) online; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

start_tacet
start_nginx

# What each server negotiates with OpenSSL's default client (wrk's and Python's library), how many
# session tickets it sends, and whether a second connection offering the first one's session is
# resumed (nginx sends OpenSSL's TLS 1.3 tickets even with tickets and cache off; it cannot resume them).
log ""
log "== TLS as seen by 'openssl s_client' (GET /hello, Connection: close)"
tls_probe() { # server
    local s=$1 f="$WORK/sclient.$1" first tickets resumed status
    local req='GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
    printf "$req" | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of "$s")" -servername localhost \
        -sess_out "$f.sess" -ign_eof >"$f.1" 2>&1 || true
    first="$(grep -m1 -E '^(New|Reused), ' "$f.1" || echo '? (no handshake line)')"
    status="$(grep -m1 -a '^HTTP/' "$f.1" | tr -d '\r' || echo 'no response')"
    tickets="$(grep -c 'New Session Ticket arrived' "$f.1" || true)"
    resumed="no session to offer"
    if [ -s "$f.sess" ]; then
        printf "$req" | timeout 10 openssl s_client -connect "127.0.0.1:$(port_of "$s")" -servername localhost \
            -sess_in "$f.sess" -ign_eof >"$f.2" 2>&1 || true
        resumed="$(grep -m1 -E '^(New|Reused), ' "$f.2" | cut -d, -f1 || echo '?')"
        [ "$resumed" = Reused ] && resumed="RESUMED (not a full handshake)" || resumed="not resumed"
    fi
    log "   $s: $first; $(grep -m1 'Server Temp Key' "$f.1" | sed 's/^ *//' || echo 'Server Temp Key: ?');" \
        "$status; session tickets: $tickets; second connection: $resumed"
}
tls_probe tacet
tls_probe nginx

# ---------------------------------------------------------------- idle TLS connections
: >"$WORK/idle.tsv"
if [ "$IDLE" != 0 ]; then
    log ""
    log "== RSS with $IDLE idle TLS keep-alive connections (handshake, one GET /hello each, then held open)"
    idle_test tacet idle_tls.py 3000
    idle_test nginx idle_tls.py 3000
    sleep 1    # let both servers see the closes before the load runs
fi

# ---------------------------------------------------------------- loads
# parse_h2load FILE -> "req/s ttfb_mean_ms connect_mean_ms succeeded bad cipher"
# (bad = failed + errored + timed out + answers that are not 2xx)
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
    /^status codes: / { gsub(",", ""); two = $3; bad += $5 + $7 + $9 }
    /^time to 1st byte:/ { ttfb = ms($7) }
    /^time for connect:/ { conn = ms($6) }
    /^Cipher: / { cipher = $2 }
    END {
        if (two + 0 < ok + 0) bad += ok - two
        printf "%s %s %s %d %d %s\n", rps ? rps : 0, ttfb ? ttfb : 0, conn ? conn : 0, ok, bad, cipher ? cipher : "?"
    }' "$1"
}

run_load() { # server scenario conns round
    local s=$1 scen=$2 c=$3 r=$4 f="$WORK/$2.$1.$3.$4.txt" c0 c1 tf="$WORK/time.txt" url
    url="https://127.0.0.1:$(port_of "$s")/hello"
    if ! alive "$s"; then
        printf '%s\t%s\t%s\t%s\tdead\n' "$scen" "$c" "$s" "$r" >>"$RESULTS"
        return
    fi
    local TIMEFORMAT='%U %S %R' parsed
    c0="$(cpu_ticks "$s")"
    if [ "$scen" = keepalive ]; then
        { time wrk -t1 -c"$c" -d"$DURATION" --latency "$url" >"$f" 2>&1 ; } 2>"$tf" || true
    else
        { time h2load --h1 -n "$HANDSHAKES" -c "$c" -H 'Connection: close' "$url" >"$f" 2>&1 ; } 2>"$tf" || true
    fi
    c1="$(cpu_ticks "$s")"
    read -r wu ws wr <"$tf"
    if [ "$scen" = keepalive ]; then
        # rps p50 p99 non2xx sockerrs requests -> rps lat1 lat2 bad requests extra
        parsed="$(parse_wrk "$f" | awk '{ printf "%s\t%s\t%s\t%d\t%s\t-", $1, $2, $3, $4 + $5, $6 }')"
    else
        parsed="$(parse_h2load "$f" | awk '{ printf "%s\t%s\t%s\t%d\t%s\t%s", $1, $2, $3, $5, $4, $6 }')"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scen" "$c" "$s" "$r" "$parsed" \
        "$(ticks_to_s "$c0" "$c1")" "$(awk -v u="$wu" -v s="$ws" 'BEGIN{printf "%.2f", u + s}')" "$wr" >>"$RESULTS"
    alive "$s" || log "!! $s died during $scen c=$c round $r"
    if [ "$scen" = keepalive ]; then
        grep -iE 'Non-2xx|Socket errors|error' "$f" | sed "s/^ */   [$s $scen c=$c r$r] /" || true
    else
        grep -E '^requests:|^status codes:' "$f" | grep -vE ' 0 failed, 0 errored, 0 timeout| 0 3xx, 0 4xx, 0 5xx' \
            | sed "s/^/   [$s $scen c=$c r$r] /" || true
        grep -iE 'error|fail' "$f" | grep -vE '^requests:' | head -n 3 | sed "s/^/   [$s $scen c=$c r$r] /" || true
    fi
}

if [ "$WARMUP" != 0 ] && [ "$WARMUP" != 0s ]; then
    for s in tacet nginx; do
        wrk -t1 -c64 -d"$WARMUP" "https://127.0.0.1:$(port_of $s)/hello" >/dev/null 2>&1 || true
        [ "$HANDSHAKES" != 0 ] && h2load --h1 -n 1000 -c "$HS_CONNS" -H 'Connection: close' \
            "https://127.0.0.1:$(port_of $s)/hello" >/dev/null 2>&1 || true
    done
fi

log ""
log "== loads (interleaved: tacet, nginx; $ROUNDS rounds each)"
for c in $CONNS; do
    for r in $(seq 1 "$ROUNDS"); do
        for s in tacet nginx; do run_load "$s" keepalive "$c" "$r"; done
    done
    log "   done: keep-alive c=$c"
done
if [ "$HANDSHAKES" != 0 ]; then
    for r in $(seq 1 "$ROUNDS"); do
        for s in tacet nginx; do run_load "$s" handshake "$HS_CONNS" "$r"; done
    done
    log "   done: handshakes c=$HS_CONNS"
fi

# ---------------------------------------------------------------- report
log ""
python3 - "$RESULTS" "$WORK/idle.tsv" "$DURATION" "$HANDSHAKES" "$IDLE" <<'PY'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
idle = {l.split("\t")[0]: l.rstrip("\n").split("\t")[1:] for l in open(sys.argv[2]) if l.strip()}
duration, handshakes, nidle = sys.argv[3], sys.argv[4], sys.argv[5]
data, dead = {}, set()
for r in rows:
    scen, conns, srv, rnd = r[:4]
    if r[4] == "dead":
        dead.add((scen, conns, srv)); continue
    rps, l1, l2, bad, reqs, extra, cpu, ccpu, wall = r[4:13]
    data.setdefault((scen, int(conns), srv), []).append(dict(
        rps=float(rps), l1=float(l1), l2=float(l2), bad=int(bad), reqs=int(reqs), extra=extra,
        cpu=float(cpu), ccpu=float(ccpu), wall=float(wall)))
med = lambda runs, k: statistics.median([x[k] for x in runs]) if runs else float("nan")
fms = lambda v: "%.2f" % v if v < 10 else "%.1f" % v
def per_req(runs):
    reqs = sum(x["reqs"] for x in runs)
    return "%.1f" % (1e6 * sum(x["cpu"] for x in runs) / reqs) if reqs else "-"
def share(runs, k):  # of one core, median over runs
    return statistics.median([x[k] / x["wall"] for x in runs if x["wall"] > 0] or [0])

hdr = ("load", "conns", "tacet", "nginx", "ratio", "tacet p50/p99 ms", "nginx p50/p99 ms",
       "tacet us/op", "nginx us/op", "client cpu")
table, warnings, shares = [], [], []
names = {"keepalive": "keep-alive req/s", "handshake": "handshakes/s"}
for scen, conns in sorted({(k[0], k[1]) for k in data}, key=lambda k: (k[0] != "keepalive", k[1])):
    t, n = data.get((scen, conns, "tacet"), []), data.get((scen, conns, "nginx"), [])
    tr, nr = med(t, "rps"), med(n, "rps")
    client = "wrk" if scen == "keepalive" else "h2load"
    cfrac = max([x["ccpu"] / x["wall"] for x in t + n if x["wall"] > 0] or [0])
    flag = ""
    for name, runs in (("tacet", t), ("nginx", n)):
        bad = sum(x["bad"] for x in runs)
        if bad:
            warnings.append("%s %s c=%d: %d failed or non-2xx (%s)" % (
                name, scen, conns, bad, "non-2xx/3xx + socket errors" if scen == "keepalive"
                else "failed + errored + timeout + non-2xx")); flag = " !"
        if (scen, str(conns), name) in dead:
            warnings.append("%s %s c=%d: server was dead" % (name, scen, conns)); flag = " !"
        if scen == "handshake" and runs and sum(x["reqs"] for x in runs) < int(handshakes) * len(runs):
            warnings.append("%s handshakes: %d of %d requests succeeded" % (
                name, sum(x["reqs"] for x in runs), int(handshakes) * len(runs))); flag = " !"
        shares.append("  %-16s c=%-4d %-5s server %3.0f%%  %s %3.0f%%%s" % (
            names[scen], conns, name, 100 * share(runs, "cpu"), client, 100 * share(runs, "ccpu"),
            ("  cipher " + "/".join(sorted({x["extra"] for x in runs}))) if scen == "handshake" else ""))
    if cfrac > 0.9:
        warnings.append("%s c=%d: %s used %.0f%% of a core: the client, not the server, may be the limit"
                        % (names[scen], conns, client, 100 * cfrac))
    if scen == "keepalive":
        lt = "%s / %s" % (fms(med(t, "l1")), fms(med(t, "l2")))
        ln = "%s / %s" % (fms(med(n, "l1")), fms(med(n, "l2")))
    else:  # h2load gives no percentiles: mean time to first byte (connect + handshake + response)
        lt, ln = "ttfb %s" % fms(med(t, "l1")), "ttfb %s" % fms(med(n, "l1"))
    table.append((names[scen] + flag, str(conns), "%.0f" % tr, "%.0f" % nr,
                  "%.2f" % (tr / nr) if nr else "-", lt, ln, per_req(t), per_req(n),
                  "%s %.0f%%" % (client, 100 * cfrac)))
idle_per = {}
for name in ("tacet", "nginx"):
    v = idle.get(name)
    if v and v[1] != "-" and int(v[2]) > 0:
        idle_per[name] = (int(v[1]) - int(v[0])) / int(v[2])
if nidle != "0":
    t, n = idle_per.get("tacet"), idle_per.get("nginx")
    table.append(("idle KiB/conn", nidle, "%.1f" % t if t is not None else "-", "%.1f" % n if n is not None else "-",
                  "%.2f" % (t / n) if t is not None and n else "-", "-", "-", "-", "-", "-"))
if table:
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(hdr)]
    line = lambda cells: "  ".join(c.rjust(w) if i > 0 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print("== Results (median of rounds; GET /hello over TLS 1.3, 13-byte 200; wrk -t1 -d%s; h2load --h1 -n %s)"
          % (duration, handshakes))
    print(line(hdr)); print(line(["-" * w for w in widths]))
    for r in table: print(line(r))
    print()
    print("ratio = Tacet / nginx (for idle KiB/conn, lower is better).  us/op = server CPU (user+sys, all")
    print("threads/workers) per request; for handshakes/s, per connection (full handshake + one request).")
    print("ttfb = h2load's mean time to first byte (connect + handshake + request), ms; h2load has no percentiles.")
    print("client cpu = highest share of one core used by wrk / h2load in any run of that row.")
    print()
    print("Share of one core during the runs, medians:")
    for s in shares: print(s)
    print()
    print("Per round (/s, server CPU s):")
    for (scen, conns, srv), runs in sorted(data.items(), key=lambda kv: (kv[0][0] != "keepalive", kv[0][1], kv[0][2] != "tacet")):
        print("  %-16s c=%-4d %-5s  %s" % (names[scen], conns, srv,
              "  ".join("%.0f (%.1fs)" % (x["rps"], x["cpu"]) for x in runs)))
for w in warnings: print("WARNING: " + w)
PY

if [ "$IDLE" != 0 ]; then
    log ""
    log "== RSS with $IDLE idle TLS keep-alive connections (VmRSS; nginx = sum over its $THREADS workers)"
    print_idle_table
fi

# ---------------------------------------------------------------- server health
report_server_health
