#!/usr/bin/env bash
# Issue 9's edge drills against a real `sailcdn serve` (docs/reliability.md): builds sailcdn and
# bench/drills/edgedrill from the working tree, then runs each drill named in DRILLS (default: all
# four) one after the other, printing what each measured. Only 127.0.0.1 is used; every process the
# drill starts is stopped by it.
#
#   bash bench/drills/run.sh                     # slow, idle, big, mixed (about 4 minutes)
#   DRILLS=mixed DURATION=60s bash bench/drills/run.sh
#   DRILLS=slow STALLED=200 bash bench/drills/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/sailcdn" ./cmd/sailcdn
go build -o "$tmp/edgedrill" ./bench/drills/edgedrill
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (dirty)'), $(date -u +%FT%TZ), $(nproc) cores"
echo "uptime before: $(uptime)"
for d in ${DRILLS:-slow idle big mixed}; do
	echo "== $d"
	"$tmp/edgedrill" -bin "$tmp/sailcdn" -drill "$d" -duration "${DURATION:-60s}" -conns "${CONNS:-10000}" \
		-size "${SIZE:-5000000000}" -attackers "${ATTACKERS:-200}" -stalled "${STALLED:-50}"
done
echo "uptime after: $(uptime)"
