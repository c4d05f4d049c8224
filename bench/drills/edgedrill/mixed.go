package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"
	"github.com/sailcdn/sailcdn/internal/meter/metertest"
	_ "modernc.org/sqlite"
)

// account is one of the drill's AWS accounts (a profile of the --credentials file).
type account struct{ profile, key, secret, id string }

var drillAccounts = []account{
	{"drill1", "AKIDDRILL1EXAMPLE", "drill-secret-1", "111111111111"},
	{"drill2", "AKIDDRILL2EXAMPLE", "drill-secret-2", "222222222222"},
	{"drill3", "AKIDDRILL3EXAMPLE", "drill-secret-3", "333333333333"},
}

// viewerSide is one distribution's load: its own connections, whose bytes are counted.
type viewerSide struct {
	d             distribution
	client        *http.Client
	transport     *http.Transport
	read, written atomic.Int64 // bytes the load generator read from and wrote to the edge
	// The edge's own answers to readiness probes sent before it served the host: metered as
	// unattributed traffic (docs/edge.md), not the distribution's.
	unattributedRead, unattributedWritten int64
}

// waitServed probes until the edge serves v's distribution, keeping apart the bytes of the probes
// the edge answered itself (one at a time on v's connections, so the counters' deltas are theirs).
func (v *viewerSide) waitServed(n *node) error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r0, w0 := v.read.Load(), v.written.Load()
		fromOrigin, err := n.probe(v.client, v.d)
		if err == nil && fromOrigin {
			return nil
		}
		v.unattributedRead += v.read.Load() - r0
		v.unattributedWritten += v.written.Load() - w0
	}
	return fmt.Errorf("the edge does not serve %s within 30s", v.d.host)
}

// attributed is what the edge must have metered to v's distribution.
func (v *viewerSide) attributed() (read, written int64) {
	return v.read.Load() - v.unattributedRead, v.written.Load() - v.unattributedWritten
}

func newViewerSide(edge string) *viewerSide {
	v := &viewerSide{}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	v.transport = &http.Transport{
		MaxIdleConnsPerHost: 16,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, edge)
			if err != nil {
				return nil, err
			}
			return metertest.Counting(c, &v.read, &v.written), nil
		},
	}
	v.client = &http.Client{Transport: v.transport, Timeout: 30 * time.Second}
	return v
}

// tally collects one class of work's latencies and outcomes.
type tally struct {
	mu        sync.Mutex
	lat       []time.Duration
	status    map[int]int
	edge5xx   int // 5xx the origin did not send
	transport int // errors before a status
}

func (t *tally) add(d time.Duration, status int, fromOrigin bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status == nil {
		t.status = map[int]int{}
	}
	if err != nil {
		t.transport++
		return
	}
	t.lat = append(t.lat, d)
	t.status[status]++
	if status >= 500 && !fromOrigin {
		t.edge5xx++
	}
}

