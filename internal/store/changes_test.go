package store

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// received reports whether w signalled, draining it.
func received(w *ChangeWatch) bool {
	select {
	case <-w.C:
		return true
	default:
		return false
	}
}

// A commit that changes what edges serve signals this process's watchers before Tx returns; one that
// does not, does not.
func TestWatchSignalsServedChangesInProcess(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		w := db.WatchChanges(ctx, nil)
		// On PostgreSQL the listener's first connection signals once by itself: wait for it.
		if db.Driver() == DriverPostgres {
			wait.Until(t, 10*time.Second, "the listener to connect", w.Listening)
			wait.Until(t, 5*time.Second, "the signal of the listener's connection", func() bool { return received(w) })
		}
		mustTx(t, db, func(tx *Tx) error {
			return tx.InsertOperation(ctx, &Operation{AccountID: "111111111111", ResourceName: "web"})
		})
		if received(w) {
			t.Fatal("signalled for a transaction that changed nothing edges serve")
		}
		mustTx(t, db, func(tx *Tx) error { return tx.InsertDistribution(ctx, newDistribution("111111111111", "web")) })
		if !received(w) {
			t.Fatal("no signal when Tx returned after a served change")
		}
		if db.Driver() == DriverSQLite && w.Listening() {
			t.Fatal("SQLite has no cross-process notifications, yet the watch says it listens")
		}
	})
}

// On PostgreSQL a commit of another process (here: another *DB on the same schema) reaches the watch
// through LISTEN/NOTIFY, and the listener comes back by itself after its connection is killed.
func TestWatchHearsOtherProcessesAndReconnects(t *testing.T) {
	dsn := os.Getenv(postgresDSNEnv)
	if dsn == "" {
		t.Skipf("%s not set", postgresDSNEnv)
	}
	ctx := testContext(t)
	cfg := Config{Driver: DriverPostgres, DSN: postgresTestSchema(t, dsn)}
	watcher, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	writer, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	wctx, stop := context.WithCancel(ctx)
	w := watcher.WatchChanges(wctx, nil)
	defer func() { stop(); <-w.Done() }()

	heard := func(what string, write func()) {
		t.Helper()
		wait.Until(t, 10*time.Second, "the listener to connect", w.Listening)
		for received(w) { // the connection's own signal
		}
		write()
		select {
		case <-w.C:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no notification within 5s", what)
		}
	}
	heard("insert through another DB", func() {
		mustTx(t, writer, func(tx *Tx) error { return tx.InsertDistribution(ctx, newDistribution("111111111111", "web")) })
	})

	// Kill the listener's backend, as a database restart or a network cut would.
	var killed int
	err = writer.read.QueryRowContext(ctx, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = $1",
		"LISTEN "+fmt.Sprintf("%q", watcher.channel)).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminate the listener's backend: killed %d, %v", killed, err)
	}
	wait.Until(t, 10*time.Second, "the listener to notice the lost connection", func() bool { return !w.Listening() })
	heard("origin registered after the reconnection", func() {
		if err := writer.PutOrigin(ctx, Origin{Name: "o", RegionName: "us-east-1", ResourceType: "Instance", URL: "http://o.example"}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestChangeChannelNames(t *testing.T) {
	long := strings.Repeat("s", 80)
	for schema, want := range map[string]string{
		"":       "sailcdn_changes",
		"public": "sailcdn_changes",
		"t_ab12": "sailcdn_changes_t_ab12",
	} {
		if got := changeChannel(schema); got != want {
			t.Errorf("changeChannel(%q) = %q, want %q", schema, got, want)
		}
	}
	if c := changeChannel(long); len(c) > 63 || c == changeChannel(long+"x") {
		t.Errorf("long schema names: %q (%d bytes) must fit 63 bytes and stay distinct", c, len(c))
	}
}
