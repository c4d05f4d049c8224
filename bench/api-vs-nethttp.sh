#!/usr/bin/env bash
# api-vs-nethttp.sh — sailcdn's signed Lightsail API against a bare net/http handler, side by side in
# one run, plus signed writes per second on SQLite and PostgreSQL.
#
#   bash bench/api-vs-nethttp.sh          # from anywhere: paths are resolved
#
# What runs (127.0.0.1 only; every process started here is stopped by the EXIT trap):
#   sailcdn        `sailcdn serve --dev` (SQLite in a temp dir, the default flags), one distribution
#                  "bench" created through the API with botocore.
#   nethttp-json   bench/nethttp-json: a bare Go net/http handler answering every request with the
#                  bytes of sailcdn's GetDistributions answer (same body, same header fields), doing
#                  nothing else.
#   sailcdn-pg     (PG=1, the default) the same sailcdn on a private PostgreSQL cluster
#                  (scripts/pg-test-env.sh, then fsync and synchronous_commit turned back on: its
#                  commits are as durable as a production server's), for the write test.
# Requests: exactly what boto3 sends (bench/boto3-request.py captures botocore's final, signed
# request: X-Amz-Target, Content-Type, X-Amz-Date, Authorization over content-type;host;x-amz-date;
# x-amz-target, amz-sdk-* fields, User-Agent). wrk cannot sign every request cheaply, so each run
# replays one signed request, signed just before the run: its X-Amz-Date stays inside the ±15 minute
# window, and the server verifies every copy in full (a replay saves the server nothing).
#   reads   GetDistributions {"distributionName": "bench"}: sailcdn, then nethttp-json, REPEATS times
#           interleaved; the ratio of the medians is the result (goal: at least 0.5).
#   writes  UpdateDistribution {"distributionName": "bench", "isEnabled": true}: every request is a
#           durable transaction (the row, an operation record, the configuration generation), on
#           SQLite (WAL, synchronous=FULL) and on PostgreSQL.
# Load: wrk -t2 -c32 -d10s. Reported per run: req/s, p50/p99, non-2xx answers (must be 0), and the
# CPU time of the server, of wrk and of everything else on the machine in cores (2 cores: wrk shares
# them with the server). Runs where other work used more than 0.15 core are marked "(disturbed)".
#
# Knobs (environment): DURATION (10s) THREADS (2) CONNS (32) REPEATS (5) PG (1) BASE_PORT (18590,
# seven ports and PostgreSQL on BASE_PORT+10) DEADLINE (600 s watchdog) KEEP=1 keeps the temp dir.
set -euo pipefail

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
REPEATS=${REPEATS:-5}
PG=${PG:-1}
BASE_PORT=${BASE_PORT:-18590}
DEADLINE=${DEADLINE:-600}
KEEP=${KEEP:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$PATH:/usr/local/go/bin"

# shellcheck source=bench/run.sh
source "$ROOT/bench/run.sh"
PGDIR=""
bench_at_exit() { [[ -z $PGDIR ]] || "$ROOT/scripts/pg-test-env.sh" stop "$PGDIR" >/dev/null 2>&1; }
bench_begin sailcdn-apibench

# ---------------------------------------------------------------------------------------------
# Tools: wrk, curl and botocore from Debian when missing; PostgreSQL's server for PG=1.
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
python3 -c 'import botocore' 2>/dev/null || missing+=(python3-botocore)
if [[ $PG == 1 ]] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then missing+=(postgresql); fi
if ((${#missing[@]})); then
	SUDO=""
	[[ $(id -u) == 0 ]] || SUDO=sudo
	log "installing ${missing[*]} with apt-get"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$ROOT" status --porcelain -- cmd internal go.mod 2>/dev/null) ]] || COMMIT="$COMMIT+dirty"
API_PORT=$BASE_PORT JSON_PORT=$((BASE_PORT + 1)) PG_API_PORT=$((BASE_PORT + 2)) PG_PORT=$((BASE_PORT + 10))
for p in $API_PORT $JSON_PORT $PG_API_PORT $((BASE_PORT + 3)) $((BASE_PORT + 4)) $((BASE_PORT + 5)) $((BASE_PORT + 6)) $PG_PORT; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p is in use (set BASE_PORT)"; fi
done

log "building sailcdn ($COMMIT)"
(cd "$ROOT" && go build -o "$WORK/sailcdn" ./cmd/sailcdn && go build -o "$WORK/nethttp-json" ./bench/nethttp-json)

wait_port() { # port
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
	die "nothing listens on port $1"
}

boto() { python3 "$ROOT/bench/boto3-request.py" "$@"; }

# start_sailcdn label api-port edge-port edge-tls-port [serve flags...] — prints the pid.
start_sailcdn() {
	local label=$1 api=$2 edge=$3 tls=$4
	shift 4
	"$WORK/sailcdn" serve --dev --data "$WORK/$label-data" --api-addr "127.0.0.1:$api" --edge-addr "127.0.0.1:$edge" \
		--edge-tls-addr "127.0.0.1:$tls" \
		--origin bench=http://127.0.0.1:9 --log-level warn "$@" >"$WORK/$label.log" 2>&1 &
	echo $!
}

create_distribution() { # api-port
	boto "http://127.0.0.1:$1" call CreateDistribution \
		'{"distributionName":"bench","origin":{"name":"bench","regionName":"us-east-1"},"defaultCacheBehavior":{"behavior":"cache"},"bundleId":"small_1_0"}' >/dev/null
}

S_PID=$(start_sailcdn sqlite "$API_PORT" $((BASE_PORT + 3)) $((BASE_PORT + 5)))
PIDS+=("$S_PID")
wait_port "$API_PORT"
create_distribution "$API_PORT"

GET_BODY='{"distributionName": "bench"}'
PUT_BODY='{"distributionName": "bench", "isEnabled": true}'

# signed_script op body port — a wrk script replaying one boto3-signed request, plus the reporter.
signed_script() {
	local f="$WORK/$1-$3.lua"
	boto "http://127.0.0.1:$3" wrk "$1" "$2" >"$f"
	cat "$ROOT/bench/wrk-report.lua" >>"$f"
	echo "$f"
}

# The bare handler answers with the bytes sailcdn answers the benchmark's request with.
script=$(signed_script GetDistributions "$GET_BODY" "$API_PORT")
python3 - "$script" "$API_PORT" "$WORK/answer.json" <<'EOF'
import re, sys, urllib.request
lua, port, out = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(lua).read()
unq = lambda s: s.encode().decode("unicode_escape")
headers = dict((unq(k), unq(v)) for k, v in re.findall(r'wrk\.headers\["((?:[^"\\]|\\.)*)"\] = "((?:[^"\\]|\\.)*)"', text))
body = unq(re.search(r'wrk\.body = "((?:[^"\\]|\\.)*)"', text).group(1)).encode()
req = urllib.request.Request("http://127.0.0.1:%s/" % port, data=body, headers=headers, method="POST")
with urllib.request.urlopen(req) as r:
    open(out, "wb").write(r.read())
EOF
ANSWER_BYTES=$(wc -c <"$WORK/answer.json")
"$WORK/nethttp-json" -addr "127.0.0.1:$JSON_PORT" -body "$WORK/answer.json" >"$WORK/nethttp-json.log" 2>&1 &
J_PID=$!
PIDS+=("$J_PID")
wait_port "$JSON_PORT"

PG_PID=""
if [[ $PG == 1 ]]; then
	PGDIR="$WORK/pg"
	# scripts/pg-test-env.sh creates the cluster, role and database, but runs the server with fsync,
	# synchronous_commit and full_page_writes off (its clusters are for tests). The benchmark measures
	# durable commits: the server is restarted with PostgreSQL's defaults for all three.
	DSN=$("$ROOT/scripts/pg-test-env.sh" start "$PGDIR" "$PG_PORT")
	"$ROOT/scripts/pg-test-env.sh" stop "$PGDIR"
	PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	as_pg=()
	[[ $(id -u) == 0 ]] && as_pg=(runuser -u postgres --)
	"${as_pg[@]}" "$PG_BIN/pg_ctl" start -D "$PGDIR" -w -t 60 -l "$PGDIR/server.log" \
		-o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" >/dev/null
	for setting in fsync synchronous_commit full_page_writes; do
		[[ $(psql -Atq "$DSN" -c "SHOW $setting") == on ]] || die "PostgreSQL runs with $setting off"
	done
	PG_PID=$(start_sailcdn pg "$PG_API_PORT" $((BASE_PORT + 4)) $((BASE_PORT + 6)) --database-url "$DSN")
	PIDS+=("$PG_PID")
	wait_port "$PG_API_PORT"
	create_distribution "$PG_API_PORT"
	PG_VERSION=$(psql -Atq "$DSN" -c "SHOW server_version")
fi

# ---------------------------------------------------------------------------------------------
# One wrk run, with the CPU each party used. /proc/stat and /proc/PID/stat count clock ticks.
RESULTS="$WORK/results.txt"
sys_ticks() { awk '/^cpu /{b=$2+$3+$4+$7+$8+$9; print b, b+$5+$6}' /proc/stat; }
proc_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12+$13}'; }
wrk_ticks() { awk -v hz="$(getconf CLK_TCK)" 'NR==2{t=0; for(i=1;i<=2;i++){split($i,a,/[ms]/); t+=a[1]*60+a[2]} printf "%d", t*hz}' "$1"; }

run_wrk() { # label op port pid round
	local label=$1 op=$2 port=$3 pid=$4 rep=$5 body script out s0 s1 p0 p1 c line cpu
	body=$GET_BODY
	[[ $op == UpdateDistribution ]] && body=$PUT_BODY
	script=$(signed_script "$op" "$body" "$port")
	read -r -a s0 <<<"$(sys_ticks)"
	p0=$(proc_ticks "$pid")
	# bash's `times` reports the CPU of finished children: run wrk in a subshell that prints it.
	out=$( (wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$script" "http://127.0.0.1:$port/" 2>&1; times >"$WORK/times.txt") ) || die "wrk failed: $out"
	p1=$(proc_ticks "$pid")
	read -r -a s1 <<<"$(sys_ticks)"
	c=$(wrk_ticks "$WORK/times.txt")
	line=$(grep '^WRKRESULT' <<<"$out") || die "no WRKRESULT from wrk: $out"
	cpu=$(awk -v b=$((s1[0] - s0[0])) -v t=$((s1[1] - s0[1])) -v p=$((p1 - p0)) -v c="$c" -v n="$(nproc)" \
		'BEGIN{per=t/n; o=b-p-c; if (o<0) o=0; printf "server_cores=%.2f wrk_cores=%.2f other_cores=%.2f", p/per, c/per, o/per}')
	echo "$label $op $rep ${line#WRKRESULT } $cpu" >>"$RESULTS"
	[[ $rep == warm ]] && return
	awk -v l="$label" -v o="$op" -v r="$rep" '{for(i=2;i<=NF;i++){split($i,kv,"=");v[kv[1]]=kv[2]}
		errs=v["status_errors"]+v["connect_errors"]+v["read_errors"]+v["write_errors"]+v["timeouts"]
		printf "[bench] run %s %-13s %-18s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  non-2xx/errors %d  cores: server %.2f wrk %.2f other %.2f%s\n",
			r, l, o, v["requests"]/(v["duration_us"]/1e6), v["p50_us"]/1000, v["p99_us"]/1000, errs,
			v["server_cores"], v["wrk_cores"], v["other_cores"], (v["other_cores"] > 0.15 ? "  (disturbed)" : "")}' \
		<<<"x $line $cpu" >&2
	grep -q 'status_errors=0 ' <<<"$line" || die "$label answered non-2xx to $op: $(cat "$WORK/$label.log" 2>/dev/null | tail -3)"
}

{
	echo "sailcdn:   $COMMIT (go $(go env GOVERSION)), sailcdn serve --dev defaults, GOMAXPROCS default ($(nproc) cores)"
	echo "anchor:    bench/nethttp-json, the same $ANSWER_BYTES-byte answer and header fields"
	echo "client:    $(wrk --version 2>&1 | head -1 | awk '{print "wrk", $2}'), -t$THREADS -c$CONNS -d$DURATION; requests as botocore $(python3 -c 'import botocore; print(botocore.__version__)') signs them"
	[[ -n $PG_PID ]] && echo "postgres:  $PG_VERSION on 127.0.0.1, fsync, synchronous_commit and full_page_writes on (defaults)"
	echo "machine:   $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); wrk shares the cores with the server"
	echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) before"
} | tee "$WORK/header.txt" >&2

DURATION=2s run_wrk sailcdn GetDistributions "$API_PORT" "$S_PID" warm
DURATION=2s run_wrk nethttp-json GetDistributions "$JSON_PORT" "$J_PID" warm
log "reads: signed GetDistributions, $REPEATS rounds interleaved"
for rep in $(seq "$REPEATS"); do
	run_wrk sailcdn GetDistributions "$API_PORT" "$S_PID" "$rep"
	run_wrk nethttp-json GetDistributions "$JSON_PORT" "$J_PID" "$rep"
done
log "writes: signed UpdateDistribution"
for rep in $(seq "$REPEATS"); do
	run_wrk sailcdn UpdateDistribution "$API_PORT" "$S_PID" "$rep"
	[[ -n $PG_PID ]] && run_wrk sailcdn-pg UpdateDistribution "$PG_API_PORT" "$PG_PID" "$rep"
done

# ---------------------------------------------------------------------------------------------
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) after" >&2
awk '$3 != "warm" {for(i=4;i<=NF;i++){split($i,kv,"=");v[kv[1]]=kv[2]}
		k=$1" "$2; n[k]++; rps[k, n[k]]=v["requests"]/(v["duration_us"]/1e6); p99[k, n[k]]=v["p99_us"]/1000
		cpu[k, n[k]]=v["server_cores"]*1e6/(v["requests"]/(v["duration_us"]/1e6)); keys[k]=1; round[k, n[k]]=$3}
	function median(arr, k, m,   i, j, t, a) { for(i=1;i<=m;i++) a[i]=arr[k, i]
		for(i=1;i<=m;i++) for(j=i+1;j<=m;j++) if (a[j]<a[i]) {t=a[i]; a[i]=a[j]; a[j]=t}
		return (m%2) ? a[(m+1)/2] : (a[m/2]+a[m/2+1])/2 }
	END {
		print "\nmedians over the rounds:"
		for (k in keys) printf "  %-32s %8.0f req/s  p99 %6.2f ms  server CPU %5.1f µs/request\n", k, median(rps, k, n[k]), median(p99, k, n[k]), median(cpu, k, n[k])
		a="sailcdn GetDistributions"; b="nethttp-json GetDistributions"
		if ((a in keys) && (b in keys)) {
			printf "\nsigned GetDistributions / bare net/http: %.2fx (ratio of the medians); per round:", median(rps, a, n[a]) / median(rps, b, n[b])
			for (i=1; i<=n[a] && i<=n[b]; i++) printf " %.2f", rps[a, i] / rps[b, i]
			print ""
		}
	}' "$RESULTS"
