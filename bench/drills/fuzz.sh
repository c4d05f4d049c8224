#!/usr/bin/env bash
# Fuzzing campaigns for issue 9 (docs/reliability.md, "Fuzzing"): the five hand-written parsers, one
# target at a time (the machine has 2 cores shared with others), FUZZTIME each (default 10m).
#
# Each target's test binary is built first (go test -c -fuzz, so it carries the coverage
# instrumentation) and run from its package directory with its own corpus cache under OUT, so
# a campaign neither depends on edits made to the tree while it runs nor mixes with other
# campaigns in the shared GOCACHE (the fuzzer keeps a target's corpus in <cachedir>/<target>/). OUT/<target>.log ends with the fuzzer's last status line (execs,
# new interesting); OUT/corpus/<target>/ holds what the campaign found, to be copied into the
# package's testdata/fuzz/<target>/ when it is worth keeping (COPY=1 does it).
#
#   bash bench/drills/fuzz.sh                      # all five, 10 minutes each
#   FUZZTIME=30s TARGETS="edge:FuzzMatchPattern" bash bench/drills/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
FUZZTIME=${FUZZTIME:-10m}
OUT=${OUT:-/tmp/sailcdn-fuzz}
COPY=${COPY:-0}
TARGETS=${TARGETS:-"fastpath:FuzzParseAgreesWithNetHTTP awsjson:FuzzServe sigv4:FuzzParseAuthorization httpcache:FuzzParseCacheControl edge:FuzzMatchPattern"}
mkdir -p "$OUT/bin" "$OUT/corpus"

for t in $TARGETS; do
	pkg=${t%%:*} fn=${t#*:}
	bin="$OUT/bin/$pkg-$fn.test"
	go test -c -fuzz="^$fn\$" -o "$bin" "./internal/$pkg"
	seeds=$(ls "internal/$pkg/testdata/fuzz/$fn" 2>/dev/null | wc -l)
	echo "$(date -u +%FT%TZ) start $pkg $fn fuzztime $FUZZTIME, committed seeds $seeds" | tee "$OUT/$fn.log"
	# The fuzzer exits 0 when the time is up without a failure; a crash leaves the failing input
	# under testdata/fuzz/<fn>/ and a non-zero status, reported below.
	set +e
	(cd "internal/$pkg" && "$bin" -test.run='^$' -test.fuzz="^$fn\$" -test.fuzztime="$FUZZTIME" \
		-test.fuzzcachedir="$OUT/corpus") >>"$OUT/$fn.log" 2>&1
	rc=$?
	set -e
	echo "$(date -u +%FT%TZ) end $pkg $fn exit $rc, corpus found $(ls "$OUT/corpus/$fn" 2>/dev/null | wc -l)" | tee -a "$OUT/$fn.log"
	grep -E 'elapsed: .*execs' "$OUT/$fn.log" | tail -1
	if [ "$COPY" = 1 ] && [ -d "$OUT/corpus/$fn" ]; then
		mkdir -p "internal/$pkg/testdata/fuzz/$fn"
		cp -n "$OUT/corpus/$fn"/* "internal/$pkg/testdata/fuzz/$fn/"
	fi
done
echo "binaries, logs and corpora under $OUT (root $root)"
