package spool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/edge"
	"github.com/sailcdn/sailcdn/internal/meter"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
	"github.com/sailcdn/sailcdn/internal/store"
)

var quiet = slog.New(slog.DiscardHandler)

// fixture is a real SQLite store with distributions, the store's real delivery (edge.StoreFlusher over
// AddUsageBatch), and a switch that makes the database "go away": deliveries fail before reaching it,
// or — ambiguous — after it applied the batch, as when a COMMIT's acknowledgement is lost.
type fixture struct {
	t     *testing.T
	db    *store.DB
	dists []string

	down      atomic.Bool
	ambiguous atomic.Bool // the next delivery is applied, then reported failed
	delivered atomic.Int64

	mu   sync.Mutex // guards sent
	sent meter.Usage
}

var errAway = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

func newFixture(t *testing.T, dists int) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DSN: filepath.Join(t.TempDir(), "sailcdn.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db}
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	err = db.Tx(ctx, func(tx *store.Tx) error {
		for i := range dists {
			d := &store.Distribution{AccountID: "111111111111", Name: fmt.Sprintf("d%d", i), DomainName: fmt.Sprintf("d%d.cdn.test", i),
				BundleID: "small_1_0", IsEnabled: true, CreatedAt: now, UpdatedAt: now, DeployedAt: now, Config: []byte("{}")}
			if err := tx.InsertDistribution(ctx, d); err != nil {
				return err
			}
			f.dists = append(f.dists, d.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) deliver() func(context.Context, meter.Batch) error {
	flush := edge.StoreFlusher(f.db, quiet)
	return func(ctx context.Context, b meter.Batch) error {
		if f.down.Load() {
			return errAway
		}
		if err := flush(ctx, b); err != nil {
			return err
		}
		if f.ambiguous.CompareAndSwap(true, false) {
			return errors.New("read tcp: connection reset by peer (after COMMIT)")
		}
		f.delivered.Add(1)
		return nil
	}
}

// batch is one meter flush: one request of 1000+i bytes for each distribution in minute.
func (f *fixture) batch(minute int64, i int) meter.Batch {
	b := meter.Batch{ID: fmt.Sprintf("meter-%d-%d", minute, i), At: time.Unix(minute, 0)}
	for _, d := range f.dists {
		// Every counter set, so that one the spool forgets to merge or to write shows.
		u := meter.Usage{DistributionID: d, Minute: minute, Requests: 1, BytesToViewers: int64(1050 + i), BytesDownloaded: int64(1000 + i),
			BytesFromViewers: 300, BytesToOrigin: 200, BytesUploaded: 100, Status4xx: int64(i % 2), Status5xx: int64(i % 3 / 2)}
		b.Usage = append(b.Usage, u)
		f.mu.Lock()
		f.sent.Plus(u)
		f.mu.Unlock()
	}
	return b
}

// stored sums what the store holds over every distribution.
func (f *fixture) stored() meter.Usage {
	var sum meter.Usage
	for _, d := range f.dists {
		rows, err := f.db.QueryUsage(context.Background(), d, 0, 1<<40)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, r := range rows {
			sum.Plus(meter.Usage{Requests: r.Requests, BytesToViewers: r.BytesToViewers, BytesDownloaded: r.BytesDownloaded,
				BytesFromViewers: r.BytesFromViewers, BytesToOrigin: r.BytesToOrigin, BytesUploaded: r.BytesUploaded,
				Status4xx: r.Status4xx, Status5xx: r.Status5xx})
		}
	}
	return sum
}

func (f *fixture) wantStoredEqualsSent() {
	f.t.Helper()
	f.mu.Lock()
	sent := f.sent
	f.mu.Unlock()
	if got := f.stored(); got != sent {
		f.t.Fatalf("stored %+v, sent %+v", got, sent)
	}
}

func run(t *testing.T, s *Spool) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	return func() { cancel(); <-done }
}

// Through an outage (and an acknowledgement lost after a COMMIT) every counted byte reaches the store
// exactly once, and the rows waiting meanwhile stay one per distribution and minute.
func TestDeliversExactlyOnceThroughAnOutage(t *testing.T) {
	f := newFixture(t, 3)
	s, err := New(Config{Deliver: f.deliver(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, s)
	defer stop()
	ctx := context.Background()

	s.Flush(ctx, f.batch(60, 0))
	wait.Until(t, 5*time.Second, "the first batch delivered", func() bool { return f.delivered.Load() == 1 })

	f.ambiguous.Store(true) // the next delivery is applied, but its acknowledgement is lost
	s.Flush(ctx, f.batch(60, 1))
	wait.Until(t, 5*time.Second, "the ambiguous delivery to be attempted", func() bool { return !f.ambiguous.Load() })
	f.down.Store(true)
	for i := range 30 { // a minute of 2 s flushes, two minutes of traffic
		s.Flush(ctx, f.batch(120+int64(i/15)*60, i))
	}
	if rows, _, _ := s.Waiting(); rows > 3*3 {
		t.Fatalf("%d rows wait in memory; want at most one per distribution and minute (9)", rows)
	}
	f.down.Store(false)
	wait.Until(t, 10*time.Second, "everything delivered", func() bool { rows, batches, _ := s.Waiting(); return rows == 0 && batches == 0 })
	f.wantStoredEqualsSent()
}

// Beyond the memory bound batches go to disk (fsynced files), are found again by the next process
// with their ids, and are delivered exactly once — also the one whose acknowledgement was lost.
func TestSpillsToDiskAndDeliversAfterARestart(t *testing.T) {
	f := newFixture(t, 4)
	dir := t.TempDir()
	ctx := context.Background()
	s, err := New(Config{Deliver: f.deliver(), Dir: dir, MaxMemoryRows: 10, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Deliver: f.deliver(), Dir: dir, Logger: quiet}); err == nil {
		t.Fatal("a second spool on the same directory started")
	}
	stop := run(t, s)

	f.ambiguous.Store(true)
	s.Flush(ctx, f.batch(60, 0)) // applied, reported failed: its id must survive the spill
	wait.Until(t, 5*time.Second, "the ambiguous delivery to be attempted", func() bool { return !f.ambiguous.Load() })
	f.down.Store(true)
	for i := range 10 {
		s.Flush(ctx, f.batch(120+int64(i)*60, i)) // 4 new rows each time: over the bound of 10 rows
	}
	rows, batches, bytes := s.Waiting()
	if rows > 10 || bytes == 0 {
		t.Fatalf("waiting: %d rows in memory (bound 10), %d batches, %d bytes on disk", rows, batches, bytes)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "usage-*.json"))
	if len(files) == 0 {
		t.Fatal("nothing spilled")
	}
	stop()
	if err := s.Close(ctx); err != nil { // the store is still away: the rest goes to disk too
		t.Fatal(err)
	}
	if _, _, bytes := s.Waiting(); bytes == 0 {
		t.Fatal("nothing on disk after Close")
	}

	// The next process: the store is back.
	f.down.Store(false)
	s2, err := New(Config{Deliver: f.deliver(), Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	stop2 := run(t, s2)
	defer stop2()
	wait.Until(t, 10*time.Second, "the spilled batches delivered", func() bool { _, batches, bytes := s2.Waiting(); return batches == 0 && bytes == 0 })
	f.wantStoredEqualsSent()
	if left, _ := filepath.Glob(filepath.Join(dir, "usage-*")); len(left) != 0 {
		t.Fatalf("files left after delivery: %v", left)
	}
}

// Without a spill directory nothing is dropped while the node runs, but a node stopped while the store
// is away says how much it loses.
func TestWithoutADirectoryCloseReportsTheLoss(t *testing.T) {
	f := newFixture(t, 2)
	s, err := New(Config{Deliver: f.deliver(), MaxMemoryRows: 2, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	f.down.Store(true)
	ctx := context.Background()
	for i := range 3 {
		s.Flush(ctx, f.batch(60*int64(i+1), i))
	}
	if rows, _, _ := s.Waiting(); rows != 6 {
		t.Fatalf("%d rows waiting, want all 6 kept in memory", rows)
	}
	err = s.Close(ctx)
	if err == nil || !errors.Is(err, errAway) {
		t.Fatalf("Close with the store away and no directory: %v", err)
	}
	t.Log(err)
}

// TestMemoryPerRow measures what a waiting row costs in memory (the figure behind
// DefaultMaxMemoryRows' documentation).
func TestMemoryPerRow(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100k rows")
	}
	const n = 100_000
	s, err := New(Config{Deliver: func(context.Context, meter.Batch) error { return errAway }, MaxMemoryRows: 2 * n, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	b := meter.Batch{ID: "m", At: time.Unix(60, 0)}
	for i := range n {
		b.Usage = append(b.Usage, meter.Usage{DistributionID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i/100), Minute: int64(i%100) * 60, Requests: 1})
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s.Flush(context.Background(), b)
	runtime.GC()
	runtime.ReadMemStats(&after)
	perRow := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per waiting row (%d rows: %.1f MB)", perRow, n, float64(after.HeapAlloc-before.HeapAlloc)/1e6)
	if perRow > 200 {
		t.Errorf("%.0f bytes per row: update DefaultMaxMemoryRows' documentation", perRow)
	}
	runtime.KeepAlive(s)
	runtime.KeepAlive(b)
}
