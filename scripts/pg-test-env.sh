#!/usr/bin/env bash
# pg-test-env.sh: a private, throwaway PostgreSQL cluster for sailcdn's store tests.
#
#   scripts/pg-test-env.sh start DIR [PORT]   init (once) and start a cluster in DIR; print its DSN on stdout
#   scripts/pg-test-env.sh dsn   DIR [PORT]   print the DSN only
#   scripts/pg-test-env.sh stop  DIR          stop the cluster (the data stays in DIR; rm -rf it to forget it)
#
# Typical use (CI, or by hand):
#   export SAILCDN_TEST_POSTGRES_DSN="$(scripts/pg-test-env.sh start /tmp/sailcdn-pg 55432)"
#   go test ./internal/store/...
#   scripts/pg-test-env.sh stop /tmp/sailcdn-pg
#
# Idempotent: start on an initialised, running cluster only prints the DSN again.
# The cluster listens on 127.0.0.1 only (no Unix socket, so DIR may be any length), trusts every local
# connection, and runs with fsync off: it is for tests, never for data you want to keep.
# Run as root (the server then runs as the "postgres" user) or as any other non-root user (it runs as you).
# PG_BIN overrides where the server binaries are looked up (default: the newest /usr/lib/postgresql/*/bin).
set -euo pipefail

usage() { echo "usage: $0 start|dsn DIR [PORT] | stop DIR" >&2; exit 2; }

cmd="${1:-}"; dir="${2:-}"; port="${3:-55432}"
[[ -n "$cmd" && -n "$dir" ]] || usage
[[ "$port" =~ ^[0-9]+$ ]] || usage

bin="${PG_BIN:-}"
if [[ -z "$bin" ]]; then
	bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
	if [[ -z "$bin" ]] && command -v pg_config >/dev/null; then bin="$(pg_config --bindir)"; fi
fi
[[ -x "$bin/initdb" ]] || { echo "pg-test-env: no PostgreSQL server binaries found (set PG_BIN)" >&2; exit 1; }

dsn="postgres://sailcdn@127.0.0.1:${port}/sailcdn?sslmode=disable"

# as_owner runs a server command as the cluster's owner: postgres refuses to run as root.
as_owner() {
	if [[ "$(id -u)" == 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

running() { as_owner "$bin/pg_ctl" status -D "$dir" >/dev/null 2>&1; }

psql_admin() { "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }

case "$cmd" in
start)
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	if [[ "$(id -u)" == 0 ]]; then chown postgres: "$dir"; chmod 700 "$dir"; fi
	if [[ ! -f "$dir/PG_VERSION" ]]; then
		as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
			{ cat "$dir.initdb.log" >&2; exit 1; }
		rm -f "$dir.initdb.log"
	fi
	if ! running; then
		as_owner "$bin/pg_ctl" start -D "$dir" -w -t 60 -l "$dir/server.log" \
			-o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null ||
			{ tail -n 20 "$dir/server.log" >&2; exit 1; }
	fi
	if [[ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'sailcdn'")" != 1 ]]; then
		psql_admin -c "CREATE ROLE sailcdn LOGIN"
	fi
	if [[ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'sailcdn'")" != 1 ]]; then
		# Prefer a linguistic collation (ICU en-US, PostgreSQL >= 15): it orders "a-c", "ab" and "B"
		# differently from SQLite, so the tests prove the store does not depend on the server's locale.
		psql_admin -c "CREATE DATABASE sailcdn OWNER sailcdn TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'" 2>/dev/null ||
			psql_admin -c "CREATE DATABASE sailcdn OWNER sailcdn"
	fi
	echo "$dsn"
	;;
dsn)
	echo "$dsn"
	;;
stop)
	if [[ -f "$dir/PG_VERSION" ]] && running; then
		as_owner "$bin/pg_ctl" stop -D "$dir" -m fast -w >/dev/null
	fi
	;;
*)
	usage
	;;
esac
