package store

import (
	"database/sql"
	"strconv"
	"strings"
)

// dialect is everything that differs between the two engines at query time. Queries themselves are
// shared; only placeholders, row locks and transaction options differ, and only here.
type dialect struct {
	name string // DriverSQLite or DriverPostgres
}

// rebind turns the "?" placeholders of a shared query into PostgreSQL's "$1", "$2", ... . Question
// marks inside quoted literals or identifiers are left alone. SQLite accepts "?" natively. Shared
// queries use plain "?" only (never SQLite's numbered "?NNN"), bound in order.
func (d dialect) rebind(query string) string {
	if d.name != DriverPostgres || !strings.Contains(query, "?") {
		return query
	}
	return rebindDollar(query)
}

func rebindDollar(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	var quote byte // the open quote character, 0 outside quotes
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			// A doubled quote inside a quoted run ('it''s') is an escape; treating it as close-then-open
			// gives the same result, so no lookahead is needed.
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// forUpdate is appended to a SELECT that reads a row the transaction is about to change. PostgreSQL
// needs the row lock so that, under READ COMMITTED, a second transaction waits for the first to commit
// and then re-reads the new row version (PostgreSQL docs §13.2.1 "Read Committed Isolation Level").
// SQLite has no row locks and no FOR UPDATE syntax; its BEGIN IMMEDIATE already holds the database's
// only write lock.
func (d dialect) forUpdate() string {
	if d.name == DriverPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// writeTxOptions are the options of every DB.Tx transaction. PostgreSQL is pinned to READ COMMITTED
// (its default, but a server may be configured otherwise) because the locking reads above rely on its
// re-read semantics. SQLite gets the zero value: modernc rejects isolation levels, and BEGIN IMMEDIATE
// comes from the _txlock DSN parameter (sqlite.go).
func (d dialect) writeTxOptions() *sql.TxOptions {
	if d.name == DriverPostgres {
		return &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	return nil
}

// snapshotTxOptions are for read-only transactions that must see one consistent snapshot across several
// statements. A deferred SQLite read transaction keeps its WAL snapshot from the first read; PostgreSQL
// needs REPEATABLE READ for that.
func (d dialect) snapshotTxOptions() *sql.TxOptions {
	if d.name == DriverPostgres {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return &sql.TxOptions{ReadOnly: true}
}

// nowMicros is an SQL expression for the database's own clock in unix microseconds. Times that
// several machines compare (edge heartbeats) are taken and judged by it, so the machines' clocks need
// not agree; on SQLite every process sharing the file runs on one machine anyway.
func (d dialect) nowMicros() string {
	if d.name == DriverPostgres {
		return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)"
	}
	return "CAST(unixepoch('subsec') * 1000000 AS INTEGER)"
}
