package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"

	"github.com/sailcdn/sailcdn/internal/ca"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
	"github.com/sailcdn/sailcdn/internal/store"
)

// A fleet of sailcdn processes on one PostgreSQL database, on loopback: API nodes, edge nodes, and a
// counting origin. The scale-out tests (scaleout_test.go) run on it.

// fleetOrigin is a real origin that counts its fetches per path and answers cacheable objects, after
// a delay when one is set (to make concurrent misses overlap).
type fleetOrigin struct {
	*httptest.Server
	mu      sync.Mutex // guards fetches
	fetches map[string]int
	delay   atomic.Int64 // nanoseconds
}

func newFleetOrigin(t *testing.T) *fleetOrigin {
	o := &fleetOrigin{fetches: map[string]int{}}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.fetches[r.URL.Path]++
		o.mu.Unlock()
		if d := time.Duration(o.delay.Load()); d > 0 {
			time.Sleep(d) // the origin is slow: the test's way of making misses concurrent
		}
		w.Header().Set("Cache-Control", "max-age=600")
		// Bodies of a few KiB, different per path, so that byte counts mean something.
		_, _ = io.WriteString(w, strings.Repeat("object "+r.URL.Path+"\n", 200))
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *fleetOrigin) fetched(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fetches[path]
}

// fleet is the processes of one test.
type fleet struct {
	t      *testing.T
	dsn    string
	kek    string // the key-encryption key file every node shares, as operators must
	origin *fleetOrigin
	apis   []*serverProcess
	edges  []*serverProcess
	db     *store.DB // the test's own handle on the database, to check what the nodes wrote
}

// newFleet starts apis API nodes and edges edge nodes (each with edgeFlags) on dsn, with the origin
// registered as "web" by the API nodes.
func newFleet(t *testing.T, dsn string, apis, edges int, edgeFlags ...string) *fleet {
	t.Helper()
	f := &fleet{t: t, dsn: dsn, kek: newKEK(t), origin: newFleetOrigin(t)}
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverPostgres, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	for range apis {
		f.apis = append(f.apis, startNode(t, "api", "--database-url", dsn, "--key-encryption-key", f.kek, "--origin", "web="+f.origin.URL))
	}
	for range edges {
		f.edges = append(f.edges, f.startEdge(edgeFlags...))
	}
	return f
}

func (f *fleet) startEdge(flags ...string) *serverProcess {
	f.t.Helper()
	return startNode(f.t, "edge", append([]string{"--database-url", f.dsn, "--key-encryption-key", f.kek}, flags...)...)
}

// newKEK writes a key-encryption key file for nodes that share a database (created before they
// start, so that none of them creates it).
func newKEK(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kek")
	if _, err := ca.LoadOrCreateKEK(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// client is the real Lightsail client for API node i (dev key; retries off).
func (f *fleet) client(i int) *lightsail.Client { return crashClient(f.apis[i].endpoint) }

// create creates a distribution through API node 0 and returns its domain name and id.
func (f *fleet) create(name string) (host, id string) {
	f.t.Helper()
	out, err := f.client(0).CreateDistribution(context.Background(), createInput(name))
	if err != nil {
		f.t.Fatal(err)
	}
	d, err := f.db.GetDistribution(context.Background(), "000000000000", name)
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.Distribution.DomainName), d.ID
}

// storedBytes is the distribution's BytesDownloaded as stored (all minutes), read from the database.
// After a database restart the first query on a pooled connection may fail: the caller retries.
func (f *fleet) storedBytes(id string) (int64, error) {
	rows, err := f.db.QueryUsage(context.Background(), id, 0, 1<<40)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, r := range rows {
		n += r.BytesDownloaded
	}
	return n, nil
}

// waitMetered waits until the distribution's stored BytesDownloaded equals read, exactly: none lost,
// none counted twice.
func (f *fleet) waitMetered(id string, read int64, within time.Duration) {
	f.t.Helper()
	wait.For(f.t, within, "the metered bytes to equal what the viewers read", func() error {
		got, err := f.storedBytes(id)
		if err != nil {
			return err
		}
		if got != read {
			return fmt.Errorf("stored %d, viewers read %d", got, read)
		}
		return nil
	})
}

// viewerResult is one viewer request as the socket saw it.
type viewerResult struct {
	status int
	xcache string // the first word of X-Cache
	read   int64  // every byte read from the socket: status line, header section, body
}

// viewerGet sends one GET for host+path to the edge at addr on a fresh connection (Connection:
// close) and reads the answer to the end, counting every byte: exactly what the edge's meter must
// count as BytesDownloaded.
func viewerGet(addr, host, path string) (viewerResult, error) {
	var r viewerResult
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return r, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host); err != nil {
		return r, err
	}
	counted := &countingReader{r: c}
	resp, err := http.ReadResponse(bufio.NewReader(counted), nil)
	if err != nil {
		return r, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return r, err
	}
	if _, err := io.Copy(io.Discard, counted); err != nil { // anything after the body, up to the close
		return r, err
	}
	r.status, r.read = resp.StatusCode, counted.n
	r.xcache, _, _ = strings.Cut(resp.Header.Get("X-Cache"), " ")
	return r, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// traffic runs viewers against the edges until stop: one goroutine per (edge, host), each sending
// GETs for a few paths in turn, counting what they read and what failed.
type traffic struct {
	wg      sync.WaitGroup
	stopped chan struct{}
	mu      sync.Mutex
	read    map[string]int64 // edge address → bytes read from it
	ok      map[string]int   // edge address → 200 answers
	failed  map[string][]string
	hits    map[string]int // edge address → X-Cache Hit answers
}

func startTraffic(edges []string, host string, paths ...string) *traffic {
	tr := &traffic{stopped: make(chan struct{}), read: map[string]int64{}, ok: map[string]int{}, failed: map[string][]string{}, hits: map[string]int{}}
	for _, addr := range edges {
		tr.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-tr.stopped:
					return
				default:
				}
				r, err := viewerGet(addr, host, paths[i%len(paths)])
				tr.mu.Lock()
				tr.read[addr] += r.read
				switch {
				case err != nil:
					tr.failed[addr] = append(tr.failed[addr], err.Error())
				case r.status != http.StatusOK:
					tr.failed[addr] = append(tr.failed[addr], fmt.Sprintf("status %d", r.status))
				default:
					tr.ok[addr]++
					if r.xcache == "Hit" {
						tr.hits[addr]++
					}
				}
				tr.mu.Unlock()
			}
		})
	}
	return tr
}

func (tr *traffic) stop() {
	close(tr.stopped)
	tr.wg.Wait()
}

// served returns how many 200s addr has answered so far.
func (tr *traffic) served(addr string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.ok[addr]
}

// requireNoFailures fails t for every edge that failed a request.
func (tr *traffic) requireNoFailures(t *testing.T, what string) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for addr, errs := range tr.failed {
		t.Errorf("edge %s failed %d %s: %v", addr, len(errs), what, errs[:min(3, len(errs))])
	}
}

func (tr *traffic) total() int64 {
	var n int64
	for _, b := range tr.read {
		n += b
	}
	return n
}

// requirePostgres returns the shared test cluster's DSN, or skips.
func requirePostgres(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(sailtest.PostgresDSNEnv)
	if dsn == "" || testing.Short() {
		t.Skip("needs " + sailtest.PostgresDSNEnv + " (scripts/test.sh starts a private PostgreSQL)")
	}
	return dsn
}
