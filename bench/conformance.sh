#!/usr/bin/env bash
# RFC 9111 conformance of the sailcdn edge, measured with the public HTTP cache test suite behind
# cache-tests.fyi (the public GitHub repository http-tests/cache-tests). See docs/conformance.md for
# the method and the last results.
#
# This script only RUNS a checkout of the suite that you provide; it neither fetches nor builds it.
# Get it once: fetch the public repository http-tests/cache-tests (the documented results used commit
# b55b8bda3dbb8c927c04e85bd8d496a8caa3e4ba) into a directory, then run
#     npm install --omit=dev      # in that directory: undici, for the interim-response tests
#
# Usage:
#     CACHE_TESTS_DIR=/path/to/cache-tests bench/conformance.sh [--failures]
#
# Environment:
#     CACHE_TESTS_DIR       the suite checkout (required)
#     CACHE_TESTS_COMMIT    the suite's commit, printed when CACHE_TESTS_DIR is not a git checkout
#     CONFORMANCE_TARGET    sailcdn (default), or nginx: the same harness against a local nginx with
#                           the suite's own proxy_cache configuration, to check the harness itself
#     CONFORMANCE_SETTINGS  cacheBehaviorSettings JSON for the distribution (default: see SETTINGS)
#     CONFORMANCE_OUT       directory that keeps results.json, summary.txt and the logs
#                           (default: a new temporary directory, printed at the end)
#     SAILCDN_BIN           a built sailcdn binary (default: go build ./cmd/sailcdn into the output dir)
#
# Prints "required: X/160 optional/optimal: Y/105 ..." (cache-tests.fyi counting: a test passes only
# if every test it depends on passes too); --failures also lists every failed test with its reason.
# Everything listens on 127.0.0.1 only, on free ports, and everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
hooks="$repo/bench/conformance"

: "${CACHE_TESTS_DIR:?set CACHE_TESTS_DIR to a checkout of http-tests/cache-tests}"
suite=$(cd "$CACHE_TESTS_DIR" && pwd)
[ -f "$suite/tests/index.mjs" ] && [ -f "$suite/test-engine/cli.mjs" ] ||
  { echo "conformance: $suite is not a cache-tests checkout" >&2; exit 2; }
[ -d "$suite/node_modules/undici" ] ||
  { echo "conformance: run 'npm install --omit=dev' in $suite first" >&2; exit 2; }
command -v node >/dev/null || { echo "conformance: node (>= 20) is required" >&2; exit 2; }
target=${CONFORMANCE_TARGET:-sailcdn}
failures=${1:-}

# Settings that let RFC 9111 behaviour show: no TTL imposed by the distribution (defaultTTL 0,
# minimumTTL 0, a maximum that clamps nothing the suite sends), every method allowed (the suite
# PUTs its test configuration through the cache), the whole query string forwarded, cookies
# forwarded so Set-Cookie reaches viewers, and the default header forwarding ("all" would turn the
# cache off, and an allow-list keys the cache on every listed field).
SETTINGS='{"defaultTTL":0,"minimumTTL":0,"maximumTTL":31536000,
  "allowedHTTPMethods":"GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE","cachedHTTPMethods":"GET,HEAD",
  "forwardedCookies":{"option":"all"},"forwardedHeaders":{"option":"default"},
  "forwardedQueryStrings":{"option":true}}'
settings=${CONFORMANCE_SETTINGS:-$SETTINGS}

out=${CONFORMANCE_OUT:-$(mktemp -d /tmp/sailcdn-conformance.XXXXXX)}
mkdir -p "$out"

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_for URL: until something answers HTTP there (any status), for up to 30 s.
wait_for() {
  local i
  for i in $(seq 150); do
    if curl -s -o /dev/null --max-time 1 "$1"; then return 0; fi
    sleep 0.2
  done
  echo "conformance: nothing answers at $1" >&2
  return 1
}

# The suite's origin server, bound to loopback and taught to read the request number back from Via
# (bench/conformance/origin-hook.mjs says why).
origin_port=$(free_port)
(cd "$suite" && exec env npm_config_protocol=http npm_config_port="$origin_port" \
  npm_config_pidfile="$out/origin.pid" \
  node --import "$hooks/origin-hook.mjs" test-engine/server/server.mjs) >"$out/origin.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$origin_port/state/none"

