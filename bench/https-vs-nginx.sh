#!/usr/bin/env bash
# https-vs-nginx.sh — sailcdn's edge against nginx over HTTPS, side by side in one run.
#
#   bash bench/https-vs-nginx.sh
#
# Contenders (all on 127.0.0.1, stopped by the EXIT trap):
#   nginx            Debian's nginx: TLS 1.2/1.3 listener with the SAME ECDSA P-256 certificate and key as
#                    sailcdn's default certificate (exported from sailcdn's store by bench/tlsload), an
#                    ssl_session_cache, and proxy_cache in front of the origin (as bench/edge-vs-nginx.sh)
#   sailcdn          `sailcdn serve --dev` (metering on, fast path on), HTTPS on --edge-tls-addr
#   sailcdn-nethttp  the same with --no-fast-path: does the fast path pay over TLS?
# Viewer: bench/tlsload (wrk cannot set SNI apart from the URL's host, and *.cdn.localhost does not
# resolve through glibc), GOMAXPROCS 2, sharing the two cores with the server under test.
# Runs, each DURATION, REPEATS interleaved rounds, 1 KiB cache hits:
#   keepalive  CONNS connections, requests back to back (HTTP/1.1 keep-alive)
#   newconn    WORKERS workers, one request per new connection, full handshake each
#   resume     the same, resuming the previous connection's TLS session (tickets)
#   (newconn and resume with a client offering X25519 only: nginx 1.22 on OpenSSL 3.0 has no ML-KEM, so
#   both contenders do the same key exchange; newconn-pq: sailcdn with Go's default groups, where it
#   negotiates the hybrid X25519MLKEM768, for information)
# Memory: IDLE_CONNS idle TLS connections (each after one request) are opened to nginx and to sailcdn;
# RSS (nginx: master + workers) before and once all are open, per connection.
# Knobs: DURATION (10s) REPEATS (3) CONNS (64) WORKERS (16) IDLE_CONNS (10000) BASE_PORT (18580)
# DEADLINE (900 s) KEEP=1.
set -euo pipefail