// mixedDrill: -duration of hits, misses, uploads, origin errors and API reads and writes from three
// accounts (two distributions each), then the metered bytes against the bytes counted on the load
// generator's sockets and the origin's.
func mixedDrill(f drillFlags) error {
	o := &origin{}
	url, stopOrigin := startOrigin(o)
	defer stopOrigin()
	var creds strings.Builder
	for _, a := range drillAccounts {
		fmt.Fprintf(&creds, "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_account_id = %s\n", a.profile, a.key, a.secret, a.id)
	}
	n, err := startNode(f, nodeConfig{origins: map[string]string{"gen": url}, credentials: creds.String()})
	if err != nil {
		return err
	}
	defer n.stop()
	ctx := context.Background()
	var sides []*viewerSide
	clients := map[string]*lightsail.Client{}
	owner := map[*viewerSide]string{}
	for _, a := range drillAccounts {
		c := n.client(a.key, a.secret)
		clients[a.profile] = c
		for j := range 2 {
			v := newViewerSide(n.edge)
			if v.d, err = n.create(ctx, c, fmt.Sprintf("%s-site%d", a.profile, j), "gen"); err != nil {
				return err
			}
			if err := v.waitServed(n); err != nil {
				return err
			}
			sides = append(sides, v)
			owner[v] = a.profile
		}
	}
	idle := n.memory()
	fmt.Printf("mixed: %d accounts, %d distributions; server idle RSS %s; load for %v\n", len(drillAccounts), len(sides), mib(idle.rss), f.duration)

	classes := map[string]*tally{}
	for _, c := range []string{"hit 1 KiB", "hit 100 KiB", "miss 16 KiB", "upload", "origin 503", "API read", "API write"} {
		classes[c] = &tally{}
	}
	loadCtx, loadDone := context.WithTimeout(ctx, f.duration)
	defer loadDone()
	stopMem := make(chan struct{})
	peak := n.sampleMemory(stopMem)
	var seq atomic.Int64
	viewer := func(class string, pick func(r *rand.Rand) (method, path string, body []byte)) func() {
		return func() {
			r := rand.New(rand.NewPCG(uint64(seq.Add(1)), 7))
			for loadCtx.Err() == nil {
				v := sides[r.IntN(len(sides))]
				method, path, body := pick(r)
				req, _ := http.NewRequest(method, "http://"+n.edge+path, bytes.NewReader(body))
				req.Host = v.d.host
				t0 := time.Now()
				resp, err := v.client.Do(req)
				status, fromOrigin := 0, false
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status, fromOrigin = resp.StatusCode, resp.Header.Get("X-Origin-Sent") != ""
				}
				if err != nil && loadCtx.Err() != nil {
					return // cut by the end of the drill, not by the edge
				}
				classes[class].add(time.Since(t0), status, fromOrigin, err)
			}
		}
	}
	var wg sync.WaitGroup
	// RSS every 10 s: bounded means it levels off once the cache is full (--cache-size, 256 MiB).
	wg.Go(func() {
		var line []string
		for loadCtx.Err() == nil {
			select {
			case <-loadCtx.Done():
			case <-time.After(10 * time.Second):
				line = append(line, mib(n.memory().rss))
			}
		}
		fmt.Printf("mixed: server RSS every 10 s: %s\n", strings.Join(line, ", "))
	})
	workers := []struct {
		count int
		run   func()
	}{
		{3, viewer("hit 1 KiB", func(r *rand.Rand) (string, string, []byte) {
			return http.MethodGet, fmt.Sprintf("/obj/1024/h%d", r.IntN(20)), nil
		})},
		{1, viewer("hit 100 KiB", func(r *rand.Rand) (string, string, []byte) {
			return http.MethodGet, fmt.Sprintf("/obj/102400/h%d", r.IntN(5)), nil
		})},
		{2, viewer("miss 16 KiB", func(r *rand.Rand) (string, string, []byte) {
			return http.MethodGet, fmt.Sprintf("/obj/16384/m%d", seq.Add(1)), nil
		})},
		{2, viewer("upload", func(r *rand.Rand) (string, string, []byte) {
			method := http.MethodPost
			if r.IntN(2) == 0 {
				method = http.MethodPut
			}
			return method, fmt.Sprintf("/up/%d", seq.Add(1)), bytes.Repeat([]byte{'u'}, 1+r.IntN(256<<10))
		})},
		{1, viewer("origin 503", func(r *rand.Rand) (string, string, []byte) {
			time.Sleep(50 * time.Millisecond)
			return http.MethodGet, fmt.Sprintf("/fail/%d", seq.Add(1)), nil
		})},
	}
	for _, w := range workers {
		for range w.count {
			wg.Go(w.run)
		}
	}
	for _, a := range drillAccounts {
		c := clients[a.profile]
		var mine []string
		for _, v := range sides {
			if owner[v] == a.profile {
				mine = append(mine, v.d.name)
			}
		}
		wg.Go(func() {
			for i := 0; loadCtx.Err() == nil; i++ {
				t0 := time.Now()
				var err error
				class := "API read"
				switch i % 4 {
				case 0:
					_, err = c.GetDistributions(loadCtx, &lightsail.GetDistributionsInput{})
				case 1:
					now := time.Now()
					_, err = c.GetDistributionMetricData(loadCtx, &lightsail.GetDistributionMetricDataInput{
						DistributionName: aws.String(mine[0]), MetricName: types.DistributionMetricNameRequests,
						StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now), Period: aws.Int32(60),
						Unit: types.MetricUnitNone, Statistics: []types.MetricStatistic{types.MetricStatisticSum},
					})
				case 2:
					class = "API write"
					_, err = c.TagResource(loadCtx, &lightsail.TagResourceInput{ResourceName: aws.String(mine[i%len(mine)]),
						Tags: []types.Tag{{Key: aws.String("drill"), Value: aws.String(fmt.Sprint(i))}}})
				case 3:
					class = "API write"
					_, err = c.UntagResource(loadCtx, &lightsail.UntagResourceInput{ResourceName: aws.String(mine[i%len(mine)]),
						TagKeys: []string{"drill"}})
				}
				if loadCtx.Err() != nil {
					return
				}
				status := 200
				if err != nil {
					status = 500 // every call here is valid: any error is a failure
				}
				classes[class].add(time.Since(t0), status, false, nil)
				if err != nil {
					fmt.Printf("mixed: %s: %v\n", class, err)
				}
			}
		})
	}
	wg.Wait()
	close(stopMem)
	peakRSS := <-peak
	for _, v := range sides {
		v.transport.CloseIdleConnections()
	}
	names := make([]string, 0, len(classes))
	for c := range classes {
		names = append(names, c)
	}
	sort.Strings(names)
	failed := false
	total := 0
	for _, c := range names {
		t := classes[c]
		total += len(t.lat)
		fmt.Printf("mixed: %-12s %s; statuses %v; 5xx the origin did not send %d; transport errors %d\n", c, summarize(t.lat), t.status, t.edge5xx, t.transport)
		if t.edge5xx > 0 || t.transport > 0 || (c != "origin 503" && len(t.status) != 1) {
			failed = true
		}
	}
	fmt.Printf("mixed: %d requests in %v (%.0f/s); server RSS idle %s, peak sampled %s, VmHWM %s\n",
		total, f.duration, float64(total)/f.duration.Seconds(), mib(idle.rss), mib(peakRSS), mib(n.memory().hwm))

	// Every metered byte present: the meter flushes every 2 s; wait for its sums to reach what the
	// sockets carried, then compare exactly.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(n.dataDir, "data", "sailcdn.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	var m metered
	t0 := time.Now()
	for ; time.Since(t0) < 20*time.Second; time.Sleep(500 * time.Millisecond) {
		if m, err = readMetered(db); err == nil && m.matches(sides, o) {
			break
		}
	}
	if err != nil {
		return err
	}
	fmt.Printf("mixed: metered sums read %.1f s after the load\n", time.Since(t0).Seconds())
	var sumRead, sumWritten int64
	for _, v := range sides {
		mv := m.byName[v.d.name]
		r, w := v.attributed()
		sumRead += r
		sumWritten += w
		fmt.Printf("mixed: %-13s sockets: edge→viewer %d, viewer→edge %d (probes the edge answered before serving the host, unattributed: %d, %d) | metered: to viewers %d, from viewers %d\n",
			v.d.name, r, w, v.unattributedRead, v.unattributedWritten, mv.toViewers, mv.fromViewers)
	}
	fmt.Printf("mixed: all: sockets edge→viewer %d, viewer→edge %d, edge→origin %d | metered to viewers %d, from viewers %d, to origin %d (%s)\n",
		sumRead, sumWritten, o.read.Load(), m.all.toViewers, m.all.fromViewers, m.all.toOrigin, m.schema)
	if !m.matches(sides, o) {
		failed = true
		fmt.Println("mixed: metered bytes differ from the sockets'")
	}
	if failed {
		return errors.New("mixed drill: FAIL")
	}
	fmt.Println("mixed drill: PASS")
	return nil
}

