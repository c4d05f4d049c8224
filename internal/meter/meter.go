// Package meter counts traffic per distribution per minute — requests, bytes sent to and received
// from viewers, bytes sent to origins, 4xx and 5xx responses — and hands the counts to a flush hook
// that persists them (the edge wires it to store.AddUsageBatch). Bytes to viewers are also counted
// apart for GET, HEAD and OPTIONS requests, and bytes to origins for POST and PUT requests: the
// BytesDownloaded and BytesUploaded metrics of the Lightsail model (see Usage).
//
// # What is counted, exactly
//
// HTTP/1.1: the listener's connections are wrapped (Listener) and every byte read from or written to
// the socket is counted: request line, header section, body, chunk framing, "100 Continue", the
// bytes of a download the viewer abandoned half way (as far as the kernel accepted them) and range
// responses alike. HTTP/1.1 serves one request at a time on a connection, so a connection's bytes
// belong to the request being served on it — except what the server reads ahead: net/http's
// buffered reader and its one-byte background read, or the fast path's buffer, may already hold
// the start of the next request (or several, pipelined) while one is served. So the connection
// frames the requests it reads as net/http does (requestFramer: head to its empty line, then
// Content-Length or chunked body; fuzzed against http.ReadRequest) and keeps the bytes read per
// request: each request is booked exactly its own bytes, whichever distribution the next one is
// for. The edge calls Start once it knows the request's distribution; the bytes the server read
// before (the request's own line and headers) and everything until the connection goes idle or
// closes (the response's tail, flushed by net/http after the handler returned, and the unread
// request body it drains) are attributed to that distribution via the http.Server hooks installed
// by Instrument. Bytes of requests no distribution claims (unknown hosts, requests net/http
// rejects before any handler runs, pipelined requests behind a connection's last response) are
// counted only in the unattributed Prometheus counter. Where net/http refuses a request's framing
// it closes the connection after it, and the framer stops: every later byte stays with that
// request.
//
// HTTP/2 (h2c): streams are multiplexed on one connection, so bytes cannot be told apart at the
// socket. Body bytes are counted exactly as the handler reads and writes them (DATA payload), while
// header sections are counted by their HTTP/1.1 text size (request line or status line plus
// "Name: value\r\n" per field), not by their HPACK-compressed size, and frame headers, SETTINGS,
// WINDOW_UPDATE and PING frames are not attributed to any distribution. Request body bytes the
// handler never reads are not counted.
//
// Origins: the edge dials its origins through Origin, whose connections count every byte written to
// the socket — request line, header section, body and its framing, and a new connection's TLS
// handshake. HTTP/1.1 carries one exchange at a time on a connection, so the bytes belong to the
// exchange that holds it: the one the transport handed the connection to (OriginContext claims it
// when net/http's GotConn trace fires, before the request is written).
//
// # Durability
//
// Counters live in memory and are flushed at least every Config.Interval (default 2 s, at most
// 5 s) and by Close, as a Batch with a random id. A flush that fails keeps its batch and retries it
// unchanged, same id, before anything newer, so a store that records ids (store.AddUsageBatch)
// applies each batch at most once even when a COMMIT succeeded but its acknowledgement was lost. A
// crash therefore loses at most the traffic of the last flush interval, plus whatever earlier
// flushes had failed to write while the store was unavailable; nothing is counted twice.
package meter

