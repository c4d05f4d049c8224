# run.sh — sourced by the side-by-side benchmarks (edge-vs-nginx.sh, https-vs-nginx.sh,
# api-vs-nethttp.sh): their log lines, a temporary directory, the background processes they start
# (stopped on exit whatever happens), and a watchdog that bounds the whole run.

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# bench_begin NAME: WORK becomes a new directory /tmp/NAME.XXXXXX, removed on exit unless KEEP=1.
# Every pid the script adds to PIDS is stopped on exit (TERM, then KILL after 5 s); then
# bench_at_exit runs, if the script defines it. After DEADLINE seconds the run is stopped.
bench_begin() {
	WORK=$(mktemp -d "/tmp/$1.XXXXXX")
	chmod 755 "$WORK" # nginx workers run as an unprivileged user when the master runs as root
	PIDS=()
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	(
		trap 'kill "$sp" 2>/dev/null; exit 0' TERM
		sleep "$DEADLINE" &
		sp=$!
		wait "$sp" && log "deadline of ${DEADLINE}s reached, stopping" && kill -TERM $$
	) 2>/dev/null &
	PIDS+=($!)
}

bench_cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for _ in $(seq 50); do
		local alive=0
		for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if declare -F bench_at_exit >/dev/null; then bench_at_exit || true; fi
	if [[ ${KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
	exit "$rc"
}