case $target in
sailcdn)
  bin=${SAILCDN_BIN:-}
  if [ -z "$bin" ]; then
    bin="$out/sailcdn"
    go build -o "$bin" ./cmd/sailcdn
  fi
  api_port=$(free_port)
  edge_port=$(free_port)
  "$bin" serve --dev --api-addr "127.0.0.1:$api_port" --edge-addr "127.0.0.1:$edge_port" \
    --data "$out/data" --origin "cachetests=http://127.0.0.1:$origin_port" --deploy-delay 0s \
    --access-log "$out/access.log" >"$out/sailcdn.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$api_port/"

  # CreateDistribution with the dev key (test/test), signed by curl's SigV4.
  body=$(node -e '
    const settings = JSON.parse(process.argv[1])
    console.log(JSON.stringify({
      distributionName: "cachetests", bundleId: "small_1_0",
      origin: { name: "cachetests", regionName: "us-east-1", protocolPolicy: "http-only" },
      defaultCacheBehavior: { behavior: "cache" }, cacheBehaviorSettings: settings }))' "$settings")
  curl -sS --fail-with-body --aws-sigv4 "aws:amz:us-east-1:lightsail" --user test:test \
    -H "X-Amz-Target: Lightsail_20161128.CreateDistribution" \
    -H "Content-Type: application/x-amz-json-1.1" --data "$body" \
    "http://127.0.0.1:$api_port/" >"$out/distribution.json"
  domain=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).distribution.domainName)' \
    "$out/distribution.json")
  # The edge picks up new distributions from the store within a poll interval.
  for i in $(seq 100); do
    if ! curl -s --max-time 1 -H "Host: $domain" "http://127.0.0.1:$edge_port/state/none" |
      grep -q 'no distribution serves this host'; then break; fi
    sleep 0.1
  done
  base="http://$domain:$edge_port"
  tag_via=1
  ;;
nginx)
  command -v nginx >/dev/null || { echo "conformance: nginx is not installed" >&2; exit 2; }
  nginx_port=$(free_port)
  mkdir -p "$out/nginx/cache"
  # The suite's own nginx configuration (docker/nginx/nginx.conf), on loopback and in $out.
  cat >"$out/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $out/nginx/body;
  proxy_temp_path $out/nginx/proxy;
  fastcgi_temp_path $out/nginx/fastcgi;
  uwsgi_temp_path $out/nginx/uwsgi;
  scgi_temp_path $out/nginx/scgi;
  proxy_cache_path $out/nginx/cache levels=1:2 keys_zone=my-cache:8m max_size=1000m inactive=600m;
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://127.0.0.1:$origin_port;
      proxy_cache my-cache;
      proxy_cache_revalidate on;
      proxy_http_version 1.1;
    }
  }
}
EOF
  nginx -c "$out/nginx/nginx.conf" >"$out/nginx/stdout.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$nginx_port/state/none"
  base="http://127.0.0.1:$nginx_port"
  tag_via=0
  ;;
*)
  echo "conformance: unknown CONFORMANCE_TARGET $target" >&2
  exit 2
  ;;
esac

# The suite's client. npm_package_config_* stand in for what 'npm run' would set from package.json.
(cd "$suite" && exec env CT_TAG_VIA="$tag_via" npm_config_base="$base" npm_config_id= \
  npm_package_config_id= node --no-warnings --import "$hooks/client-hook.mjs" test-engine/cli.mjs) \
  >"$out/results.json" 2>"$out/client.log"

suite_commit=$(git -C "$suite" rev-parse HEAD 2>/dev/null || echo "${CACHE_TESTS_COMMIT:-unknown}")
sail_commit=$(git rev-parse --short=12 HEAD)$([ -z "$(git status --porcelain 2>/dev/null)" ] || echo "+uncommitted")
node "$hooks/summary.mjs" "$suite" "$out/results.json" --failures >"$out/summary.txt"
{
  echo "target: $target (sailcdn $sail_commit), cache-tests $suite_commit, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  if [ "$failures" = "--failures" ]; then cat "$out/summary.txt"; else head -n 1 "$out/summary.txt"; fi
  echo "output: $out"
}
