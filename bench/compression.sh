#!/usr/bin/env bash
# Compression: Tacet vs nginx, one thread / one worker, gzip level 5 on both (the same system
# zlib), wrk -c64 asking for gzip. A 200 KiB JavaScript bundle (bench/makejs.py) and a 10 KiB
# JSON file, both static. Then Tacet alone with Brotli and zstd at its defaults: the bytes sent
# and the CPU per request against gzip. Usage: bench/compression.sh [--duration 8s] [--rounds 3]
# [--no-build]. Output also in bench/results/compression-latest.txt. See bench/README.md.
# Both servers run on CPU 1 and wrk on CPU 0 (taskset), so neither server gets the faster core
# by chance: on this 2-core VM that moved single runs by 10-15%.
set -euo pipefail
DURATION=6s
ROUNDS=5
BUILD=1
CONNS=64
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --conns) CONNS="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
mkdir -p "$BENCH_DIR/results"
exec > >(tee "$BENCH_DIR/results/compression-latest.txt") 2>&1
. "$BENCH_DIR/lib.sh"
install_missing wrk nginx curl python3
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
TACET_BIN="$REPO/.build/release/tacet"
[ "$BUILD" = 1 ] && build_tacet "$REPO" "$BENCH_DIR/results/build.log"
[ -x "$TACET_BIN" ] || die "no tacet binary at $TACET_BIN"

WORK="$(mktemp -d /tmp/tacet-compression-bench.XXXXXX)"
chmod 755 "$WORK"
mkdir -p "$WORK/www" "$WORK/nginx"
python3 "$BENCH_DIR/makejs.py" 204800 "$WORK/www/app.js"
python3 -c "
import json, random
rng = random.Random(10)
items = [{'id': i, 'name': 'user%d' % rng.randint(0, 9999), 'active': rng.random() < 0.5,
          'score': round(rng.random() * 100, 2), 'tags': rng.sample(['a', 'b', 'c', 'd', 'e'], 2)} for i in range(200)]
open('$WORK/www/data.json', 'w').write(json.dumps(items)[:10240])"
chmod -R a+rX "$WORK/www"
TACET_PORT="$(free_port)"; NGINX_PORT="$(free_port)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$WORK"; }
trap cleanup EXIT

cat >"$WORK/tacet.yaml" <<YAML
listen: ["127.0.0.1:$TACET_PORT"]
access_log: off
keepalive_requests: 100000000
compression: { encodings: [zstd, br, gzip], level: { gzip: 5 } }
routes:
  - match: { path: / }
    static: { root: $WORK/www }
YAML
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
$(temp_paths "$WORK/nginx")
    types { application/javascript js; application/json json; }
    keepalive_requests 100000000;
    gzip on;
    gzip_comp_level 5;
    gzip_min_length 256;
    gzip_vary on;
    gzip_types application/javascript application/json;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / { root $WORK/www; }
    }
}
CONF

SERVER_CPU=(); CLIENT_CPU=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then SERVER_CPU=(taskset -c 1); CLIENT_CPU=(taskset -c 0); fi
"${SERVER_CPU[@]}" "$TACET_BIN" serve --config "$WORK/tacet.yaml" --threads 1 --log-level warning >"$WORK/tacet.log" 2>&1 & TACET_PID=$!; PIDS+=($TACET_PID)
"${SERVER_CPU[@]}" "$NGINX" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log"
for _ in $(seq 50); do [ -s "$WORK/nginx/nginx.pid" ] && break; sleep 0.1; done
NGINX_MASTER="$(cat "$WORK/nginx/nginx.pid")"; PIDS+=($NGINX_MASTER)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$TACET_PORT/data.json" && break; sleep 0.1; done

