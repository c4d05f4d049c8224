#!/usr/bin/env bash
# edge-vs-nginx.sh — sailcdn's edge against nginx proxy_cache, side by side in one run, on cache hits.
#
#   bash bench/edge-vs-nginx.sh            # from the repository root (or anywhere: paths are resolved)
#
# What runs (everything on 127.0.0.1, every process started here is stopped by the EXIT trap):
#   origin   nginx, 1 worker, serving 1k.bin (1024 B) and 1m.bin (1048576 B) of random bytes from a
#            temp dir with "Cache-Control: max-age=3600". Cheap and fast; it is only contacted while
#            warming, and its access log proves that (no line may be added during the measured runs).
#   nginx    Debian's nginx as a proxy_cache in front of the origin (configuration below, every
#            setting explained).
#   sailcdn  `sailcdn serve --dev` with metering on, and a second one with metering off, each with its
#            own data dir and one distribution (defaults) created through the Lightsail API with the
#            aws CLI (or boto3), key test/test, region us-east-1.
#   sailcdn-nethttp  (NETHTTP=1, the default) `sailcdn serve --no-fast-path`, metering on: every
#            request through net/http, as before internal/fastpath; shows what the fast path buys.
#   nethttp-ceiling  (CEILING=1; off by default) bench/nethttp-ceiling: a bare Go net/http server that
#            answers with the same bytes and header fields as a sailcdn hit and does nothing else:
#            the best any net/http-based edge could do on this machine.
# Load: wrk -t2 -c64 -d10s with "Host: <distribution domain>" on every request (nginx gets the same
# header), per object size, nginx then sailcdn then sailcdn-without-metering (then the ceiling),
# REPEATS times interleaved. Reported: median req/s and MB/s (MB = 10^6 bytes, counting everything wrk read:
# status lines, header fields, bodies), p50/p99 latency of the median run's neighbours, and ratios.
# Memory: VmRSS of the metered sailcdn from /proc/PID/status while idle (after the curl warm-up, before
# any wrk load) and sampled every 200 ms during its 1 MiB runs (maximum reported), plus VmHWM.
#
# The machine has 2 cores: wrk (2 threads) and the server under test share them, so absolute numbers
# are lower than on separate machines and the ratio is what carries over. The idle servers (origin,
# the other contenders) stay up during each run; they use no CPU while idle apart from sailcdn's
# 250 ms configuration poll.
#
# Knobs (environment): DURATION (10s) THREADS (2) CONNS (64) REPEATS (3) CACHE_MIB (64, sailcdn's
# --cache-size) NGINX_SENDFILE (on) BASE_PORT (18480; nine ports from it) DEADLINE (420 s watchdog)
# NETHTTP (1) CEILING (0) KEEP=1 keeps the temp dir. The run takes about 4.5 minutes with the
# defaults (3.5 with NETHTTP=0, 5.5 with CEILING=1 too).
set -euo pipefail

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
REPEATS=${REPEATS:-3}
CACHE_MIB=${CACHE_MIB:-64}
NGINX_SENDFILE=${NGINX_SENDFILE:-on}
BASE_PORT=${BASE_PORT:-18480}
DEADLINE=${DEADLINE:-420}
KEEP=${KEEP:-0}
CEILING=${CEILING:-0}
NETHTTP=${NETHTTP:-1}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/origin.sh
source "$ROOT/bench/origin.sh"
export PATH="$PATH:/usr/local/go/bin"

# shellcheck source=bench/run.sh
source "$ROOT/bench/run.sh"

# ---------------------------------------------------------------------------------------------
# Process bookkeeping: every background process we start is recorded and stopped on exit; the whole
# run is bounded by a watchdog (bench/run.sh).
bench_begin sailcdn-bench

# ---------------------------------------------------------------------------------------------
# Tools: Debian's nginx and wrk, installed when missing.
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
missing=()
[[ -x $NGINX ]] || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
	SUDO=""
	[[ $(id -u) == 0 ]] || SUDO=sudo
	log "installing ${missing[*]} with apt-get"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi
if command -v aws >/dev/null; then
	API_CLIENT=aws
elif python3 -c 'import boto3' 2>/dev/null; then
	API_CLIENT=boto3
else
	die "need the aws CLI or python3 with boto3 to create the distribution"
fi

