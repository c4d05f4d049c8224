#!/usr/bin/env bash
# cluster.sh — a sailcdn fleet on loopback, to try scaling out: a private PostgreSQL, two API nodes, one
# parent edge (the origin shield) and two edges that fetch their misses through it, plus a small demo
# origin. Prints where everything listens, then runs until Ctrl-C, which stops every process it started
# and removes the cluster's data.
#
#   scripts/cluster.sh                  # builds ./cmd/sailcdn, ports from BASE_PORT (7400)
#
# Environment: BASE_PORT (7400: API nodes on +0 and +1, edges on +10..+12, their HTTPS ports on
# +13..+15, their admin ports on +20..+22), PG_PORT (55600), SAILCDN_BIN (a built binary: skips the build), ORIGIN_URL (an origin of
# your own instead of the demo one; registered as "web"). Every node runs with --dev (key test/test,
# loopback only), the cluster's one --key-encryption-key and its own --spill-dir; logs are in the
# cluster's directory (printed).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_PORT=${BASE_PORT:-7400}
PG_PORT=${PG_PORT:-55600}
dir=$(mktemp -d /tmp/sailcdn-cluster.XXXXXX)
# The PostgreSQL cluster's directory must be reachable by the postgres user when this runs as root.
pgdir=$(mktemp -d /tmp/sailcdn-cluster-pg.XXXXXX)
pids=()  # every process started here
names=() # their names (their logs are $dir/NAME.log)

stop_all() {
	trap - INT TERM EXIT
	echo
	echo "cluster: stopping"
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	scripts/pg-test-env.sh stop "$pgdir" >/dev/null 2>&1 || true
	rm -rf "$dir" "$pgdir"
	echo "cluster: stopped"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

bin=${SAILCDN_BIN:-}
if [ -z "$bin" ]; then
	echo "cluster: building sailcdn"
	go build -o "$dir/sailcdn" ./cmd/sailcdn
	bin="$dir/sailcdn"
fi
dsn=$(scripts/pg-test-env.sh start "$pgdir" "$PG_PORT")
# Every node seals and opens certificates' private keys with the same key, as a fleet must.
head -c 32 /dev/urandom | base64 >"$dir/kek"
chmod 600 "$dir/kek"

origin=${ORIGIN_URL:-}
if [ -z "$origin" ]; then
	mkdir -p "$dir/www"
	echo "hello from the demo origin" >"$dir/www/index.html"
	python3 -m http.server --bind 127.0.0.1 --directory "$dir/www" "$((BASE_PORT + 30))" >"$dir/origin.log" 2>&1 &
	pids+=($!)
	names+=(origin)
	origin="http://127.0.0.1:$((BASE_PORT + 30))"
fi

# node NAME ARGS...: starts one sailcdn node in the background, logging to $dir/NAME.log.
node() {
	local name=$1
	shift
	"$bin" serve --dev --database-url "$dsn" --key-encryption-key "$dir/kek" --log-level info "$@" >"$dir/$name.log" 2>&1 &
	pids+=($!)
	names+=("$name")
}

# ready URL NAME: waits until URL answers 200, or fails with the node's log.
ready() {
	local i
	for i in $(seq 1 300); do
		if curl -fsS -o /dev/null "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "cluster: $2 did not start; its log:" >&2
	tail -20 "$dir/$2.log" >&2
	exit 1
}

api1=127.0.0.1:$BASE_PORT
api2=127.0.0.1:$((BASE_PORT + 1))
parent=127.0.0.1:$((BASE_PORT + 10))
edge1=127.0.0.1:$((BASE_PORT + 11))
edge2=127.0.0.1:$((BASE_PORT + 12))
admin() { echo "127.0.0.1:$((BASE_PORT + 20 + $1))"; }
tls() { echo "127.0.0.1:$((BASE_PORT + 13 + $1))"; }

# The first API node migrates the new database and registers the origin; the others start after it.
node api-1 --role api --api-addr "$api1" --origin "web=$origin"
ready "http://$api1/readyz" api-1
node api-2 --role api --api-addr "$api2"
node parent --role edge --edge-addr "$parent" --edge-tls-addr "$(tls 0)" --admin-addr "$(admin 0)" --spill-dir "$dir/spill-parent"
node edge-1 --role edge --edge-addr "$edge1" --edge-tls-addr "$(tls 1)" --admin-addr "$(admin 1)" --spill-dir "$dir/spill-edge-1" --parent "http://$parent"
node edge-2 --role edge --edge-addr "$edge2" --edge-tls-addr "$(tls 2)" --admin-addr "$(admin 2)" --spill-dir "$dir/spill-edge-2" --parent "http://$parent"
ready "http://$api2/readyz" api-2
ready "http://$(admin 0)/readyz" parent
ready "http://$(admin 1)/readyz" edge-1
ready "http://$(admin 2)/readyz" edge-2

cat <<EOF

sailcdn cluster on loopback (every node: --dev, key test/test, account 000000000000)
  postgres   $dsn
  origin     $origin   (registered as "web")
  api-1      http://$api1        Lightsail API, console /console/, /_sailcdn/
  api-2      http://$api2        the same database: either API node will do
  parent     http://$parent        edge (origin shield)         https://$(tls 0)  admin http://$(admin 0)
  edge-1     http://$edge1        edge, misses via the parent  https://$(tls 1)  admin http://$(admin 1)
  edge-2     http://$edge2        edge, misses via the parent  https://$(tls 2)  admin http://$(admin 2)
  logs       $dir/*.log

Try:
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  aws lightsail create-distribution --endpoint-url http://$api1 --distribution-name demo \\
    --origin name=web,regionName=us-east-1 --default-cache-behavior behavior=cache --bundle-id small_1_0
  DOMAIN=\$(aws lightsail get-distributions --endpoint-url http://$api2 --distribution-name demo \\
    --query 'distributions[0].domainName' --output text)
  curl -i -H "Host: \$DOMAIN" http://$edge1/index.html     # Miss (fetched through the parent), then Hit
  curl -i -H "Host: \$DOMAIN" http://$edge2/index.html     # Miss here, a Hit at the parent: no origin fetch
  curl -s http://$api1/_sailcdn/edges                      # the edge registry: generation, heartbeat, live
  curl -s http://$api1/_sailcdn/ca.pem >ca.pem             # HTTPS: trust the cluster's CA, ask for the name
  curl --cacert ca.pem --resolve "\$DOMAIN:$((BASE_PORT + 14)):127.0.0.1" https://\$DOMAIN:$((BASE_PORT + 14))/index.html

cluster ready; Ctrl-C stops it
EOF

# Run until Ctrl-C, or until a node stops by itself (then say which, and stop the rest).
wait -n "${pids[@]}" || true
for i in "${!pids[@]}"; do
	if ! kill -0 "${pids[$i]}" 2>/dev/null; then
		echo "cluster: ${names[$i]} stopped by itself; the end of its log:" >&2
		tail -20 "$dir/${names[$i]}.log" >&2
	fi
done
exit 1