log "== compression: $(date -u '+%Y-%m-%d %H:%M:%SZ'), commit $(git -C "$REPO" log -1 --format=%h 2>/dev/null || echo '?')"
log "tacet $TACET_BIN (1 thread); nginx $("$NGINX" -v 2>&1 | sed 's/.*: //') (1 worker, gzip_comp_level 5)"
log "wrk -t1 -c$CONNS -d$DURATION, $ROUNDS rounds; zlib $(python3 -c 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)')"
for f in app.js data.json; do
    for s in tacet:$TACET_PORT nginx:$NGINX_PORT; do
        size="$(curl -s -H 'Accept-Encoding: gzip' "http://127.0.0.1:${s#*:}/$f" -o "$WORK/out" -w '%{size_download}' -D "$WORK/head")"
        enc="$(tr -d '\r' <"$WORK/head" | sed -n 's/^[Cc]ontent-[Ee]ncoding: //p')"
        gunzip -c "$WORK/out" | cmp -s - "$WORK/www/$f" || die "${s%%:*} /$f: the gzip body does not decode to the file"
        log "   ${s%%:*} /$f: $(stat -c %s "$WORK/www/$f") bytes -> $size ($enc)"
    done
done

cat >"$WORK/enc.lua" <<'LUA'
wrk.headers["Accept-Encoding"] = os.getenv("ENCODING")
LUA
run() {  # run NAME PORT PATH ENCODING PIDS...
    local name="$1" port="$2" path="$3" enc="$4"; shift 4
    local before after out rps reqs
    ENCODING="$enc" "${CLIENT_CPU[@]}" wrk -t1 -c"$CONNS" -d2s -s "$WORK/enc.lua" "http://127.0.0.1:$port$path" >/dev/null 2>&1 || true
    before="$(pids_cpu_ticks "$@")"
    out="$(ENCODING="$enc" "${CLIENT_CPU[@]}" wrk -t1 -c"$CONNS" -d"$DURATION" -s "$WORK/enc.lua" "http://127.0.0.1:$port$path" 2>&1)"
    after="$(pids_cpu_ticks "$@")"
    rps="$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ {print $2}')"
    reqs="$(printf '%s\n' "$out" | awk '/ requests in / {print $1}')"
    printf '%s\n' "$out" | grep -E 'Non-2xx|Socket errors' | sed "s|^|   [$name $path $enc] |" || true
    awk -v n="$name" -v p="$path" -v e="$enc" -v r="$rps" -v q="$reqs" -v a="$before" -v b="$after" -v t="$CLK_TCK" \
        'BEGIN { printf "%-6s %-11s %-5s %9.0f req/s %9.1f us/req\n", n, p, e, r, (b - a) / t * 1e6 / (q > 0 ? q : 1) }' \
        | tee -a "$WORK/$SECTION.txt"
}
# medians SECTION NAME PATH ENC: the median req/s and us/req of that row's rounds in a section.
medians() {
    local section="$1"; shift
    awk -v n="$1" -v p="$2" -v e="$3" '$1 == n && $2 == p && $3 == e { r[++k] = $4; u[k] = $6 }
        function med(a, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                       return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
        END { if (k) printf "%-6s %-11s %-5s %9.0f req/s %9.1f us/req (median of %d)\n", n, p, e, med(r, k), med(u, k), k }' "$WORK/$section.txt"
}
log ""
log "-- gzip level 5, both servers"
SECTION=both
for r in $(seq "$ROUNDS"); do
    for f in /app.js /data.json; do
        run tacet "$TACET_PORT" "$f" gzip "$TACET_PID"
        run nginx "$NGINX_PORT" "$f" gzip $(nginx_pids "$NGINX_MASTER")
    done
done
log ""
log "-- Tacet's defaults for each coding (gzip 5, br 4, zstd 3): bytes sent, CPU per request"
SECTION=codings
for f in /app.js /data.json; do
    for e in gzip br zstd; do
        size="$(curl -s -H "Accept-Encoding: $e" "http://127.0.0.1:$TACET_PORT$f" -o /dev/null -w '%{size_download}')"
        log "   $f $e: $size bytes"
    done
    for r in $(seq "$ROUNDS"); do
        for e in gzip br zstd; do run tacet "$TACET_PORT" "$f" "$e" "$TACET_PID"; done
    done
done
log ""
log "-- medians: gzip, both servers"
for f in /app.js /data.json; do medians both tacet "$f" gzip; medians both nginx "$f" gzip; done
log "-- medians: Tacet's codings"
for f in /app.js /data.json; do for e in gzip br zstd; do medians codings tacet "$f" "$e"; done; done
