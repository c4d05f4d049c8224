package httpcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// viewer is a concurrency-safe ResponseWriter. While block is open (not closed), every Write
// waits for it; a Write also fails once ctx ends. entered counts the Writes begun.
type viewer struct {
	mu      sync.Mutex
	h       http.Header
	code    int
	body    bytes.Buffer
	block   chan struct{} // nil: writes never wait
	ctx     context.Context
	entered atomic.Int64
}

func newViewer(blocked bool) *viewer {
	v := &viewer{h: http.Header{}, ctx: context.Background()}
	if blocked {
		v.block = make(chan struct{})
	}
	return v
}

func (v *viewer) Header() http.Header { return v.h }
func (v *viewer) WriteHeader(c int) {
	v.mu.Lock()
	if v.code == 0 {
		v.code = c
	}
	v.mu.Unlock()
}
func (v *viewer) Write(p []byte) (int, error) {
	v.entered.Add(1)
	if v.block != nil {
		select {
		case <-v.block:
		case <-v.ctx.Done():
			return 0, errors.New("viewer connection closed")
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.code == 0 {
		v.code = 200
	}
	return v.body.Write(p)
}
func (v *viewer) Flush() {}
func (v *viewer) received() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.body.Len()
}
func (v *viewer) String() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.body.String()
}

// bodyOf is the test body of n bytes: distinguishable positions, so a misplaced byte shows.
func bodyOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// A viewer that stops reading delays nobody (issue 9, defect 1): the fill reads the origin at the
// origin's pace and stores the body while the viewer that led it is stuck in its first write, and
// the viewers that collapsed onto it get the whole body meanwhile. Before, they all waited for
// the stuck viewer.
func TestStalledViewerDoesNotStallTheOthers(t *testing.T) {
	body := bodyOf(300_000)
	e := newEnv(t, Config{}, respond(200, string(body), "Cache-Control: max-age=600", "Content-Length: "+strconv.Itoa(len(body))))
	stuck := newViewer(true)
	leaderDone := make(chan Result, 1)
	go func() {
		res, _ := e.c.Serve(stuck, e.request("GET", "/obj"), e.o.fetch())
		leaderDone <- res
	}()
	wait.Until(t, 2*time.Second, "the leader's viewer to be stuck in a write", func() bool { return stuck.entered.Load() > 0 })
	var finished atomic.Int64
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			v := newViewer(false)
			_, _ = e.c.Serve(v, e.request("GET", "/obj"), e.o.fetch())
			if v.String() != string(body) {
				t.Errorf("a follower got %d bytes", v.received())
			}
			finished.Add(1)
		})
	}
	wait.Until(t, 5*time.Second, "the other viewers to get the body while the leader's is stuck", func() bool { return finished.Load() == 5 })
	wait.Until(t, 2*time.Second, "the body to be stored while the leader's viewer is stuck", func() bool {
		_, ok := e.c.Lookup(e.request("GET", "/obj"))
		return ok
	})
	close(stuck.block)
	wg.Wait()
	if res := <-leaderDone; res.Status != Miss || stuck.String() != string(body) {
		t.Fatalf("leader: %+v, %d bytes", res, stuck.received())
	}
	if e.o.hits.Load() != 1 {
		t.Fatalf("origin hits %d, want 1", e.o.hits.Load())
	}
}

// Followers stream the fill as it arrives instead of waiting for the whole body.
func TestFollowersStreamTheFillAsItArrives(t *testing.T) {
	first, second := bodyOf(100_000), bytes.Repeat([]byte("z"), 100_000)
	gate := make(chan struct{})
	e := newEnv(t, Config{}, func(clk *testClock) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", clk.httpDate(0))
			w.Header().Set("Cache-Control", "max-age=600")
			w.Header().Set("Set-Cookie", "session=leader")
			_, _ = w.Write(first)
			w.(http.Flusher).Flush()
			<-gate
			_, _ = w.Write(second)
		}
	})
	leader, follower := newViewer(false), newViewer(false)
	var wg sync.WaitGroup
	var fres Result
	wg.Go(func() { _, _ = e.c.Serve(leader, e.request("GET", "/s"), e.o.fetch()) })
	wait.Until(t, 2*time.Second, "the leader to receive the first half", func() bool { return leader.received() >= len(first) })
	wg.Go(func() { fres, _ = e.c.Serve(follower, e.request("GET", "/s"), e.o.fetch()) })
	wait.Until(t, 2*time.Second, "the follower to receive the first half before the rest exists", func() bool { return follower.received() >= len(first) })
	close(gate)
	wg.Wait()
	want := string(first) + string(second)
	if leader.String() != want || follower.String() != want {
		t.Fatalf("leader %d bytes, follower %d bytes, want %d", leader.received(), follower.received(), len(want))
	}
	if fres.Status != Hit || follower.h.Get("X-Cache") != "Hit from sailcdn" || follower.h.Get("Age") == "" {
		t.Fatalf("follower: %v, X-Cache %q, Age %q", fres.Status, follower.h.Get("X-Cache"), follower.h.Get("Age"))
	}
	if follower.h.Get("Set-Cookie") != "" || leader.h.Get("Set-Cookie") == "" {
		t.Fatalf("Set-Cookie: leader %q, follower %q; only the leader's request reached the origin", leader.h.Get("Set-Cookie"), follower.h.Get("Set-Cookie"))
	}
}