DURATION=${DURATION:-10s}
REPEATS=${REPEATS:-3}
CONNS=${CONNS:-64}
WORKERS=${WORKERS:-16}
IDLE_CONNS=${IDLE_CONNS:-10000}
BASE_PORT=${BASE_PORT:-18580}
DEADLINE=${DEADLINE:-900}
KEEP=${KEEP:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/origin.sh
source "$ROOT/bench/origin.sh"
# shellcheck source=bench/run.sh
source "$ROOT/bench/run.sh"
bench_begin sailcdn-https-bench

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [[ ! -x $NGINX ]] || ! command -v curl >/dev/null; then
	log "installing nginx curl with apt-get"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx curl >/dev/null
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi
# Each process holds one descriptor per idle connection: raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)" || true
(($(ulimit -n) > IDLE_CONNS + 200)) || die "the open-files limit $(ulimit -n) is too low for $IDLE_CONNS connections"
NOFILE=$(ulimit -n)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$ROOT" status --porcelain -- cmd internal bench go.mod 2>/dev/null) ]] || COMMIT="$COMMIT+dirty"

ORIGIN_PORT=$BASE_PORT NGINX_PORT=$((BASE_PORT + 1))
S1_API=$((BASE_PORT + 2)) S1_EDGE=$((BASE_PORT + 3)) S1_TLS=$((BASE_PORT + 4))
S2_API=$((BASE_PORT + 5)) S2_EDGE=$((BASE_PORT + 6)) S2_TLS=$((BASE_PORT + 7))
for p in $(seq "$BASE_PORT" $((BASE_PORT + 7))); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p is in use (set BASE_PORT)"; fi
done

log "building sailcdn and tlsload ($COMMIT)"
(cd "$ROOT" && go build -o "$WORK/sailcdn" ./cmd/sailcdn && go build -o "$WORK/tlsload" ./bench/tlsload)

mkdir -p "$WORK/origin" "$WORK/nginx/cache" "$WORK/nginx/tmp"
bench_objects "$WORK/www"
chmod 777 "$WORK/nginx/cache" "$WORK/nginx/tmp" "$WORK/origin"
origin_conf "$WORK/origin" "$ORIGIN_PORT" "$WORK/www" off >"$WORK/origin/nginx.conf"

start_sailcdn() { # name api edge tls extra...
	local name=$1 api=$2 edge=$3 tls=$4
	shift 4
	mkdir -p "$WORK/$name"
	# Every viewer here is one client address (127.0.0.1), and the idle test opens IDLE_CONNS (10,000)
	# connections from it: sailcdn's per-client bound (1,024 by default, issue 9) is lifted, as nginx
	# has none in its configuration; the total bound (--viewer-max-conns, 16,384) stays.
	"$WORK/sailcdn" serve --dev --data "$WORK/$name" --api-addr "127.0.0.1:$api" --edge-addr "127.0.0.1:$edge" \
		--edge-tls-addr "127.0.0.1:$tls" --origin "bench=http://127.0.0.1:$ORIGIN_PORT" --cache-size 64MiB --log-level warn \
		--viewer-max-conns-per-client -1 "$@" \
		>"$WORK/$name/stdout.log" 2>"$WORK/$name/stderr.log" &
	PIDS+=($!)
	eval "${name^^}_PID=$!"
}
wait_http() { for _ in $(seq 100); do curl -s -o /dev/null --max-time 1 "$1" && return 0; sleep 0.1; done; die "nothing answers at $1"; }
create_distribution() { # api -> domainName
	python3 - "http://127.0.0.1:$1" <<'PY'
import sys, boto3
c = boto3.client("lightsail", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
print(c.create_distribution(distributionName="bench", origin={"name": "bench", "regionName": "us-east-1"},
      defaultCacheBehavior={"behavior": "cache"}, bundleId="small_1_0")["distribution"]["domainName"])
PY
}

"$NGINX" -e "$WORK/origin/error.log" -p "$WORK/origin" -c "$WORK/origin/nginx.conf" >/dev/null 2>&1 &
PIDS+=($!)
start_sailcdn s1 "$S1_API" "$S1_EDGE" "$S1_TLS"
start_sailcdn s2 "$S2_API" "$S2_EDGE" "$S2_TLS" --no-fast-path
wait_http "http://127.0.0.1:$ORIGIN_PORT/1k.bin"
wait_http "http://127.0.0.1:$S1_API/_sailcdn/ca.pem"
wait_http "http://127.0.0.1:$S2_API/_sailcdn/ca.pem"
S1_HOST=$(create_distribution "$S1_API")
S2_HOST=$(create_distribution "$S2_API")
curl -s "http://127.0.0.1:$S1_API/_sailcdn/ca.pem" >"$WORK/s1-ca.pem"
curl -s "http://127.0.0.1:$S2_API/_sailcdn/ca.pem" >"$WORK/s2-ca.pem"
"$WORK/tlsload" export-cert -data "$WORK/s1" -out "$WORK/nginx"

cat >"$WORK/nginx/nginx.conf" <<CONF
# nginx as an HTTPS proxy_cache, as an operator would run it: one worker per core, the same ECDSA
# P-256 certificate as sailcdn, TLS 1.2 and 1.3, a shared session cache plus tickets (resumption),
# keep-alive for viewers, proxy_cache in front of the origin.
worker_processes auto;
worker_rlimit_nofile $NOFILE;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections $NOFILE; }
http {
$(temp_paths "$WORK/nginx/tmp")
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    proxy_cache_path $WORK/nginx/cache levels=1:2 keys_zone=bench:10m max_size=64m inactive=60m use_temp_path=off;
    upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 16; }
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        ssl_certificate $WORK/nginx/cert.pem;
        ssl_certificate_key $WORK/nginx/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:10m;
        ssl_session_timeout 1h;
        ssl_session_tickets on;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache bench;
            proxy_cache_valid 200 1h;
            proxy_cache_lock on;
            add_header X-Cache-Status \$upstream_cache_status always;
        }
    }
}
CONF
"$NGINX" -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >/dev/null 2>&1 &
PIDS+=($!)
NGINX_PID=$!