import (
	"context"
	"crypto/rand"
	"errors"
	"hash/maphash"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Usage is the traffic of one distribution in one minute. Bytes are counted at the sockets: request
// and status lines, header sections, bodies and their framing (for HTTP/2, see the package comment).
type Usage struct {
	DistributionID string
	Minute         int64 // unix seconds of the minute's first second (a multiple of 60)
	Requests       int64
	// BytesToViewers: every byte sent to viewers, whatever the method.
	BytesToViewers int64
	// BytesDownloaded: the part of BytesToViewers answering GET, HEAD and OPTIONS requests — the
	// Lightsail metric: "the number of bytes downloaded by viewers for GET, HEAD, and OPTIONS
	// requests" (GetDistributionMetricData).
	BytesDownloaded int64
	// BytesFromViewers: every byte received from viewers.
	BytesFromViewers int64
	// BytesToOrigin: every byte sent to origins, whatever the method (see Origin).
	BytesToOrigin int64
	// BytesUploaded: the part of BytesToOrigin sent for POST and PUT requests — the Lightsail metric:
	// "the number of bytes uploaded to your origin by your Lightsail distribution, using POST and PUT
	// requests".
	BytesUploaded int64
	Status4xx     int64
	Status5xx     int64
}

// Plus adds o's counts to u (every counter; the distribution and minute are u's).
func (u *Usage) Plus(o Usage) {
	u.Requests += o.Requests
	u.BytesToViewers += o.BytesToViewers
	u.BytesDownloaded += o.BytesDownloaded
	u.BytesFromViewers += o.BytesFromViewers
	u.BytesToOrigin += o.BytesToOrigin
	u.BytesUploaded += o.BytesUploaded
	u.Status4xx += o.Status4xx
	u.Status5xx += o.Status5xx
}

func (u *Usage) add(d delta) {
	u.Requests += d.requests
	u.BytesToViewers += d.down
	u.BytesDownloaded += d.downloaded
	u.BytesFromViewers += d.up
	u.BytesToOrigin += d.toOrigin
	u.BytesUploaded += d.uploaded
	u.Status4xx += d.s4xx
	u.Status5xx += d.s5xx
}

// delta is one increment of a distribution's counters.
type delta struct {
	requests, s4xx, s5xx int64
	down, downloaded     int64 // to viewers; of which for GET, HEAD and OPTIONS
	up                   int64 // from viewers
	toOrigin, uploaded   int64 // to the origin; of which for POST and PUT
}

// downloadMethod reports whether a request's answer counts as downloaded (BytesDownloaded).
func downloadMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// uploadMethod reports whether what a request sends to the origin counts as uploaded (BytesUploaded).
func uploadMethod(method string) bool { return method == http.MethodPost || method == http.MethodPut }

// Defaults and bounds of Config.Interval.
const (
	DefaultInterval = 2 * time.Second
	// MaxInterval bounds how stale the stored usage may be: GetDistributionMetricData promises
	// traffic within 5 s.
	MaxInterval = 5 * time.Second
)

// Batch is one flush's usage. A batch that failed is retried as it is, with the same ID.
type Batch struct {
	ID    string    // random (crypto/rand), unique across processes sharing a store
	At    time.Time // when the batch was made, on the meter's clock
	Usage []Usage   // merged: one row per distribution and minute
}

// Config configures a Meter.
type Config struct {
	// Flush persists a batch of usage; it is required. It must apply all of the batch or none of
	// it, and should apply a batch ID at most once: on error the same batch is retried by the next
	// flush, before newer counts, and the error may have come after the batch was applied.
	Flush func(ctx context.Context, batch Batch) error
	// Now is the clock that decides which minute traffic belongs to. nil means time.Now.
	Now func() time.Time
	// Interval between flushes (and between attributions of long downloads in progress).
	// Default DefaultInterval; values above MaxInterval are lowered to it.
	Interval time.Duration
	// Registerer receives the Prometheus collectors (per-distribution counters). nil: none.
	Registerer prometheus.Registerer
	// Logger receives flush failures. nil discards.
	Logger *slog.Logger
}

// shardCount spreads the per-minute accumulators over several locks so that requests of
// different distributions rarely contend.
const shardCount = 16

type usageKey struct {
	dist   string
	minute int64
}

type shard struct {
	mu      sync.Mutex
	pending map[usageKey]*Usage // guarded by mu
}

// Meter counts traffic. It is safe for concurrent use. A nil *Meter is valid and counts nothing,
// which is how the edge runs with metering off.
type Meter struct {
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
	seed   maphash.Seed
	shards [shardCount]shard
	prom   *promMetrics // nil without a Registerer

	conns sync.Map // *conn → struct{}: open metered connections, for sweeps

	flushMu sync.Mutex // serialises Flush; guards carry
	carry   *Batch     // the batch whose flush failed, retried as it is by the next one

	closeOnce sync.Once
	done      chan struct{}
}

// New returns a Meter. Run must be running for usage to be flushed periodically.
func New(cfg Config) (*Meter, error) {
	if cfg.Flush == nil {
		return nil, errors.New("meter: Config.Flush is required")
	}
	m := &Meter{cfg: cfg, now: cfg.Now, log: cfg.Logger, seed: maphash.MakeSeed(), done: make(chan struct{})}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.cfg.Interval <= 0 {
		m.cfg.Interval = DefaultInterval
	}
	m.cfg.Interval = min(m.cfg.Interval, MaxInterval)
	for i := range m.shards {
		m.shards[i].pending = make(map[usageKey]*Usage)
	}
	if cfg.Registerer != nil {
		p, err := newPromMetrics(cfg.Registerer)
		if err != nil {
			return nil, err
		}
		m.prom = p
	}
	return m, nil
}

// minuteOf returns the unix second starting t's minute.
func minuteOf(t time.Time) int64 {
	s := t.Unix()
	m := s - s%60
	if s < 0 && s%60 != 0 {
		m -= 60
	}
	return m
}

// add books d for dist in the current minute.
func (m *Meter) add(dist string, d delta) {
	if d == (delta{}) {
		return
	}
	k := usageKey{dist: dist, minute: minuteOf(m.now())}
	s := &m.shards[maphash.String(m.seed, dist)%shardCount]
	s.mu.Lock()
	u := s.pending[k]
	if u == nil {
		u = &Usage{DistributionID: dist, Minute: k.minute}
		s.pending[k] = u
	}
	u.add(d)
	s.mu.Unlock()
	m.prom.add(dist, d)
}

// Sum adds up the rows of one distribution (every minute), e.g. of Pending.
func Sum(us []Usage, distributionID string) Usage {
	out := Usage{DistributionID: distributionID}
	for _, u := range us {
		if u.DistributionID == distributionID {
			out.Plus(u)
		}
	}
	return out
}

// Forget drops a deleted distribution's Prometheus series. Its pending usage still reaches the store.
func (m *Meter) Forget(distributionID string) {
	if m == nil {
		return
	}
	m.prom.forget(distributionID)
}

// Run flushes every Interval until ctx ends or Close is called. Each round first attributes the
// bytes of connections still busy (a long download shows up while it runs, in the minute it is
// transferred). Flush errors are logged and retried next round.
func (m *Meter) Run(ctx context.Context) {
	if m == nil {
		return
	}
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.done:
			return
		case <-t.C:
			m.sweep()
			if err := m.Flush(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("meter: flush failed; usage kept for the next attempt", "err", err)
			}
		}
	}
}

