// Package spool delivers the meter's usage to the store through outages of the store of any length:
// at least once, and — because the store applies each batch id at most once (store.DB.AddUsageBatch) —
// exactly once.
//
// The meter hands over what it counted every flush interval (Flush, which never fails). The spool
// merges it per distribution and minute with everything not yet sent, and a delivery loop (Run) seals
// that into batches with fresh random ids and delivers them in order. A batch keeps its id from the
// moment a delivery is first attempted: a delivery that failed may still have been applied (a COMMIT
// whose acknowledgement was lost), so only the same id may be tried again; counts never attempted are
// merged freely. Failed deliveries are retried with backoff.
//
// While the store is away the waiting rows stay in memory up to Config.MaxMemoryRows (one row is one
// distribution's minute: memory grows with busy distributions × minutes of outage, not with traffic).
// Beyond that, with a Config.Dir, batches are written to files there — each fsynced, then renamed into
// place, then the directory fsynced — up to Config.MaxDiskBytes, and read back for delivery; a node that
// stops (or crashes) with batches on disk delivers them when it starts again, with their ids, so a batch
// applied just before the crash is not counted twice. Beyond both bounds (or without a Dir) rows keep
// accumulating in memory rather than being dropped, and the spool says so in the log: losing usage loses
// money, while the memory grows only by one row per distribution and minute.
//
// Close delivers what it can and writes the rest to Dir; only without a Dir (or beyond MaxDiskBytes)
// does a node that stops while the store is away lose usage, and Close then says how much.
package spool

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sailcdn/sailcdn/internal/backoff"
	"github.com/sailcdn/sailcdn/internal/meter"
)

// Defaults of Config.
const (
	// DefaultMaxMemoryRows: about 23 MB (a waiting row costs 117 bytes, measured by TestMemoryPerRow):
	// for instance 1 000 busy distributions through 100 minutes of outage.
	DefaultMaxMemoryRows = 200_000
	// DefaultMaxDiskBytes bounds the spill directory: at about 150 bytes per row, some 7 million rows.
	DefaultMaxDiskBytes = 1 << 30
)

const (
	// maxBatchRows bounds one batch, so that one delivery is one short transaction.
	maxBatchRows = 5_000
	// filePrefix and fileSuffix name a spilled batch: usage-<id>.json.
	filePrefix, fileSuffix = "usage-", ".json"
	lockFile               = "lock"
)

// deliverBackoff spaces deliveries while the store is unreachable.
var deliverBackoff = backoff.Policy{Min: 500 * time.Millisecond, Max: 5 * time.Second}

// Config configures a Spool. Zero values take the documented defaults.
type Config struct {
	// Deliver writes one batch to the store; required. It must apply all of the batch or none of it,
	// and a batch id at most once (edge.StoreFlusher over store.DB.AddUsageBatch does).
	Deliver func(ctx context.Context, b meter.Batch) error
	// Dir is where batches are spilled when memory is full, and found again at start ("" = memory
	// only). Created if missing. One node per directory: New locks it.
	Dir string
	// MaxMemoryRows bounds the rows waiting in memory before they spill to Dir. Default
	// DefaultMaxMemoryRows.
	MaxMemoryRows int
	// MaxDiskBytes bounds the spilled batches in Dir. Default DefaultMaxDiskBytes.
	MaxDiskBytes int64
	// Registerer receives the spool's gauges and counters. nil: none.
	Registerer prometheus.Registerer
	// Logger receives outages, spills and recoveries. Default slog.Default().
	Logger *slog.Logger
}

// usageKey identifies one row: a distribution's minute.
type usageKey struct {
	dist   string
	minute int64
}

// item is one sealed batch, in memory or on disk.
type item struct {
	batch meter.Batch // Usage is nil while the batch is only on disk
	rows  int
	file  string // path of its spill file; "" if it has none
	size  int64  // the file's size
}