warm() { # port host ca header value
	for _ in $(seq 80); do
		if curl -s -o /dev/null -D - --max-time 5 --cacert "$3" --resolve "$2:$1:127.0.0.1" "https://$2:$1/1k.bin" | tr -d '\r' | grep -qi "^$4: $5"; then return 0; fi
		sleep 0.25
	done
	die "https://$2:$1/1k.bin never became a cache hit"
}
warm "$NGINX_PORT" "$S1_HOST" "$WORK/s1-ca.pem" X-Cache-Status HIT
warm "$S1_TLS" "$S1_HOST" "$WORK/s1-ca.pem" X-Cache 'Hit from sailcdn'
warm "$S2_TLS" "$S2_HOST" "$WORK/s2-ca.pem" X-Cache 'Hit from sailcdn'
cmp <(openssl s_client -connect "127.0.0.1:$NGINX_PORT" -servername "$S1_HOST" </dev/null 2>/dev/null | openssl x509 -fingerprint -noout) \
	<(openssl s_client -connect "127.0.0.1:$S1_TLS" -servername "$S1_HOST" </dev/null 2>/dev/null | openssl x509 -fingerprint -noout) ||
	die "nginx and sailcdn do not serve the same certificate"

CONTENDERS=("nginx $NGINX_PORT $S1_HOST $WORK/s1-ca.pem" "sailcdn $S1_TLS $S1_HOST $WORK/s1-ca.pem" "sailcdn-nethttp $S2_TLS $S2_HOST $WORK/s2-ca.pem")
pids_of() { case $1 in nginx) echo "$NGINX_PID" $(ps -o pid= --ppid "$NGINX_PID") ;; sailcdn) echo "$S1_PID" ;; sailcdn-nethttp) echo "$S2_PID" ;; esac; }
proc_ticks() { local p t=0; for p in "$@"; do [[ -r /proc/$p/stat ]] && t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12+$13}'))); done; echo "$t"; }
rss_kib() { local p t=0; for p in "$@"; do t=$((t + $(awk '/^VmRSS:/{print $2}' "/proc/$p/status"))); done; echo "$t"; }

RESULTS="$WORK/results.txt"
: >"$RESULTS"
run() { # label port host ca mode rep [curves]
	local pids t0 t1 out hz conc=$CONNS mode=${5%-pq} curves=x25519
	[[ $5 == keepalive ]] || conc=$WORKERS
	[[ $5 == *-pq ]] && curves=default
	pids=$(pids_of "$1")
	hz=$(getconf CLK_TCK)
	t0=$(proc_ticks $pids)
	out=$(GOMAXPROCS=2 "$WORK/tlsload" load -addr "127.0.0.1:$2" -sni "$3" -ca "$4" -path /1k.bin -c "$conc" -d "$DURATION" -mode "$mode" -curves "$curves")
	t1=$(proc_ticks $pids)
	echo "$1 $5 $6 $out server_cpu_s=$(awk -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN{printf "%.2f", t/hz}')" | tee -a "$RESULTS" >&2
}
log "warm-up"
for c in "${CONTENDERS[@]}"; do set -- $c; DURATION=2s run "$1" "$2" "$3" "$4" keepalive warm >/dev/null 2>&1; done
log "measuring: $REPEATS interleaved rounds of $DURATION per mode and contender"
for rep in $(seq "$REPEATS"); do
	for mode in keepalive newconn resume; do
		for c in "${CONTENDERS[@]}"; do set -- $c; run "$1" "$2" "$3" "$4" "$mode" "$rep"; done
	done
	# For information: sailcdn with a client offering Go's default groups negotiates the hybrid
	# post-quantum X25519MLKEM768, which nginx 1.22 (OpenSSL 3.0) cannot.
	set -- ${CONTENDERS[1]}
	run "$1" "$2" "$3" "$4" newconn-pq "$rep"
done

