#!/usr/bin/env bash
# End-to-end tests of sailcdn with real clients of two generations:
#   old: Debian's /usr/bin/python3 + python3-boto3 1.26 (Dec-2022 model) and Debian's awscli 2.9 (/usr/bin/aws)
#   new: a newer python3 with boto3 on PATH (pyenv) and pip's AWS CLI v1 (installed on PATH, not /usr/bin/aws)
# Builds the binary once, starts one fresh server per test-module run (own data dir, free ports), and
# ends with exactly one line "e2e: N passed, M failed". Exits non-zero on any failure.
#
# Overrides: E2E_NEW_PYTHON, E2E_NEW_AWS (paths), E2E_KEEP_LOGS=1 (keep server logs in $TMPDIR).
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sailcdn-e2e.XXXXXX")
server_pid="" # at most one server runs at a time: each suite stops its own before the next starts

cleanup() {
	stop_server
	if [ "${E2E_KEEP_LOGS:-}" = 1 ]; then
		echo "e2e: logs kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
		server_pid=""
	fi
}

passed=0
failed=0
skipped=0

summary_and_exit() {
	echo "e2e: skipped tests: $skipped"
	echo "e2e: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# --- the old generation is Debian's packages: install them when missing (root only) ---------------------
old_python=/usr/bin/python3
old_aws=/usr/bin/aws
if ! "$old_python" -s -c 'import boto3' 2>/dev/null || [ ! -x "$old_aws" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "e2e: installing python3-boto3 awscli (Debian packages)"
		apt-get update -qq >"$tmp/apt.log" 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-boto3 awscli >>"$tmp/apt.log" 2>&1 ||
			{ cat "$tmp/apt.log" >&2; }
	fi
fi

# --- build once ----------------------------------------------------------------------------------------
echo "e2e: building sailcdn"
if ! (cd "$root" && go build -o "$tmp/sailcdn" ./cmd/sailcdn); then
	echo "e2e: build failed" >&2
	failed=$((failed + 1))
	summary_and_exit
fi
bin="$tmp/sailcdn"

# A second account besides --dev's: a test owns it whole (its first and last distribution).
second_key_id=AKIAE2ESECOND0000001 second_secret=e2e-second-secret second_account=222233334444
cat >"$tmp/credentials" <<CREDENTIALS
[second]
aws_access_key_id = $second_key_id
aws_secret_access_key = $second_secret
aws_account_id = $second_account
CREDENTIALS

free_port() {
	"$old_python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_server NAME [extra serve flags...]: starts a fresh server and sets endpoint and server_pid.
# A port picked free can be taken before the server binds it, so a failed start is retried on new ports.
start_server() {
	local name=$1 attempt api edge tls data log i
	shift
	for attempt in 1 2 3; do
		api=$(free_port) edge=$(free_port) tls=$(free_port)
		data="$tmp/data-$name"
		log="$tmp/server-$name.log"
		rm -rf "$data"
		"$bin" serve --dev --api-addr "127.0.0.1:$api" --edge-addr "127.0.0.1:$edge" --edge-tls-addr "127.0.0.1:$tls" --data "$data" \
			--origin "web=http://origin.localhost:8081/" --deploy-delay 2s --max-distributions 200 --credentials "$tmp/credentials" \
			--log-level warn "$@" >"$log" 2>&1 &
		server_pid=$!
		for i in $(seq 1 100); do
			if ! kill -0 "$server_pid" 2>/dev/null; then
				break
			fi
			if (exec 3<>"/dev/tcp/127.0.0.1/$api") 2>/dev/null; then
				endpoint="http://127.0.0.1:$api"
				edge_addr="127.0.0.1:$edge" edge_tls_addr="127.0.0.1:$tls" data_dir="$data"
				return 0
			fi
			sleep 0.1
		done
		stop_server
		echo "e2e: server $name did not start (attempt $attempt):" >&2
		tail -5 "$log" >&2
	done
	return 1
}


# run_suite LABEL PYTHON MODULE [ENV=VALUE...] [-- serve flags...]: one fresh server, one module run.
run_suite() {
	local label=$1 python=$2 module=$3
	shift 3
	local envs=() flags=()
	while [ $# -gt 0 ]; do
		if [ "$1" = -- ]; then
			shift
			flags=("$@")
			break
		fi
		envs+=("$1")
		shift
	done
	echo
	echo "=== $label"
	if ! start_server "$label" "${flags[@]}"; then
		failed=$((failed + 1))
		return
	fi
	local results="$tmp/results-$label.json"
	env -u PYTHONPATH -u PYTHONHOME PYTHONDONTWRITEBYTECODE=1 SAILCDN_ENDPOINT="$endpoint" SAILCDN_ORIGIN=web SAILCDN_DEPLOY_DELAY=2 \
		SAILCDN_EDGE="$edge_addr" SAILCDN_EDGE_TLS="$edge_tls_addr" SAILCDN_DATA="$data_dir" SAILCDN_BIN="$bin" \
		SAILCDN_SECOND_KEY_ID="$second_key_id" SAILCDN_SECOND_SECRET="$second_secret" SAILCDN_SECOND_ACCOUNT="$second_account" \
		"${envs[@]}" "$python" -s "$here/runner.py" "$module" "$results" "$label"
	stop_server
	if [ ! -s "$results" ]; then
		echo "e2e: $label produced no results" >&2
		failed=$((failed + 1))
		return
	fi
	local p f s
	read -r p f s < <("$old_python" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["passed"], r["failed"], r["skipped"])' "$results")
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	echo "e2e: $label: $p passed, $f failed, $s skipped"
}

# cluster_suite: scripts/cluster.sh as the README tells a user to try it: two API nodes, a parent edge
# and two child edges on a private PostgreSQL; a distribution created through one API node with the AWS
# CLI is Deployed through the other and served by both children with one origin fetch; SIGTERM stops
# every process and removes the cluster's files.
cluster_suite() {
	echo
	echo "=== cluster"
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
		echo "e2e: cluster: no PostgreSQL server binaries; skipped"
		skipped=$((skipped + 1))
		return
	fi
	local base pg out pid ok=0 i domain attempt low
	# The cluster's ports (base+0..+31, PostgreSQL on +31) lie below the kernel's ephemeral range: a
	# port in that range can be handed to any outgoing connection (the nodes' own PostgreSQL connections
	# among them) between our pick and the node's bind — a CI run once failed on exactly that. Something
	# else on the machine may still hold one of them, so a start that could not bind is retried.
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	out="$tmp/cluster.out"
	for attempt in 1 2 3; do
		base=$((10000 + RANDOM % (low - 10000 - 40))) pg=$((base + 31))
		SAILCDN_BIN="$bin" BASE_PORT=$base PG_PORT=$pg "$root/scripts/cluster.sh" >"$out" 2>&1 &
		pid=$!
		for i in $(seq 1 300); do
			grep -q "cluster ready" "$out" && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		grep -q "cluster ready" "$out" && break
		wait "$pid" 2>/dev/null
		grep -qi "address already in use" "$out" || break
		echo "e2e: cluster: a port of base $base was taken; retrying on another"
	done
	local aws=(env AWS_CONFIG_FILE=/dev/null AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 "$old_aws" lightsail)
	if grep -q "cluster ready" "$out" &&
		"${aws[@]}" create-distribution --endpoint-url "http://127.0.0.1:$base" --distribution-name demo \
			--origin name=web,regionName=us-east-1 --default-cache-behavior behavior=cache --bundle-id small_1_0 >/dev/null; then
		domain=$("${aws[@]}" get-distributions --endpoint-url "http://127.0.0.1:$((base + 1))" --distribution-name demo \
			--query 'distributions[0].domainName' --output text)
		for i in $(seq 1 50); do
			[ "$("${aws[@]}" get-distributions --endpoint-url "http://127.0.0.1:$((base + 1))" --distribution-name demo \
				--query 'distributions[0].status' --output text)" = Deployed ] && break
			sleep 0.2
		done
		if curl -fsS -H "Host: $domain" "http://127.0.0.1:$((base + 11))/index.html" | grep -q "demo origin" &&
			curl -fsS -H "Host: $domain" "http://127.0.0.1:$((base + 12))/index.html" | grep -q "demo origin" &&
			[ "$(grep -c 'GET /index.html' "$(sed -n 's/^  logs *\(.*\)\/\*\.log$/\1/p' "$out")/origin.log")" = 1 ]; then
			ok=1
		fi
	fi
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if ! grep -q "cluster: stopped" "$out" || (exec 3<>"/dev/tcp/127.0.0.1/$base") 2>/dev/null; then
		ok=0
	fi
	if [ "$ok" = 1 ]; then
		passed=$((passed + 1))
		echo "e2e: cluster: passed"
	else
		failed=$((failed + 1))
		echo "e2e: cluster: failed; its output:" >&2
		cat "$out" >&2
	fi
}
cluster_suite

# --- the generations -------------------------------------------------------------------------------------
if "$old_python" -s -c 'import boto3' 2>/dev/null && [ -x "$old_aws" ]; then
	"$old_python" -s -c 'import boto3, botocore, sys; print("e2e: old generation: python %s, boto3 %s, botocore %s" % (sys.version.split()[0], boto3.__version__, botocore.__version__))'
	echo "e2e: old generation: $(AWS_CONFIG_FILE=/dev/null "$old_aws" --version 2>&1)"
	run_suite boto3-old "$old_python" test_boto3 SAILCDN_PAGE_SIZE=2 -- --page-size 2
	run_suite cli-old "$old_python" test_cli AWS_CLI="$old_aws"
	run_suite https-old "$old_python" test_https -- --cert-validation-delay 1s
else
	echo "e2e: the old generation (python3-boto3, awscli from Debian) is missing and could not be installed" >&2
	failed=$((failed + 1))
fi

# The new generation: the first python3 / aws on PATH that is not Debian's.
# A candidate counts only if it is really another client: a pyenv shim can resolve to the system Python
# (and so to Debian's boto3), hence the comparison of boto3's location and of `aws --version`.
boto3_path() { "$1" -s -c 'import boto3; print(boto3.__file__)' 2>/dev/null; }
old_boto3=$(boto3_path "$old_python")
old_aws_version=$(AWS_CONFIG_FILE=/dev/null "$old_aws" --version 2>&1)
new_python=${E2E_NEW_PYTHON:-}
if [ -z "$new_python" ]; then
	for p in $(type -ap python3); do
		b=$(boto3_path "$p")
		if [ -n "$b" ] && [ "$b" != "$old_boto3" ]; then
			new_python=$p
			break
		fi
	done
fi
new_aws=${E2E_NEW_AWS:-}
if [ -z "$new_aws" ]; then
	for a in $(type -ap aws); do
		v=$(AWS_CONFIG_FILE=/dev/null "$a" --version 2>&1)
		if [ "$(readlink -f "$a")" != "$(readlink -f "$old_aws")" ] && [ -n "$v" ] && [ "$v" != "$old_aws_version" ]; then
			new_aws=$a
			break
		fi
	done
fi
if [ -n "$new_python" ]; then
	"$new_python" -s -c 'import boto3, botocore, sys; print("e2e: new generation: python %s, boto3 %s, botocore %s" % (sys.version.split()[0], boto3.__version__, botocore.__version__))'
	run_suite boto3-new "$new_python" test_boto3 SAILCDN_PAGE_SIZE=2 -- --page-size 2
	run_suite https-new "$new_python" test_https -- --cert-validation-delay 1s
else
	echo "e2e: new generation: no python3 with boto3 besides $old_python on PATH; skipping its boto3 run"
fi
if [ -n "$new_aws" ]; then
	echo "e2e: new generation: $new_aws: $(env AWS_CONFIG_FILE=/dev/null "$new_aws" --version 2>&1)"
	run_suite cli-new "$old_python" test_cli AWS_CLI="$new_aws"
else
	echo "e2e: new generation: no aws besides $old_aws on PATH; skipping its CLI run"
fi

summary_and_exit