NGINX_VERSION=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
WRK_VERSION=$(wrk --version 2>&1 | head -1 | awk '{print $2}' || true)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$ROOT" status --porcelain -- cmd internal go.mod 2>/dev/null) ]] || COMMIT="$COMMIT+dirty"

ORIGIN_PORT=$BASE_PORT
NGINX_PORT=$((BASE_PORT + 1))
S1_EDGE=$((BASE_PORT + 2)) S1_API=$((BASE_PORT + 3))
S2_EDGE=$((BASE_PORT + 4)) S2_API=$((BASE_PORT + 5))
CEIL_PORT=$((BASE_PORT + 6))
S3_EDGE=$((BASE_PORT + 7)) S3_API=$((BASE_PORT + 8))
for p in $ORIGIN_PORT $NGINX_PORT $S1_EDGE $S1_API $S2_EDGE $S2_API $CEIL_PORT $S3_EDGE $S3_API; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p is in use (set BASE_PORT)"; fi
done

log "building sailcdn ($COMMIT)"
(cd "$ROOT" && go build -o "$WORK/sailcdn" ./cmd/sailcdn && go build -o "$WORK/nethttp-ceiling" ./bench/nethttp-ceiling)
SAILCDN_HELP=$("$WORK/sailcdn" serve -h 2>&1 || true)
# The flag that turns metering off: looked up in the binary's help so the script follows renames.
if grep -q -- '-no-metering' <<<"$SAILCDN_HELP"; then
	METER_OFF=(--no-metering)
elif grep -qE -- '^ +-metering' <<<"$SAILCDN_HELP"; then
	METER_OFF=(--metering=false)
else
	die "sailcdn serve has no metering switch (looked for --no-metering / --metering)"
fi
grep -q -- '-cache-size' <<<"$SAILCDN_HELP" || die "sailcdn serve has no --cache-size flag yet"

# ---------------------------------------------------------------------------------------------
# Origin and objects (bench/origin.sh). The origin's access log is counted before and after the
# measured runs: a cache hit never reaches the origin.
mkdir -p "$WORK/origin" "$WORK/nginx/cache" "$WORK/nginx/tmp"
bench_objects "$WORK/www"
chmod 777 "$WORK/nginx/cache" "$WORK/nginx/tmp" "$WORK/origin"
origin_conf "$WORK/origin" "$ORIGIN_PORT" "$WORK/www" "$WORK/origin/access.log" >"$WORK/origin/nginx.conf"

cat >"$WORK/nginx/nginx.conf" <<EOF
# nginx proxy_cache, configured as an operator would for a fast cache in front of one origin.
# One worker per core, like sailcdn's GOMAXPROCS.
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events {
    # 64 wrk connections plus upstream keepalive fit easily.
    worker_connections 4096;
}
http {
$(temp_paths "$WORK/nginx/tmp")
    default_type application/octet-stream;
    # No per-request logging on either side (sailcdn runs with --log-level warn and no access log).
    access_log off;
    # Debian's defaults. Cache hits are sent from the cache file (ngx_http_cache_send hands the
    # file to the output chain), so sendfile DOES apply to proxy_cache hits: zero-copy from the
    # page cache. NGINX_SENDFILE=off measures nginx copying through user space, as sailcdn does.
    sendfile $NGINX_SENDFILE;
    tcp_nopush on;
    tcp_nodelay on;
    # Viewers keep their connections (wrk reuses them); high enough that wrk never reconnects.
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    # The cache: files under $WORK/nginx/cache (on /tmp; the two objects stay in the page cache),
    # a 10 MB shared-memory key zone (about 80 000 keys), a max_size equal to sailcdn's
    # --cache-size, entries dropped after 60 minutes without use, and files written directly in
    # the cache directory (use_temp_path=off) rather than moved from a temp dir.
    proxy_cache_path $WORK/nginx/cache levels=1:2 keys_zone=bench:10m max_size=${CACHE_MIB}m inactive=60m use_temp_path=off;
    upstream origin {
        server 127.0.0.1:$ORIGIN_PORT;
        # Reuse origin connections (needs HTTP/1.1 and an empty Connection header below).
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache bench;
            # The origin's max-age=3600 decides freshness; proxy_cache_valid applies only to
            # responses without their own freshness and is given for completeness.
            proxy_cache_valid 200 1h;
            # One origin request per object while filling (sailcdn collapses too).
            proxy_cache_lock on;
            # Lets the script verify hits: HIT / MISS / EXPIRED …
            add_header X-Cache-Status \$upstream_cache_status always;
        }
    }
}
EOF

