package store

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
)

// Unavailable tells "the database is not there" from "the database refused this".
func TestUnavailable(t *testing.T) {
	ctx := testContext(t)
	// A PostgreSQL port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, pgErr := Open(ctx, Config{Driver: DriverPostgres, DSN: "postgres://sailcdn@" + addr + "/sailcdn?sslmode=disable&connect_timeout=2"})
	// An SQLite file in a directory that does not exist.
	_, sqliteErr := Open(ctx, Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "missing", "sailcdn.db")})

	db, err := Open(ctx, Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "sailcdn.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustTx(t, db, func(tx *Tx) error { return tx.InsertDistribution(ctx, newDistribution("111111111111", "web")) })
	dupErr := db.Tx(ctx, func(tx *Tx) error { return tx.InsertDistribution(ctx, newDistribution("111111111111", "web")) })
	_, notFound := db.GetDistribution(ctx, "111111111111", "nope")

	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"postgres refuses connections", pgErr, true},
		{"sqlite cannot open its file", sqliteErr, true},
		{"wrapped", fmt.Errorf("control: %w", pgErr), true},
		{"unique violation", dupErr, false},
		{"not found", notFound, false},
		{"other", errors.New("boom"), false},
		{"nil", nil, false},
	} {
		if tc.want && tc.err == nil {
			t.Fatalf("%s: no error to classify", tc.name)
		}
		if got := Unavailable(tc.err); got != tc.want {
			t.Errorf("%s: Unavailable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