log "idle connections: $IDLE_CONNS to nginx, then to sailcdn"
IDLE_REPORT=()
for c in "${CONTENDERS[@]:0:2}"; do
	set -- $c
	pids=$(pids_of "$1")
	before=$(rss_kib $pids)
	fifo="$WORK/idle-$1"
	mkfifo "$fifo.in"
	GOMAXPROCS=2 "$WORK/tlsload" idle -addr "127.0.0.1:$2" -sni "$3" -ca "$4" -n "$IDLE_CONNS" -hold 120s <"$fifo.in" >"$fifo.out" 2>&1 &
	idle_pid=$!
	PIDS+=($idle_pid)
	exec 4>"$fifo.in"
	for _ in $(seq 600); do grep -q ready "$fifo.out" && break; kill -0 "$idle_pid" 2>/dev/null || die "idle: $(cat "$fifo.out")"; sleep 0.2; done
	grep -q ready "$fifo.out" || die "idle connections did not open"
	sleep 3
	after=$(rss_kib $pids)
	exec 4>&-
	wait "$idle_pid" || true
	IDLE_REPORT+=("$(awk -v l="$1" -v b="$before" -v a="$after" -v n="$IDLE_CONNS" 'BEGIN{printf "%-8s RSS %.1f MiB before, %.1f MiB with %d idle TLS connections: %.1f KiB per connection", l, b/1024, a/1024, n, (a-b)/n}')")
	log "${IDLE_REPORT[-1]}"
	sleep 2
done

median() { sort -g | awk '{a[NR]=$1} END{ if (NR == 0) exit; if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
field_s() { # label mode key: the median run's string value (latencies)
	awk -v l="$1" -v m="$2" -v k="$3" '$1==l && $2==m && $3!="warm"{for(i=4;i<=NF;i++){split($i,kv,"="); if (kv[1]==k) print kv[2]}}' "$RESULTS" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'
}
field() { # label mode key
	awk -v l="$1" -v m="$2" -v k="$3" '$1==l && $2==m && $3!="warm"{for(i=4;i<=NF;i++){split($i,kv,"="); if (kv[1]==k) print kv[2]+0}}' "$RESULTS" | median
}
{
	echo "== sailcdn edge vs nginx over HTTPS: 1 KiB cache hits =="
	echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "sailcdn:  $COMMIT (go $(go env GOVERSION)); nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $(openssl version)"
	echo "viewer:   bench/tlsload, GOMAXPROCS=2, keepalive -c $CONNS, newconn/resume -c $WORKERS, $DURATION x $REPEATS interleaved rounds"
	echo "certificate: the same ECDSA P-256 certificate and key on nginx and sailcdn (fingerprints compared)"
	echo "machine:  $(nproc) cores, $(uname -r); load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "raw runs:"
	sed 's/^/  /' "$RESULTS" | grep -v ' warm '
	echo
	printf '%-16s %-10s %12s %10s %10s\n' server mode "median rps" "p50" "p99"
	for mode in keepalive newconn resume newconn-pq; do
		for l in nginx sailcdn sailcdn-nethttp; do
			v=$(field "$l" "$mode" rps)
			[[ -n $v ]] && printf '%-16s %-10s %12.0f %10s %10s\n' "$l" "$mode" "$v" "$(field_s "$l" "$mode" p50)" "$(field_s "$l" "$mode" p99)"
		done
	done
	echo
	ratio() { awk -v a="$(field "$1" "$3" rps)" -v b="$(field "$2" "$3" rps)" 'BEGIN{printf "%.2f", a/b}'; }
	echo "keepalive 1KiB hits: sailcdn $(ratio sailcdn nginx keepalive)x nginx (goal >= 1.0); fast path over TLS: $(ratio sailcdn sailcdn-nethttp keepalive)x --no-fast-path"
	echo "new connections/s (X25519 both): sailcdn $(ratio sailcdn nginx newconn)x nginx (goal >= 0.8); with X25519MLKEM768 (PQ hybrid, sailcdn only): $(field sailcdn newconn-pq rps | cut -d. -f1)/s"
	echo "resumed connections/s: sailcdn $(ratio sailcdn nginx resume)x nginx; resumed handshakes: sailcdn $(field sailcdn resume resumed), nginx $(field nginx resume resumed) (of $(field sailcdn resume requests), $(field nginx resume requests) requests)"
	for l in "${IDLE_REPORT[@]}"; do echo "$l"; done
} | tee "$WORK/report.txt"