start_nginx() { # name conf
	"$NGINX" -e "$WORK/$1/error.log" -p "$WORK/$1" -c "$2" >"$WORK/$1/stdout.log" 2>&1 &
	PIDS+=($!)
	eval "${1^^}_PID=$!"
}

wait_http() { # url [host]
	for _ in $(seq 100); do
		if curl -s -o /dev/null --max-time 1 -H "Host: ${2:-localhost}" "$1"; then return 0; fi
		sleep 0.1
	done
	die "nothing answers at $1"
}

"$NGINX" -t -q -e "$WORK/origin/error.log" -p "$WORK/origin" -c "$WORK/origin/nginx.conf" || die "origin nginx.conf"
"$NGINX" -t -q -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" || die "cache nginx.conf"
start_nginx origin "$WORK/origin/nginx.conf"
start_nginx nginx "$WORK/nginx/nginx.conf"
wait_http "http://127.0.0.1:$ORIGIN_PORT/1k.bin"
wait_http "http://127.0.0.1:$NGINX_PORT/1k.bin"

# ---------------------------------------------------------------------------------------------
# sailcdn: two servers, metering on (s1) and off (s2).
start_sailcdn() { # name api edge extra-flags...
	local name=$1 api=$2 edge=$3
	shift 3
	mkdir -p "$WORK/$name"
	# No HTTPS port (--edge-tls-addr ""): this benchmark measures plain HTTP, and the contenders
	# would otherwise all ask for the default TLS port (bench/https-vs-nginx.sh measures HTTPS).
	"$WORK/sailcdn" serve --dev --data "$WORK/$name" --api-addr "127.0.0.1:$api" --edge-addr "127.0.0.1:$edge" \
		--edge-tls-addr "" --origin "bench=http://127.0.0.1:$ORIGIN_PORT" --cache-size "${CACHE_MIB}MiB" --log-level warn "$@" \
		>"$WORK/$name/stdout.log" 2>"$WORK/$name/stderr.log" &
	PIDS+=($!)
	eval "${name^^}_PID=$!"
}