// Spool delivers usage batches. Create it with New, hand Flush to the meter, run Run, Close it after
// the meter's last flush.
type Spool struct {
	cfg Config
	log *slog.Logger
	lck *os.File // the directory lock (nil without a Dir)

	mu        sync.Mutex // guards the fields below
	acc       map[usageKey]*meter.Usage
	accAt     time.Time // the latest At merged into acc
	queue     []*item   // sealed batches, oldest first; queue[0] is delivered next
	memRows   int       // rows in acc and in queued batches held in memory
	diskBytes int64     // bytes of spill files
	warnedMem bool      // logged that memory is over its bound with nowhere to spill
	warnedDsk bool      // logged that the disk bound is reached

	wake chan struct{}
	m    *metrics
}

// New returns a Spool; with a Dir it locks the directory and queues the batches spilled there by an
// earlier run, ids and all.
func New(cfg Config) (*Spool, error) {
	if cfg.Deliver == nil {
		return nil, errors.New("spool: Config.Deliver is required")
	}
	if cfg.MaxMemoryRows <= 0 {
		cfg.MaxMemoryRows = DefaultMaxMemoryRows
	}
	if cfg.MaxDiskBytes <= 0 {
		cfg.MaxDiskBytes = DefaultMaxDiskBytes
	}
	s := &Spool{cfg: cfg, log: cfg.Logger, acc: map[usageKey]*meter.Usage{}, wake: make(chan struct{}, 1)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if cfg.Registerer != nil {
		m, err := newMetrics(cfg.Registerer, s)
		if err != nil {
			return nil, err
		}
		s.m = m
	}
	if cfg.Dir != "" {
		if err := s.open(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// open locks Dir and queues the batches found there.
func (s *Spool) open() error {
	dir := s.cfg.Dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("spool: %s is in use by another sailcdn process (each node needs a spill directory of its own): %w", dir, err)
	}
	s.lck = f
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.unlock()
		return fmt.Errorf("spool: %w", err)
	}
	var found []*item
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasSuffix(name, fileSuffix+".tmp"):
			os.Remove(path) // a write that never completed: its batch was still in memory, and is lost with it
		case strings.HasPrefix(name, filePrefix) && strings.HasSuffix(name, fileSuffix):
			b, size, err := readBatch(path)
			if err != nil {
				s.log.Error("spool: unreadable spill file set aside", "file", path, "err", err)
				os.Rename(path, path+".bad")
				continue
			}
			found = append(found, &item{batch: meter.Batch{ID: b.ID, At: b.At}, rows: len(b.Usage), file: path, size: size})
		}
	}
	slices.SortFunc(found, func(a, b *item) int { return a.batch.At.Compare(b.batch.At) })
	for _, it := range found {
		s.queue = append(s.queue, it)
		s.diskBytes += it.size
	}
	if len(found) > 0 {
		s.log.Info("spool: batches spilled by an earlier run will be delivered", "batches", len(found), "bytes", s.diskBytes)
		s.poke()
	}
	return nil
}

func (s *Spool) unlock() {
	if s.lck != nil {
		syscall.Flock(int(s.lck.Fd()), syscall.LOCK_UN)
		s.lck.Close()
		s.lck = nil
	}
}

// Flush takes a batch from the meter (meter.Config.Flush). It never fails: the usage is merged with
// everything not yet delivered, and the delivery loop is woken.
func (s *Spool) Flush(_ context.Context, b meter.Batch) error {
	s.mu.Lock()
	for _, u := range b.Usage {
		k := usageKey{u.DistributionID, u.Minute}
		if cur := s.acc[k]; cur != nil {
			cur.Plus(u)
			continue
		}
		s.acc[k] = &u
		s.memRows++
	}
	if b.At.After(s.accAt) {
		s.accAt = b.At
	}
	s.spillLocked()
	s.mu.Unlock()
	s.poke()
	return nil
}

