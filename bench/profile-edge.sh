#!/usr/bin/env bash
# profile-edge.sh — CPU and allocation profiles of sailcdn's edge serving cache hits under the same wrk
# load as edge-vs-nginx.sh. Runs bench/edgeprof (the edge wired as `sailcdn serve` wires it, plus
# net/http/pprof on a side port) in front of an nginx origin, warms the cache, then for each object
# size takes a CPU profile during a wrk run and prints the top functions (flat and cumulative) and
# the allocation sites of that run.
#
#   bash bench/profile-edge.sh                  # metering on
#   NO_METERING=1 bash bench/profile-edge.sh    # metering off
#
# Knobs: SIZES ("1k 1m") SECONDS_PER_RUN (10) CONNS (64) THREADS (2) BASE_PORT (18580) OUT (a temp dir;
# the .pb.gz profiles are kept there when OUT is given). Loopback only; the EXIT trap stops everything.
set -euo pipefail

SIZES=${SIZES:-1k 1m}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
BASE_PORT=${BASE_PORT:-18580}
NO_METERING=${NO_METERING:-0}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/origin.sh
source "$ROOT/bench/origin.sh"
export PATH="$PATH:/usr/local/go/bin"

WORK=$(mktemp -d /tmp/sailcdn-prof.XXXXXX)
chmod 755 "$WORK"
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"
PIDS=()
cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	sleep 0.5
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] && command -v wrk >/dev/null || { echo "needs nginx and wrk (bench/edge-vs-nginx.sh installs them)" >&2; exit 1; }
ORIGIN_PORT=$BASE_PORT EDGE_PORT=$((BASE_PORT + 1)) PPROF_PORT=$((BASE_PORT + 2))

mkdir -p "$WORK/origin"
bench_objects "$WORK/www"
chmod 777 "$WORK/origin"
origin_conf "$WORK/origin" "$ORIGIN_PORT" "$WORK/www" off >"$WORK/origin/nginx.conf"
"$NGINX" -e "$WORK/origin/error.log" -p "$WORK/origin" -c "$WORK/origin/nginx.conf" &
PIDS+=($!)

(cd "$ROOT" && go build -o "$WORK/edgeprof" ./bench/edgeprof)
flags=(-origin "http://127.0.0.1:$ORIGIN_PORT" -addr "127.0.0.1:$EDGE_PORT" -pprof "127.0.0.1:$PPROF_PORT" -domain-file "$WORK/domain")
[[ $NO_METERING == 1 ]] && flags+=(-no-metering)
"$WORK/edgeprof" "${flags[@]}" >/dev/null 2>"$WORK/edgeprof.log" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s $WORK/domain ]] && break; sleep 0.1; done
HOST=$(cat "$WORK/domain")
for size in $SIZES; do
	for _ in $(seq 40); do
		curl -s -o /dev/null -D - -H "Host: $HOST" "http://127.0.0.1:$EDGE_PORT/$size.bin" | grep -qi '^X-Cache: Hit' && break
		sleep 0.25
	done
done

for size in $SIZES; do
	wrk -t"$THREADS" -c"$CONNS" -d2s -H "Host: $HOST" "http://127.0.0.1:$EDGE_PORT/$size.bin" >/dev/null
	curl -s -o "$OUT/allocs-$size-before.pb.gz" "http://127.0.0.1:$PPROF_PORT/debug/pprof/allocs"
	curl -s -o "$OUT/cpu-$size.pb.gz" "http://127.0.0.1:$PPROF_PORT/debug/pprof/profile?seconds=$((SECONDS_PER_RUN - 1))" &
	cpu=$!
	sleep 0.3
	echo "== $size.bin, metering $([[ $NO_METERING == 1 ]] && echo off || echo on) =="
	wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_PER_RUN}s" -H "Host: $HOST" "http://127.0.0.1:$EDGE_PORT/$size.bin" | grep -E 'Requests/sec|Transfer/sec'
	wait "$cpu"
	curl -s -o "$OUT/allocs-$size.pb.gz" "http://127.0.0.1:$PPROF_PORT/debug/pprof/allocs"
	echo "-- CPU, flat (top 25)"
	go tool pprof -top -nodecount=25 "$OUT/cpu-$size.pb.gz" 2>/dev/null | tail -n +5
	echo "-- CPU, cumulative (top 40)"
	go tool pprof -top -cum -nodecount=40 "$OUT/cpu-$size.pb.gz" 2>/dev/null | tail -n +6
	echo "-- allocations during the run (alloc_space, top 20)"
	go tool pprof -top -sample_index=alloc_space -base "$OUT/allocs-$size-before.pb.gz" -nodecount=20 "$OUT/allocs-$size.pb.gz" 2>/dev/null | tail -n +5
	echo "-- allocations during the run (alloc_objects, top 20)"
	go tool pprof -top -sample_index=alloc_objects -base "$OUT/allocs-$size-before.pb.gz" -nodecount=20 "$OUT/allocs-$size.pb.gz" 2>/dev/null | tail -n +5
done