// Bytes held by fills in progress stay within MaxInFlight (plus one read per fill), however many
// viewers stall; every viewer still gets its whole body once it reads again.
func TestInFlightBytesAreBounded(t *testing.T) {
	const fills = 8
	body := bodyOf(200_000)
	cfg := Config{MaxBufferedBody: 256 << 10, MaxInFlight: 512 << 10}
	// The origin holds the end of each body until the bound has been sampled, so that every fill
	// is in progress at once, however the machine schedules them.
	gate := make(chan struct{})
	e := newEnv(t, cfg, func(clk *testClock) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", clk.httpDate(0))
			w.Header().Set("Cache-Control", "max-age=600")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body[:len(body)-1])
			w.(http.Flusher).Flush()
			<-gate
			_, _ = w.Write(body[len(body)-1:])
		}
	})
	viewers := make([]*viewer, fills)
	for i := range viewers {
		viewers[i] = newViewer(true)
	}
	var release sync.Once
	releaseAll := func() {
		release.Do(func() {
			close(gate)
			for _, v := range viewers {
				close(v.block)
			}
		})
	}
	t.Cleanup(releaseAll) // before the origin's Close, which waits for its handlers
	var wg sync.WaitGroup
	for i := range viewers {
		wg.Go(func() { _, _ = e.c.Serve(viewers[i], e.request("GET", fmt.Sprintf("/o%d", i)), e.o.fetch()) })
	}
	limit := cfg.MaxInFlight + fills*fillChunk
	wait.Until(t, 2*time.Second, "every viewer to stall in a write", func() bool {
		for _, v := range viewers {
			if v.entered.Load() == 0 {
				return false
			}
		}
		return true
	})
	// Sample the bound while the fills go as far as they can.
	peak := int64(0)
	_ = wait.Poll(context.Background(), 300*time.Millisecond, func() error {
		peak = max(peak, e.c.Stats().InFlight)
		return errors.New("sampling")
	})
	if peak > limit || peak == 0 {
		t.Fatalf("peak of %d bytes in flight, bound %d", peak, limit)
	}
	releaseAll()
	wg.Wait()
	for i, v := range viewers {
		if v.String() != string(body) {
			t.Fatalf("viewer %d got %d bytes", i, v.received())
		}
	}
	e.c.background.Wait()
	if n := e.c.Stats().InFlight; n != 0 {
		t.Fatalf("%d bytes still counted in flight after every fill ended", n)
	}
}

// A body that outgrows MaxBufferedBody is streamed to the viewers that were following it at the
// fastest one's pace: one that falls a whole buffer behind is cut off (its connection is to be
// aborted), never slowing the others.
func TestLaggardOnAStreamedBodyIsCutOff(t *testing.T) {
	const size = 1 << 20
	gate := make(chan struct{})
	e := newEnv(t, Config{MaxBufferedBody: 64 << 10}, func(clk *testClock) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", clk.httpDate(0))
			w.Header().Set("Cache-Control", "max-age=600")
			b := bodyOf(size)
			_, _ = w.Write(b[:16<<10])
			w.(http.Flusher).Flush()
			<-gate
			_, _ = w.Write(b[16<<10:])
		}
	})
	fast, slow := newViewer(false), newViewer(true)
	var wg sync.WaitGroup
	var fastRes, slowRes Result
	wg.Go(func() { fastRes, _ = e.c.Serve(fast, e.request("GET", "/big"), e.o.fetch()) })
	wait.Until(t, 2*time.Second, "the first viewer to start", func() bool { return fast.received() > 0 })
	wg.Go(func() { slowRes, _ = e.c.Serve(slow, e.request("GET", "/big"), e.o.fetch()) })
	wait.Until(t, 2*time.Second, "the slow viewer to follow and stall", func() bool { return slow.entered.Load() > 0 })
	close(gate)
	wait.Until(t, 5*time.Second, "the fast viewer to get the whole body while the slow one stalls", func() bool { return fast.received() == size })
	close(slow.block)
	wg.Wait()
	if fastRes.Aborted || fast.String() != string(bodyOf(size)) {
		t.Fatalf("fast viewer: %+v, %d bytes", fastRes, fast.received())
	}
	if !slowRes.Aborted || slow.received() >= size {
		t.Fatalf("slow viewer: %+v with %d bytes; want it cut off (Aborted)", slowRes, slow.received())
	}
	if e.o.hits.Load() != 1 {
		t.Fatalf("origin hits %d, want 1", e.o.hits.Load())
	}
	e.c.background.Wait()
	if n := e.c.Stats().InFlight; n != 0 {
		t.Fatalf("%d bytes still in flight", n)
	}
}

// A viewer that has a whole response of known length finds the object stored: the last byte waits
// for the fill's end, so a next request never races the fill's last step.
func TestWholeResponseMeansStored(t *testing.T) {
	body := bodyOf(100_000)
	e := newEnv(t, Config{}, respond(200, string(body), "Cache-Control: max-age=600", "Content-Length: "+strconv.Itoa(len(body))))
	for i := range 20 {
		path := fmt.Sprintf("/o%d", i)
		v := newViewer(false)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = e.c.Serve(v, e.request("GET", path), e.o.fetch())
		}()
		wait.Until(t, 2*time.Second, "the whole body", func() bool { return v.received() == len(body) })
		if _, ok := e.c.Lookup(e.request("GET", path)); !ok {
			t.Fatalf("%s: the viewer has the whole body but the object is not stored", path)
		}
		<-done
	}
}