// Flush hands every counted delta to Config.Flush now: first the batch of a failed flush, if any,
// unchanged; then, once that went through, everything counted since, as a new batch. On failure the
// failed batch is kept (and newer counts wait in the counters, merged per distribution and minute,
// so memory stays bounded however long the store is away).
func (m *Meter) Flush(ctx context.Context) error {
	if m == nil {
		return nil
	}
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	if m.carry != nil {
		if err := m.cfg.Flush(ctx, *m.carry); err != nil {
			m.prom.flushFailed(len(m.carry.Usage))
			return err
		}
		m.carry = nil
		m.prom.flushed()
	}
	var batch []Usage
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		if len(s.pending) > 0 {
			for _, u := range s.pending {
				batch = append(batch, *u)
			}
			s.pending = make(map[usageKey]*Usage, len(s.pending))
		}
		s.mu.Unlock()
	}
	if len(batch) == 0 {
		return nil
	}
	b := Batch{ID: rand.Text(), At: m.now(), Usage: mergeUsage(batch)}
	if err := m.cfg.Flush(ctx, b); err != nil {
		m.carry = &b
		m.prom.flushFailed(len(b.Usage))
		return err
	}
	m.prom.flushed()
	return nil
}

// Close attributes the bytes of every open connection, stops Run and flushes a last time. Call it
// after the edge's http.Server has shut down, so that no request is still being served.
func (m *Meter) Close(ctx context.Context) error {
	if m == nil {
		return nil
	}
	m.closeOnce.Do(func() { close(m.done) })
	m.sweep()
	return m.Flush(ctx)
}

// Pending returns the counts not yet flushed (including those of failed flushes), merged per
// distribution and minute. For diagnostics and tests.
func (m *Meter) Pending() []Usage {
	if m == nil {
		return nil
	}
	m.flushMu.Lock()
	var out []Usage
	if m.carry != nil {
		out = append(out, m.carry.Usage...)
	}
	m.flushMu.Unlock()
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for _, u := range s.pending {
			out = append(out, *u)
		}
		s.mu.Unlock()
	}
	return mergeUsage(out)
}

// mergeUsage sums the entries with the same distribution and minute, keeping first-seen order.
func mergeUsage(in []Usage) []Usage {
	idx := make(map[usageKey]int, len(in))
	out := in[:0:0]
	for _, u := range in {
		k := usageKey{u.DistributionID, u.Minute}
		if i, ok := idx[k]; ok {
			out[i].Plus(u)
			continue
		}
		idx[k] = len(out)
		out = append(out, u)
	}
	return out
}
