# Helpers shared by bench/run.sh, bench/proxy.sh and bench/stream.sh (sourced, not run).

log() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# install_missing CMD-OR-PACKAGE... : apt-get install the Debian packages whose command is missing.
install_missing() {
    local sudo="" need=() p
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
    for p in "$@"; do
        case "$p" in
            nginx) command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx) ;;
            *) command -v "$p" >/dev/null || need+=("$p") ;;
        esac
    done
    [ ${#need[@]} -eq 0 ] && return 0
    log "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! $sudo apt-get install -y "${need[@]}" >/dev/null; then
        $sudo apt-get update >/dev/null
        $sudo apt-get install -y "${need[@]}" >/dev/null || die "could not install ${need[*]}"
    fi
}

# The production build (packaging/README.md): release, and no run-time exclusivity checks in any
# module. Tacet's own targets already turn them off in release; the flag extends that to
# SwiftNIO, where they cost about a tenth of the user time per request.
RELEASE_FLAGS=(-c release -Xswiftc -enforce-exclusivity=unchecked)

# build_tacet REPO LOGFILE: the production build of the tacet product, tail of the log on failure.
build_tacet() {
    log "building tacet (release)... (log: $2)"
    if ! (cd "$1" && swift build "${RELEASE_FLAGS[@]}" --product tacet) >"$2" 2>&1; then
        tail -n 30 "$2"
        die "swift build failed"
    fi
}

# temp_paths DIR: nginx's *_temp_path lines (http block) under DIR, so nginx runs from a temp dir.
temp_paths() {
    local t
    for t in client_body proxy fastcgi uwsgi scgi; do printf '    %s_temp_path %s/%s;\n' "$t" "$1" "$t"; done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

CLK_TCK="$(getconf CLK_TCK)"
# pids_cpu_split PID...: "utime stime" in ticks (all threads), each summed over the processes.
pids_cpu_split() {
    local u=0 s=0 p f
    for p in "$@"; do
        f="$(cat "/proc/$p/stat" 2>/dev/null)" || continue
        f="${f##*) }"                   # fields after "pid (comm) "
        set -- $f                       # $1 = state (field 3), utime = field 14 -> $12
        u=$((u + ${12})); s=$((s + ${13}))
    done
    echo "$u $s"
}

# pids_cpu_ticks PID...: sum of utime+stime (all threads) over the processes.
pids_cpu_ticks() {
    local total=0 p f
    for p in "$@"; do
        f="$(cat "/proc/$p/stat" 2>/dev/null)" || continue
        f="${f##*) }"                   # fields after "pid (comm) "
        set -- $f                       # $1 = state (field 3), utime = field 14 -> $12
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}
# pids_rss_kib PID...: sum of VmRSS over the processes.
pids_rss_kib() {
    local total=0 p v
    for p in "$@"; do
        v="$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)" || v=0
        total=$((total + ${v:-0}))
    done
    echo "$total"
}
ticks_to_s() { awk -v a="$1" -v b="$2" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }'; }

# nginx_pids MASTER_PID: the master and its workers.
nginx_pids() { echo "$1"; ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }

# parse_wrk FILE -> "rps p50ms p99ms non2xx sockerrs requests"
parse_wrk() {
    awk '
    function ms(v) {
        if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
        if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
        if (v ~ /m$/)  { sub(/m$/, "", v);  return v * 60000 }
        if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
        return v + 0
    }
    /^Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(",", ""); sock = $4 + $6 + $8 + $10 }
    / requests in / { reqs = $1 }
    END { printf "%s %s %s %d %d %s\n", rps ? rps : 0, p50 ? p50 : 0, p99 ? p99 : 0, non2xx, sock, reqs ? reqs : 0 }
    ' "$1"
}

# print_idle_table: the "RSS with N idle connections" table from IDLE_LINES (tab-separated:
# server, KiB before, KiB after or -, connections held, details), shared by run.sh and tls.sh.
print_idle_table() {
    printf '%-6s %12s %12s %10s %8s  %s\n' server "before KiB" "after KiB" "KiB/conn" held details
    local l s before after ok details per
    for l in "${IDLE_LINES[@]}"; do
        IFS=$'\t' read -r s before after ok details <<<"$l"
        if [ "$after" = - ]; then
            printf '%-6s %12s %12s %10s %8s  %s\n' "$s" "$before" - - - "$details"
        else
            per="$(awk -v a="$before" -v b="$after" -v n="$ok" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / n; else print "-" }')"
            printf '%-6s %12s %12s %10s %8s  %s\n' "$s" "$before" "$after" "$per" "$ok" "$details"
        fi
    done
}

# report_server_health: whether tacet and nginx survived the run (the caller's `alive`), the
# tail of Tacet's stderr and nginx's error log in $WORK, and where the output went ($OUT).
report_server_health() {
    local s
    log ""
    for s in tacet nginx; do
        if alive "$s"; then log "$s: still running"; else log "!! $s: NOT running at the end"; fi
    done
    if [ -s "$WORK/tacet.stderr" ]; then
        log "tacet stderr (last 20 lines):"
        tail -n 20 "$WORK/tacet.stderr" | sed 's/^/   /'
    else
        log "tacet stderr: empty"
    fi
    if [ -s "$WORK/nginx/error.log" ]; then
        log "nginx error.log (last 10 lines):"
        tail -n 10 "$WORK/nginx/error.log" | sed 's/^/   /'
    fi
    log ""
    log "written to $OUT"
}

# idle_test SERVER SCRIPT [MAX_WAIT_TENTHS]: opens $IDLE idle connections to SERVER with
# bench/SCRIPT (idle_conns.py, idle_tls.py, idle_h2.py: they print READY, then hold until
# SIGTERM and print DONE), and records the server's RSS before and after in IDLE_LINES (and in
# $WORK/idle.tsv when that file exists). Uses the caller's rss_kib, port_of and alive; IDLE_PID
# is the client while it runs (for the caller's cleanup).
IDLE_LINES=()
idle_test() {
    local s=$1 script=$2 tries=${3:-3000} before after ready="$WORK/idle.$1.ready" i line done_line
    rm -f "$ready"
    sleep 0.5
    before="$(rss_kib "$s")"
    python3 "$BENCH_DIR/$script" --port "$(port_of "$s")" --count "$IDLE" \
        --ready-file "$ready" --hold-seconds 300 >"$WORK/idle.$s.out" 2>&1 &
    IDLE_PID=$!
    for i in $(seq 1 "$tries"); do
        [ -f "$ready" ] && break
        kill -0 "$IDLE_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -f "$ready" ]; then
        kill "$IDLE_PID" 2>/dev/null || true; wait "$IDLE_PID" 2>/dev/null || true; IDLE_PID=""
        IDLE_LINES+=("$s	$before	-	-	idle client failed: $(tr '\n' ' ' <"$WORK/idle.$s.out")")
        return
    fi
    sleep 1
    after="$(rss_kib "$s")"
    line="$(cat "$ready")"
    kill -TERM "$IDLE_PID" 2>/dev/null || true
    wait "$IDLE_PID" 2>/dev/null || true
    IDLE_PID=""
    done_line="$(grep '^DONE' "$WORK/idle.$s.out" || echo 'DONE ?')"
    local ok="${line#*ok=}"; ok="${ok%% *}"
    IDLE_LINES+=("$s	$before	$after	$ok	${line#READY } ${done_line#DONE }")
    [ -f "$WORK/idle.tsv" ] && printf '%s\t%s\t%s\t%s\n' "$s" "$before" "$after" "$ok" >>"$WORK/idle.tsv"
    alive "$s" || log "!! $s died during the idle-connection test"
}
