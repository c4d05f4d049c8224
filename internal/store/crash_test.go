package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The crash test runs this test binary again as a child that commits as fast as it can and reports
// each commit on stdout once DB.Tx has returned; the parent kills it with SIGKILL mid-stream and then
// checks that every reported commit is in the database. (This proves process-crash durability; power
// loss additionally relies on synchronous=FULL, which TestSQLiteConnectionSettings checks.)
const (
	crashChildDriver = "SAILCDN_STORE_CRASH_CHILD_DRIVER"
	crashChildDSN    = "SAILCDN_STORE_CRASH_CHILD_DSN"
	crashAcks        = 25
)

func TestCrashKeepsAcknowledgedCommits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	forEachBackendConfig(t, func(t *testing.T, cfg Config) {
		ctx := testContext(t)
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(ctx, exe, "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildDriver+"="+cfg.Driver, crashChildDSN+"="+cfg.DSN)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := map[int]bool{}
		lines := bufio.NewScanner(out)
		for len(acked) < crashAcks && lines.Scan() {
			if n, ok := strings.CutPrefix(lines.Text(), "ACK "); ok {
				i, err := strconv.Atoi(n)
				if err != nil {
					t.Fatalf("child said %q", lines.Text())
				}
				acked[i] = true
			}
		}
		cmd.Process.Kill() // SIGKILL: no deferred Close, no checkpoint, no flush
		cmd.Wait()
		if len(acked) < crashAcks {
			t.Fatalf("child acknowledged only %d commits before exiting", len(acked))
		}

		db, err := Open(ctx, cfg)
		if err != nil {
			t.Fatalf("reopen after kill: %v", err)
		}
		defer db.Close()
		for i := range acked {
			if _, err := db.GetDistribution(ctx, "111111111111", fmt.Sprintf("crash-%d", i)); err != nil {
				t.Errorf("acknowledged commit %d lost: %v", i, err)
			}
		}
	})
}

// TestCrashChild is the child half of TestCrashKeepsAcknowledgedCommits; it does nothing when run
// on its own.
func TestCrashChild(t *testing.T) {
	driver, dsn := os.Getenv(crashChildDriver), os.Getenv(crashChildDSN)
	if dsn == "" {
		t.Skip("only runs as the child of TestCrashKeepsAcknowledgedCommits")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // the parent kills it long before
	defer cancel()
	db, err := Open(ctx, Config{Driver: driver, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ctx.Err() == nil; i++ {
		err := db.Tx(ctx, func(tx *Tx) error {
			return tx.InsertDistribution(ctx, newDistribution("111111111111", fmt.Sprintf("crash-%d", i)))
		})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(os.Stdout, "ACK %d\n", i)
	}
}
