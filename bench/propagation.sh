#!/usr/bin/env bash
# propagation.sh — how long a configuration change takes to reach every edge of a fleet, measured
# across processes: one API node and EDGES edge nodes (`sailcdn serve --role api|edge`) on loopback,
# CHANGES changes through the API (bench/propagation has the details). Two stores side by side in one
# run:
#   postgres  a private PostgreSQL (scripts/pg-test-env.sh, port PG_PORT): edges are notified through
#             LISTEN/NOTIFY and poll every second as a safety net;
#   sqlite    one SQLite file shared by the processes (the anchor): no cross-process notification,
#             edges poll every 250 ms.
# Usage: bash bench/propagation.sh      (from anywhere; EDGES=3 CHANGES=100 PG_PORT=55559)
set -euo pipefail
cd "$(dirname "$0")/.."
EDGES=${EDGES:-3}
CHANGES=${CHANGES:-100}
PG_PORT=${PG_PORT:-55559}
tmp=$(mktemp -d /tmp/sailcdn-propagation.XXXXXX)
# The cluster's directory is not under $tmp, which only root can enter: the server runs as postgres
# when this runs as root.
pgdir=$(mktemp -d /tmp/sailcdn-propagation-pg.XXXXXX)
cleanup() { scripts/pg-test-env.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$tmp" "$pgdir"; }
trap cleanup EXIT
go build -o "$tmp/sailcdn" ./cmd/sailcdn
go build -o "$tmp/propagation" ./bench/propagation
dsn=$(scripts/pg-test-env.sh start "$pgdir" "$PG_PORT")
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$tmp/propagation" -bin "$tmp/sailcdn" -store postgres -dsn "$dsn" -edges "$EDGES" -changes "$CHANGES"
mkdir -p "$tmp/sqlite"
"$tmp/propagation" -bin "$tmp/sailcdn" -store sqlite -dir "$tmp/sqlite" -edges "$EDGES" -changes "$CHANGES"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