func (s *Spool) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends: at once when woken, again with backoff after a failed delivery.
func (s *Spool) Run(ctx context.Context) {
	outage := backoff.Streak{Policy: deliverBackoff}
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-retry:
		}
		retry = nil
		err := s.drain(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			first, wait := outage.Fail()
			if first {
				s.log.Warn("spool: usage delivery failed; usage waits and is retried with backoff", "err", err)
			}
			retry = time.After(wait)
		default:
			if n := outage.Succeed(); n > 0 {
				s.log.Info("spool: usage delivered again", "failed_attempts", n)
			}
		}
	}
}

// drain delivers the queued batches in order, sealing new ones from what was merged, until none is
// left or a delivery fails.
func (s *Spool) drain(ctx context.Context) error {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.sealLocked()
		}
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return nil
		}
		it := s.queue[0]
		b := it.batch
		s.mu.Unlock()
		if b.Usage == nil {
			full, _, err := readBatch(it.file)
			if err != nil {
				s.log.Error("spool: unreadable spill file set aside; its usage is not delivered", "file", it.file, "err", err)
				os.Rename(it.file, it.file+".bad")
				s.delivered(it)
				continue
			}
			b = full
		}
		if err := s.cfg.Deliver(ctx, b); err != nil {
			s.mu.Lock()
			s.m.failed()
			s.spillLocked()
			s.mu.Unlock()
			return err
		}
		s.delivered(it)
	}
}

// delivered drops a batch the store has (or that cannot be read).
func (s *Spool) delivered(it *item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.Index(s.queue, it); i >= 0 {
		s.queue = slices.Delete(s.queue, i, i+1)
	}
	if it.batch.Usage != nil {
		s.memRows -= it.rows
	}
	if it.file != "" {
		if err := os.Remove(it.file); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Error("spool: could not remove a delivered batch's file; it will be delivered again at the next start, and the store will ignore it", "file", it.file, "err", err)
		}
		s.diskBytes -= it.size
	}
	s.m.delivered()
}

// sealLocked turns what was merged into batches with fresh ids, at the end of the queue.
func (s *Spool) sealLocked() {
	if len(s.acc) == 0 {
		return
	}
	rows := make([]meter.Usage, 0, len(s.acc))
	for _, u := range s.acc {
		rows = append(rows, *u)
	}
	slices.SortFunc(rows, func(a, b meter.Usage) int {
		return cmp.Or(strings.Compare(a.DistributionID, b.DistributionID), cmp.Compare(a.Minute, b.Minute))
	})
	for chunk := range slices.Chunk(rows, maxBatchRows) {
		s.queue = append(s.queue, &item{batch: meter.Batch{ID: rand.Text(), At: s.accAt, Usage: chunk}, rows: len(chunk)})
	}
	clear(s.acc)
}

// spillLocked, when the rows in memory are over their bound, seals what was merged and writes batches
// held in memory to Dir, oldest first, until they are within it. Rows are sealed only then: until a
// delivery is attempted they may be merged freely, which keeps one row per distribution and minute
// however long the store is away.
func (s *Spool) spillLocked() {
	if s.memRows <= s.cfg.MaxMemoryRows {
		return
	}
	s.sealLocked()
	if s.cfg.Dir == "" || s.lck == nil {
		if !s.warnedMem {
			s.warnedMem = true
			s.log.Warn("spool: usage waiting in memory is over its bound and there is no spill directory (--spill-dir); it keeps growing (one row per distribution and minute) rather than being dropped",
				"rows", s.memRows, "bound", s.cfg.MaxMemoryRows)
		}
		return
	}
	for _, it := range s.queue {
		if s.memRows <= s.cfg.MaxMemoryRows {
			return
		}
		if it.batch.Usage == nil || it.file != "" {
			continue
		}
		if err := s.writeLocked(it); err != nil {
			if !s.warnedDsk {
				s.warnedDsk = true
				s.log.Error("spool: cannot spill usage to disk; it stays in memory", "dir", s.cfg.Dir, "err", err)
			}
			return
		}
		it.batch.Usage = nil
		s.memRows -= it.rows
	}
}

var errDiskFull = errors.New("the spill directory holds --spill-max bytes already")