create_distribution() { # api-port -> prints domainName
	local endpoint="http://127.0.0.1:$1"
	local -x AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
	if [[ $API_CLIENT == aws ]]; then
		aws lightsail create-distribution --endpoint-url "$endpoint" --distribution-name bench \
			--origin name=bench,regionName=us-east-1 --default-cache-behavior behavior=cache \
			--bundle-id small_1_0 --query distribution.domainName --output text
	else
		python3 - "$endpoint" <<'PY'
import sys, boto3
c = boto3.client("lightsail", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
d = c.create_distribution(distributionName="bench", origin={"name": "bench", "regionName": "us-east-1"},
                          defaultCacheBehavior={"behavior": "cache"}, bundleId="small_1_0")
print(d["distribution"]["domainName"])
PY
	fi
}

start_sailcdn s1 "$S1_API" "$S1_EDGE"
start_sailcdn s2 "$S2_API" "$S2_EDGE" "${METER_OFF[@]}"
wait_http "http://127.0.0.1:$S1_API/"
wait_http "http://127.0.0.1:$S2_API/"
if [[ $NETHTTP == 1 ]]; then
	grep -q -- '-no-fast-path' <<<"$SAILCDN_HELP" || die "sailcdn serve has no --no-fast-path flag"
	start_sailcdn s3 "$S3_API" "$S3_EDGE" --no-fast-path
	wait_http "http://127.0.0.1:$S3_API/"
fi
if [[ $CEILING == 1 ]]; then
	"$WORK/nethttp-ceiling" -addr "127.0.0.1:$CEIL_PORT" -dir "$WORK/www" >"$WORK/ceiling.log" 2>&1 &
	PIDS+=($!)
	CEIL_PID=$!
	wait_http "http://127.0.0.1:$CEIL_PORT/1k.bin"
fi
S1_HOST=$(create_distribution "$S1_API") || die "CreateDistribution on s1"
S2_HOST=$(create_distribution "$S2_API") || die "CreateDistribution on s2"
log "distributions: $S1_HOST (metered) $S2_HOST (unmetered)"
if [[ $NETHTTP == 1 ]]; then
	S3_HOST=$(create_distribution "$S3_API") || die "CreateDistribution on s3"
	log "distribution: $S3_HOST (net/http only)"
fi

# ---------------------------------------------------------------------------------------------
# Warm-up: request each object until the cache says it is a hit (the edge picks up a new
# distribution within its 250 ms poll).
warm() { # port host path header-name hit-value
	local i hdr
	for i in $(seq 80); do
		hdr=$(curl -s -o /dev/null -D - --max-time 5 -H "Host: $2" "http://127.0.0.1:$1/$3" | tr -d '\r' || true)
		if grep -qi "^$4: $5" <<<"$hdr"; then
			log "warm: 127.0.0.1:$1/$3 -> $(grep -i "^$4:" <<<"$hdr")"
			return 0
		fi
		sleep 0.25
	done
	printf '%s\n' "$hdr" >&2
	die "127.0.0.1:$1/$3 never became a cache hit"
}
for f in 1k.bin 1m.bin; do
	warm "$NGINX_PORT" "$S1_HOST" "$f" X-Cache-Status HIT
	warm "$S1_EDGE" "$S1_HOST" "$f" X-Cache 'Hit from sailcdn'
	warm "$S2_EDGE" "$S2_HOST" "$f" X-Cache 'Hit from sailcdn'
	if [[ $NETHTTP == 1 ]]; then warm "$S3_EDGE" "$S3_HOST" "$f" X-Cache 'Hit from sailcdn'; fi
done
CONTENDERS=("nginx $NGINX_PORT $S1_HOST" "sailcdn $S1_EDGE $S1_HOST" "sailcdn-nometer $S2_EDGE $S2_HOST")
[[ $NETHTTP == 1 ]] && CONTENDERS+=("sailcdn-nethttp $S3_EDGE $S3_HOST")
[[ $CEILING == 1 ]] && CONTENDERS+=("nethttp-ceiling $CEIL_PORT $S1_HOST")
# Byte-identical bodies from all of them.
for f in 1k.bin 1m.bin; do
	want=$(sha256sum <"$WORK/www/$f")
	for t in "${CONTENDERS[@]#* }"; do
		set -- $t
		got=$(curl -s --max-time 5 -H "Host: $2" "http://127.0.0.1:$1/$f" | sha256sum)
		[[ $got == "$want" ]] || die "127.0.0.1:$1/$f body differs from the origin's"
	done
done

rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/{print $2}' "/proc/$1/status"; }
sleep 1
IDLE_RSS=$(rss_kib "$S1_PID")
IDLE_RSS2=$(rss_kib "$S2_PID")

# ---------------------------------------------------------------------------------------------
# Load.
RESULTS="$WORK/results.txt"
: >"$RESULTS"
# CPU accounting per run, to tell a clean run from one disturbed by other work on the machine:
# the server's own CPU time (nginx: master and workers), wrk's (reaped children of this shell), and
# the rest of the machine's busy time ("other"), each in cores over the run.
sys_ticks() { awk '/^cpu /{b=$2+$3+$4+$7+$8+$9; print b, b+$5+$6}' /proc/stat; }
proc_ticks() { # pid... -> utime+stime in clock ticks, summed
	local p t=0
	for p in "$@"; do
		[[ -r /proc/$p/stat ]] && t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12+$13}')))
	done
	echo "$t"
}
children_ticks() { # `times` must run in this shell (not a subshell) to see the children it reaped
	times >"$WORK/times.txt"
	awk -v hz="$(getconf CLK_TCK)" 'NR==2{t=0; for(i=1;i<=2;i++){split($i,a,/[ms]/); t+=a[1]*60+a[2]} printf "%d", t*hz}' "$WORK/times.txt"
}
server_pids() { # label
	case $1 in
	nginx) echo "$NGINX_PID" $(ps -o pid= --ppid "$NGINX_PID") ;;
	sailcdn) echo "$S1_PID" ;;
	sailcdn-nometer) echo "$S2_PID" ;;
	sailcdn-nethttp) echo "$S3_PID" ;;
	nethttp-ceiling) echo "$CEIL_PID" ;;
	esac
}

