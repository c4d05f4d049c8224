#!/usr/bin/env bash
# The whole sailcdn test suite, from a fresh Debian 12 machine with Go: installs what the tests need
# (apt: Debian's boto3 and AWS CLI for the old-client generation, PostgreSQL, Chromium for the console
# test), starts a private
# PostgreSQL cluster, and runs gofmt, go vet, go test -race and the out-of-process client tests.
# Usage: scripts/test.sh            (CI calls exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v /usr/bin/python3 >/dev/null && /usr/bin/python3 -c 'import boto3' 2>/dev/null || need+=(python3-boto3)
[ -x /usr/bin/aws ] || need+=(awscli)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "== missing ${need[*]} and not root: the tests that need them will skip" >&2
  fi
fi

cleanup() { [ -n "${PGDIR:-}" ] && scripts/pg-test-env.sh stop "$PGDIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  PGDIR=$(mktemp -d /tmp/sailcdn-pg.XXXXXX)
  SAILCDN_TEST_POSTGRES_DSN=$(scripts/pg-test-env.sh start "$PGDIR" 55432)
  export SAILCDN_TEST_POSTGRES_DSN
  echo "== PostgreSQL test cluster up"
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tmp/*'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi
echo "== go vet"
go vet ./...
echo "== go test -race"
go test -race -count=1 -timeout 20m ./...
echo "== out-of-process client tests"
tests/e2e/run.sh