// writeLocked writes it.batch to its own file durably: fsynced, renamed into place, directory
// fsynced.
func (s *Spool) writeLocked(it *item) error {
	body, err := json.Marshal(it.batch)
	if err != nil {
		return err
	}
	if s.diskBytes+int64(len(body)) > s.cfg.MaxDiskBytes {
		return errDiskFull
	}
	path := filepath.Join(s.cfg.Dir, filePrefix+it.batch.ID+fileSuffix)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(s.cfg.Dir)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	it.file, it.size = path, int64(len(body))
	s.diskBytes += it.size
	s.m.spilled()
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func readBatch(path string) (meter.Batch, int64, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return meter.Batch{}, 0, err
	}
	var b meter.Batch
	if err := json.Unmarshal(body, &b); err != nil {
		return meter.Batch{}, 0, err
	}
	if b.ID == "" || b.Usage == nil {
		return meter.Batch{}, 0, errors.New("not a usage batch")
	}
	return b, int64(len(body)), nil
}

// Close delivers what it can until ctx ends or a delivery fails, then writes what is left in memory to
// Dir (within MaxDiskBytes) and releases the directory. Call it after the meter's last flush, with Run
// stopped. It returns an error saying how much usage was lost, if any was.
func (s *Spool) Close(ctx context.Context) error {
	derr := s.drain(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.unlock()
	s.sealLocked()
	lost := 0
	for _, it := range s.queue {
		if it.batch.Usage == nil {
			continue // on disk already
		}
		if s.lck == nil {
			lost += it.rows
			continue
		}
		if err := s.writeLocked(it); err != nil {
			lost += it.rows
			s.log.Error("spool: could not write usage to disk at shutdown", "dir", s.cfg.Dir, "err", err)
		}
	}
	if lost > 0 {
		return fmt.Errorf("spool: %d rows of usage (distribution-minutes) could not be delivered (%w) nor kept on disk, and are lost", lost, derr)
	}
	return nil
}

// Waiting reports the usage not yet delivered: rows in memory, batches queued, bytes on disk.
func (s *Spool) Waiting() (memRows, batches int, diskBytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.memRows, len(s.queue), s.diskBytes
}

// metrics are the spool's Prometheus collectors.
type metrics struct {
	failures, spills, deliveries prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, s *Spool) (*metrics, error) {
	m := &metrics{
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "sailcdn_usage_delivery_failures_total",
			Help: "Usage batch deliveries to the store that failed (retried with backoff)."}),
		spills: prometheus.NewCounter(prometheus.CounterOpts{Name: "sailcdn_usage_spilled_batches_total",
			Help: "Usage batches written to the spill directory while the store was unreachable."}),
		deliveries: prometheus.NewCounter(prometheus.CounterOpts{Name: "sailcdn_usage_delivered_batches_total",
			Help: "Usage batches the store has applied."}),
	}
	waiting := func(pick func(rows, batches int, bytes int64) float64) func() float64 {
		return func() float64 { return pick(s.Waiting()) }
	}
	for _, c := range []prometheus.Collector{m.failures, m.spills, m.deliveries,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sailcdn_usage_waiting_rows",
			Help: "Usage rows (distribution-minutes) waiting in memory for delivery to the store."},
			waiting(func(rows, _ int, _ int64) float64 { return float64(rows) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sailcdn_usage_waiting_batches",
			Help: "Usage batches waiting for delivery, in memory or spilled."},
			waiting(func(_, batches int, _ int64) float64 { return float64(batches) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sailcdn_usage_spilled_bytes",
			Help: "Bytes of usage batches in the spill directory."},
			waiting(func(_, _ int, bytes int64) float64 { return float64(bytes) })),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) failed() {
	if m != nil {
		m.failures.Inc()
	}
}

func (m *metrics) spilled() {
	if m != nil {
		m.spills.Inc()
	}
}

func (m *metrics) delivered() {
	if m != nil {
		m.deliveries.Inc()
	}
}