run_wrk() { # label size port host repeat [rss-sample-pid]
	local label=$1 size=$2 port=$3 host=$4 rep=$5 spid=${6:-} out sampler="" pids
	if [[ -n $spid ]]; then
		(while kill -0 "$spid" 2>/dev/null; do rss_kib "$spid"; sleep 0.2; done) >>"$WORK/rss-load.txt" 2>/dev/null &
		sampler=$!
	fi
	pids=$(server_pids "$label")
	local s0 p0 c0 s1 p1 c1
	read -r -a s0 <<<"$(sys_ticks)"
	p0=$(proc_ticks $pids)
	children_ticks >"$WORK/c0"
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$ROOT/bench/wrk-report.lua" \
		-H "Host: $host" "http://127.0.0.1:$port/$size.bin" 2>&1) || die "wrk failed: $out"
	children_ticks >"$WORK/c1"
	c0=$(<"$WORK/c0") c1=$(<"$WORK/c1")
	p1=$(proc_ticks $pids)
	read -r -a s1 <<<"$(sys_ticks)"
	[[ -n $sampler ]] && { kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; }
	local line cpu
	line=$(grep '^WRKRESULT' <<<"$out") || die "no WRKRESULT from wrk: $out"
	# ticks per core over the run = total ticks / cores
	cpu=$(awk -v b=$((s1[0] - s0[0])) -v t=$((s1[1] - s0[1])) -v p=$((p1 - p0)) -v c=$((c1 - c0)) -v n="$(nproc)" \
		'BEGIN{per=t/n; o=b-p-c; if (o<0) o=0; printf "server_cores=%.2f wrk_cores=%.2f other_cores=%.2f", p/per, c/per, o/per}')
	echo "$label $size $rep ${line#WRKRESULT } $cpu" >>"$RESULTS"
	if [[ $rep != warm ]]; then
		awk -v l="$label" -v s="$size" -v r="$rep" '{for(i=2;i<=NF;i++){split($i,kv,"=");v[kv[1]]=kv[2]}
			errs=v["status_errors"]+v["connect_errors"]+v["read_errors"]+v["write_errors"]+v["timeouts"]
			printf "[bench] run %s %-16s %s %9.0f req/s %7.1f MB/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  cores: server %.2f wrk %.2f other %.2f%s\n",
				r, l, s, v["requests"]/(v["duration_us"]/1e6), v["bytes"]/v["duration_us"], v["p50_us"]/1000, v["p99_us"]/1000, errs,
				v["server_cores"], v["wrk_cores"], v["other_cores"], (v["other_cores"] > 0.15 ? "  (disturbed)" : "")}' \
			<<<"x $line $cpu" >&2
	fi
}

# A short warm-up load per contender and size (connection setup, goroutine stacks, page cache).
for size in 1k 1m; do
	for c in "${CONTENDERS[@]}"; do
		set -- $c
		DURATION=2s run_wrk "$1" "$size" "$2" "$3" warm
	done
done

ORIGIN_LINES_BEFORE=$(wc -l <"$WORK/origin/access.log")
log "measuring: wrk -t$THREADS -c$CONNS -d$DURATION, $REPEATS rounds, interleaved"
for rep in $(seq "$REPEATS"); do
	for size in 1k 1m; do
		run_wrk nginx "$size" "$NGINX_PORT" "$S1_HOST" "$rep"
		if [[ $size == 1m ]]; then
			run_wrk sailcdn "$size" "$S1_EDGE" "$S1_HOST" "$rep" "$S1_PID"
		else
			run_wrk sailcdn "$size" "$S1_EDGE" "$S1_HOST" "$rep"
		fi
		run_wrk sailcdn-nometer "$size" "$S2_EDGE" "$S2_HOST" "$rep"
		if [[ $NETHTTP == 1 ]]; then run_wrk sailcdn-nethttp "$size" "$S3_EDGE" "$S3_HOST" "$rep"; fi
		if [[ $CEILING == 1 ]]; then run_wrk nethttp-ceiling "$size" "$CEIL_PORT" "$S1_HOST" "$rep"; fi
	done
done
ORIGIN_LINES_AFTER=$(wc -l <"$WORK/origin/access.log")
LOAD_HWM=$(hwm_kib "$S1_PID")
LOAD_RSS_MAX=$(sort -n "$WORK/rss-load.txt" | tail -1)
AFTER_RSS=$(rss_kib "$S1_PID")