// usageBytes is one distribution's metered bytes.
type usageBytes struct{ toViewers, fromViewers, toOrigin int64 }

type metered struct {
	byName map[string]usageBytes
	all    usageBytes
	schema string
}

// readMetered sums usage_minutes per distribution. Since main's migration 0006 the table has
// bytes_to_viewers, bytes_from_viewers and bytes_to_origin; before it, bytes_downloaded held the
// bytes to viewers and bytes_uploaded those from viewers, and origin bytes were not metered.
func readMetered(db *sql.DB) (metered, error) {
	m := metered{byName: map[string]usageBytes{}}
	q := `SELECT d.name, SUM(u.bytes_to_viewers), SUM(u.bytes_from_viewers), SUM(u.bytes_to_origin)
		FROM usage_minutes u JOIN distributions d ON d.id = u.distribution_id GROUP BY d.name`
	m.schema = "bytes_to_viewers, bytes_from_viewers, bytes_to_origin"
	var has int
	if err := db.QueryRow(`SELECT COUNT(*) FROM pragma_table_info('usage_minutes') WHERE name = 'bytes_to_viewers'`).Scan(&has); err != nil {
		return m, err
	}
	if has == 0 {
		q = `SELECT d.name, SUM(u.bytes_downloaded), SUM(u.bytes_uploaded), -1
			FROM usage_minutes u JOIN distributions d ON d.id = u.distribution_id GROUP BY d.name`
		m.schema = "bytes_downloaded, bytes_uploaded: no origin metering in this schema"
	}
	rows, err := db.Query(q)
	if err != nil {
		return m, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var u usageBytes
		if err := rows.Scan(&name, &u.toViewers, &u.fromViewers, &u.toOrigin); err != nil {
			return m, err
		}
		m.byName[name] = u
		m.all.toViewers += u.toViewers
		m.all.fromViewers += u.fromViewers
		m.all.toOrigin += u.toOrigin
	}
	return m, rows.Err()
}

// matches reports whether every distribution's metered bytes equal its sockets', and the origin
// bytes (where metered) equal what the origin read.
func (m metered) matches(sides []*viewerSide, o *origin) bool {
	for _, v := range sides {
		u := m.byName[v.d.name]
		if r, w := v.attributed(); u.toViewers != r || u.fromViewers != w {
			return false
		}
	}
	return m.all.toOrigin < 0 || m.all.toOrigin == o.read.Load()
}
