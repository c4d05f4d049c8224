package store

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The read cache of DB.GetDistribution on SQLite (walwatch.go) must never answer with a row older
// than the last commit: not after this process's commits, not after another handle's, not after
// another process's.

func openSQLiteForTest(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(testContext(t), Config{Driver: DriverSQLite, DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func setBundle(t *testing.T, db *DB, account, name, bundle string) {
	t.Helper()
	ctx := testContext(t)
	mustTx(t, db, func(tx *Tx) error {
		d, err := tx.GetDistributionForUpdate(ctx, account, name)
		if err != nil {
			return err
		}
		d.BundleID = bundle
		return tx.UpdateDistribution(ctx, d)
	})
}

func wantBundle(t *testing.T, db *DB, name, want string) {
	t.Helper()
	d, err := db.GetDistribution(testContext(t), "111111111111", name)
	if err != nil || d.BundleID != want {
		t.Fatalf("GetDistribution(%s): %+v, %v; want bundle %s", name, d, err, want)
	}
}

func TestRowCacheSeesEveryCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sailcdn.db")
	db := openSQLiteForTest(t, path)
	if db.rowCache == nil {
		t.Fatal("no read cache on SQLite")
	}
	insertDistribution(t, db, newDistribution("111111111111", "web"))
	wantBundle(t, db, "web", "small_1_0")
	if _, ok := db.rowCache.header(); !ok {
		t.Fatal("the WAL-index header cannot be read: every read would bypass the cache")
	}
	// Without a commit in between, the next read is a hit; it returns the caller's own copy.
	hits := db.rowCache.hits.Load()
	d, _ := db.GetDistribution(testContext(t), "111111111111", "web")
	if db.rowCache.hits.Load() != hits+1 {
		t.Fatal("a second read without a commit in between was not answered from the cache")
	}
	d.BundleID, d.Config[0] = "scribbled", 'X'
	wantBundle(t, db, "web", "small_1_0")
	if d2, _ := db.GetDistribution(testContext(t), "111111111111", "web"); d2.Config[0] != '{' {
		t.Fatalf("a caller's change to Config reached the cache: %s", d2.Config)
	}

	// This handle's commits.
	setBundle(t, db, "111111111111", "web", "medium_1_0")
	wantBundle(t, db, "web", "medium_1_0")

	// Another handle on the same file (its own connections).
	other := openSQLiteForTest(t, path)
	setBundle(t, other, "111111111111", "web", "large_1_0")
	wantBundle(t, db, "web", "large_1_0")

	// A commit to another table changes the header too (served from the database again, same row).
	if err := other.ReportEdge(testContext(t), "edge-1", "edge-1", 1); err != nil {
		t.Fatal(err)
	}
	wantBundle(t, db, "web", "large_1_0")

	// Deleted: gone at once.
	mustTx(t, other, func(tx *Tx) error {
		d, err := tx.GetDistributionForUpdate(testContext(t), "111111111111", "web")
		if err != nil {
			return err
		}
		return tx.DeleteDistribution(testContext(t), d.ID, testTime)
	})
	if _, err := db.GetDistribution(testContext(t), "111111111111", "web"); err == nil {
		t.Fatal("a deleted distribution is still read")
	}

	// Another process.
	insertDistribution(t, db, newDistribution("111111111111", "proc"))
	wantBundle(t, db, "proc", "small_1_0")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(testContext(t), exe, "-test.run=^TestRowCacheChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), rowCacheChildDSN+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	wantBundle(t, db, "proc", "medium_1_0")
}

const rowCacheChildDSN = "SAILCDN_STORE_ROWCACHE_CHILD_DSN"

// TestRowCacheChild is the other process of TestRowCacheSeesEveryCommit; it does nothing when run on
// its own.
func TestRowCacheChild(t *testing.T) {
	path := os.Getenv(rowCacheChildDSN)
	if path == "" {
		t.Skip("only runs as the child of TestRowCacheSeesEveryCommit")
	}
	setBundle(t, openSQLiteForTest(t, path), "111111111111", "proc", "medium_1_0")
}

// TestRowCacheNeverGoesBack: while a writer commits ever newer versions, a read that starts after a
// commit returned sees at least that version, and no reader ever sees a version go back.
func TestRowCacheNeverGoesBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sailcdn.db")
	db := openSQLiteForTest(t, path)
	other := openSQLiteForTest(t, path) // half the commits come through another handle
	insertDistribution(t, db, newDistribution("111111111111", "web"))
	ctx := testContext(t)
	var committed atomic.Int64
	committed.Store(1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last int64
			for {
				select {
				case <-stop:
					return
				default:
				}
				floor := committed.Load()
				d, err := db.GetDistribution(ctx, "111111111111", "web")
				if err != nil {
					t.Error(err)
					return
				}
				if d.Version < floor || d.Version < last {
					t.Errorf("read version %d after version %d was committed (last read %d)", d.Version, floor, last)
					return
				}
				last = d.Version
			}
		}()
	}
	deadline := time.Now().Add(time.Second)
	for i := 0; time.Now().Before(deadline) && !t.Failed(); i++ {
		h := db
		if i%2 == 1 {
			h = other
		}
		var v int64
		mustTx(t, h, func(tx *Tx) error {
			d, err := tx.GetDistributionForUpdate(ctx, "111111111111", "web")
			if err != nil {
				return err
			}
			d.BundleID = fmt.Sprintf("b%d", i)
			err = tx.UpdateDistribution(ctx, d)
			v = d.Version
			return err
		})
		committed.Store(v)
	}
	close(stop)
	wg.Wait()
}

// TestRowCacheWithoutTheShmFile: when the -shm file the cache watches is gone (unlinked, as SQLite
// does when the last connection closes), reads go to the database and stay correct.
func TestRowCacheWithoutTheShmFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sailcdn.db")
	db := openSQLiteForTest(t, path)
	insertDistribution(t, db, newDistribution("111111111111", "web"))
	wantBundle(t, db, "web", "small_1_0")
	if err := os.Remove(path + "-shm"); err != nil {
		t.Fatal(err)
	}
	if _, ok := db.rowCache.header(); ok {
		t.Fatal("an unlinked -shm file's header is trusted")
	}
	setBundle(t, db, "111111111111", "web", "medium_1_0")
	wantBundle(t, db, "web", "medium_1_0")
}