# ---------------------------------------------------------------------------------------------
# Report.
{
	echo
	echo "== sailcdn edge vs nginx proxy_cache: cache hits =="
	echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "sailcdn:  $COMMIT (go $(go env GOVERSION)), --cache-size ${CACHE_MIB} MiB, GOMAXPROCS default ($(nproc) cores)"
	echo "nginx:    $NGINX_VERSION, worker_processes auto, sendfile $NGINX_SENDFILE"
	echo "wrk:      $WRK_VERSION, -t$THREADS -c$CONNS -d$DURATION, $REPEATS interleaved rounds, Host: <domainName>"
	echo "machine:  $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); wrk shares the cores with the server"
	awk '$3!="warm"{for(i=4;i<=NF;i++){split($i,kv,"=");v[kv[1]]=kv[2]} if (v["other_cores"]>m) m=v["other_cores"]; if (v["other_cores"]>0.15) d++}
		END{printf "other work on the machine during the runs: at most %.2f cores; %d runs disturbed (> 0.15 cores)\n", m, d}' "$RESULTS"
	echo "hit response header sections (wrk's bytes include them):"
	for c in "${CONTENDERS[@]}"; do
		set -- $c
		curl -s -o /dev/null -D - --max-time 5 -H "Host: $3" "http://127.0.0.1:$2/1k.bin" | tr -d '\r' | sed "/^$/d; s/^/  $1: /"
	done
	echo "origin requests during the measured runs: $((ORIGIN_LINES_AFTER - ORIGIN_LINES_BEFORE)) (0 = every response was a hit)"
	echo
	echo "raw runs (label size round requests bytes duration_us errors p50_us p99_us | cores: server wrk other):"
	awk '$3!="warm"{for(i=4;i<=NF;i++){split($i,kv,"=");v[kv[1]]=kv[2]}
		printf "  %-16s %s %s %9.0f %12.0f %9.0f %d %6.0f %6.0f | %.2f %.2f %.2f\n", $1,$2,$3, v["requests"], v["bytes"], v["duration_us"],
			v["status_errors"]+v["connect_errors"]+v["read_errors"]+v["write_errors"]+v["timeouts"], v["p50_us"], v["p99_us"],
			v["server_cores"], v["wrk_cores"], v["other_cores"]}' "$RESULTS"
	echo
} >"$WORK/report.txt"

# Medians per (label, size): req/s and MB/s of each round, median taken separately.
median() { sort -g | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
metric() { # label size field(rps|mbps|p99)
	awk -v l="$1" -v s="$2" -v f="$3" '$1==l && $2==s && $3!="warm"{for(i=4;i<=NF;i++){split($i,kv,"=");v[kv[1]]=kv[2]}
		if (f=="rps") print v["requests"]/(v["duration_us"]/1e6);
		else if (f=="mbps") print v["bytes"]/v["duration_us"];
		else if (f=="cores") print v["server_cores"];
		else print v["p99_us"]/1000}' "$RESULTS" | median
}
ERRORS=$(awk '$3!="warm"{for(i=4;i<=NF;i++){split($i,kv,"=");v[kv[1]]=kv[2]}
	t+=v["status_errors"]+v["connect_errors"]+v["read_errors"]+v["write_errors"]+v["timeouts"]} END{print t+0}' "$RESULTS")