// TestRowCacheThroughASymlink: SQLite resolves a symbolic link to the database and keeps its -shm file
// beside the file the link points to. A stale "-shm" beside the link (left by an earlier layout of the
// data directory) must not be mistaken for the live WAL index: its header never changes, so every
// read would be answered from the cache, however many commits followed.
func TestRowCacheThroughASymlink(t *testing.T) {
	realDir, linkDir := t.TempDir(), t.TempDir()
	realPath, linkPath := filepath.Join(realDir, "sailcdn.db"), filepath.Join(linkDir, "sailcdn.db")
	db := openSQLiteForTest(t, realPath)
	insertDistribution(t, db, newDistribution("111111111111", "web"))
	if err := os.Symlink(realPath, linkPath); err != nil {
		t.Fatal(err)
	}
	stale, err := os.ReadFile(realPath + "-shm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(linkPath+"-shm", stale, 0o600); err != nil {
		t.Fatal(err)
	}
	linked := openSQLiteForTest(t, linkPath)
	wantBundle(t, linked, "web", "small_1_0")
	setBundle(t, linked, "111111111111", "web", "medium_1_0")
	wantBundle(t, linked, "web", "medium_1_0")
	setBundle(t, db, "111111111111", "web", "large_1_0")
	wantBundle(t, linked, "web", "large_1_0")
}

// TestRowCacheAcrossCheckpoints: a checkpoint that truncates the WAL makes the next commit restart it
// from frame 1, so the WAL-index header's mxFrame comes back to values it had before. The header still
// changes (new salts, another iChange): after every restart the cache answers with the last commit.
func TestRowCacheAcrossCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sailcdn.db")
	db := openSQLiteForTest(t, path)
	other := openSQLiteForTest(t, path)
	insertDistribution(t, db, newDistribution("111111111111", "web"))
	ctx := testContext(t)
	hits := db.rowCache.hits.Load()
	for i := range 6 {
		wantBundle(t, db, "web", bundleAt(i-1)) // cached from here on, until a commit
		wantBundle(t, db, "web", bundleAt(i-1))
		h := other
		if i%2 == 1 {
			h = db
		}
		if _, err := h.write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			t.Fatal(err)
		}
		wantBundle(t, db, "web", bundleAt(i-1))
		setBundle(t, other, "111111111111", "web", bundleAt(i))
		wantBundle(t, db, "web", bundleAt(i))
	}
	if db.rowCache.hits.Load() < hits+6 {
		t.Fatal("the cache answered none of the reads: the test proves nothing")
	}
}

func bundleAt(i int) string {
	if i < 0 {
		return "small_1_0"
	}
	return fmt.Sprintf("b%d", i)
}