declare -A RPS MBPS
{
	printf '%-6s %-16s %14s %12s %14s %13s\n' size server "median req/s" "median MB/s" "median p99 ms" "server cores"
	for size in 1k 1m; do
		for label in nginx sailcdn sailcdn-nometer $([[ $NETHTTP == 1 ]] && echo sailcdn-nethttp) $([[ $CEILING == 1 ]] && echo nethttp-ceiling); do
			RPS[$label$size]=$(metric "$label" "$size" rps)
			MBPS[$label$size]=$(metric "$label" "$size" mbps)
			printf '%-6s %-16s %14.0f %12.1f %14.2f %13.2f\n' "$(sed "s/k$/ KiB/; s/m$/ MiB/" <<<"$size")" "$label" "${RPS[$label$size]}" "${MBPS[$label$size]}" "$(metric "$label" "$size" p99)" "$(metric "$label" "$size" cores)"
		done
	done
	echo
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
	verdict() { awk -v r="$1" -v g="$2" 'BEGIN{print (r+0 >= g+0) ? "meets" : "MISSES"}'; }
	# Per-round ratios (the two runs of a round are seconds apart, so they share the machine's state).
	rounds() { # a b size -> ratio a/b of req/s for each round
		awk -v a="$1" -v b="$2" -v s="$3" '$2==s && $3!="warm"{for(i=4;i<=NF;i++){split($i,kv,"=");v[kv[1]]=kv[2]}
			x[$1,$3]=v["requests"]/v["duration_us"]; if ($3+0>n) n=$3+0}
			END{for(r=1;r<=n;r++) printf "%s%.2f", (r>1?" ":""), x[a,r]/x[b,r]}' "$RESULTS"
	}
	r1=$(ratio "${RPS[sailcdn1k]}" "${RPS[nginx1k]}")
	r2=$(ratio "${RPS[sailcdn1m]}" "${RPS[nginx1m]}")
	m1=$(ratio "${RPS[sailcdn1k]}" "${RPS[sailcdn-nometer1k]}")
	m2=$(ratio "${RPS[sailcdn1m]}" "${RPS[sailcdn-nometer1m]}")
	echo "ratio 1KiB hits: ${r1}x nginx (goal >= 1.00: $(verdict "$r1" 1.00); per round: $(rounds sailcdn nginx 1k))"
	echo "ratio 1MiB hits: ${r2}x nginx (goal >= 0.90: $(verdict "$r2" 0.90); per round: $(rounds sailcdn nginx 1m))"
	echo "metering on/off 1KiB: ${m1}x (goal >= 0.97: $(verdict "$m1" 0.97); per round: $(rounds sailcdn sailcdn-nometer 1k))"
	echo "metering on/off 1MiB: ${m2}x (goal >= 0.97: $(verdict "$m2" 0.97); per round: $(rounds sailcdn sailcdn-nometer 1m))"
	if [[ $NETHTTP == 1 ]]; then
		for size in 1k 1m; do
			n=$(sed "s/k$/KiB/; s/m$/MiB/" <<<"$size")
			echo "fast path $n: sailcdn ${RPS[sailcdn$size]%.*} req/s vs --no-fast-path ${RPS[sailcdn-nethttp$size]%.*}: $(ratio "${RPS[sailcdn$size]}" "${RPS[sailcdn-nethttp$size]}")x (per round: $(rounds sailcdn sailcdn-nethttp "$size")); --no-fast-path is $(ratio "${RPS[sailcdn-nethttp$size]}" "${RPS[nginx$size]}")x nginx"
		done
	fi
	if [[ $CEILING == 1 ]]; then
		for size in 1k 1m; do
			n=$(sed "s/k$/KiB/; s/m$/MiB/" <<<"$size")
			echo "net/http ceiling $n: $(ratio "${RPS[nethttp-ceiling$size]}" "${RPS[nginx$size]}")x nginx (per round: $(rounds nethttp-ceiling nginx "$size")); sailcdn reaches $(ratio "${RPS[sailcdn$size]}" "${RPS[nethttp-ceiling$size]}")x of it, unmetered $(ratio "${RPS[sailcdn-nometer$size]}" "${RPS[nethttp-ceiling$size]}")x"
		done
	fi
	idle_mib=$(awk -v k="$IDLE_RSS" 'BEGIN{printf "%.1f", k/1024}')
	load_mib=$(awk -v k="$LOAD_RSS_MAX" 'BEGIN{printf "%.1f", k/1024}')
	hwm_mib=$(awk -v k="$LOAD_HWM" 'BEGIN{printf "%.1f", k/1024}')
	bound=$((CACHE_MIB + 64))
	echo "sailcdn RSS idle: ${idle_mib} MiB (goal < 40: $(awk -v r="$idle_mib" 'BEGIN{print (r < 40) ? "meets" : "MISSES"}')); unmetered server idle: $(awk -v k="$IDLE_RSS2" 'BEGIN{printf "%.1f", k/1024}') MiB"
	echo "sailcdn RSS under 1MiB load: max ${load_mib} MiB sampled, VmHWM ${hwm_mib} MiB (goal <= --cache-size + 64 = ${bound} MiB: $(awk -v r="$hwm_mib" -v b="$bound" 'BEGIN{print (r <= b) ? "meets" : "MISSES"}')); after the runs: $(awk -v k="$AFTER_RSS" 'BEGIN{printf "%.1f", k/1024}') MiB"
	echo "errors in measured runs: $ERRORS"
} >>"$WORK/report.txt"
cat "$WORK/report.txt"

((ORIGIN_LINES_AFTER == ORIGIN_LINES_BEFORE)) || die "the origin was contacted during the measured runs: not all hits"
((ERRORS == 0)) || die "wrk saw errors"
