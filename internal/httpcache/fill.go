package httpcache

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
)

// Shared fills. A storable response to a shared exchange is read from the origin by a goroutine of
// its own (run), at the origin's pace, never at a viewer's: the viewer whose request fetched it
// and every viewer that joins meanwhile are subscribers that copy the bytes received so far to
// their own connections at their own pace. A viewer that stops reading therefore delays nobody;
// it is cut off by its own write deadline (the edge's viewer write timeout), and the fill goes on.
//
// Bytes held in flight are bounded:
//
//   - per fill: the body is held whole while it may still be stored, so at most
//     Config.MaxBufferedBody; a response declared larger is not shared at all (each viewer streams
//     its own origin response, with a 32 KiB copy buffer).
//   - in total: fills count what they hold against Config.MaxInFlight. A fill that would exceed it,
//     or whose body (of unknown length) outgrows MaxBufferedBody, gives up storing and sharing:
//     viewers that have not subscribed yet fetch for themselves, and the fill becomes a stream for
//     its subscribers. It then reads ahead of the fastest subscriber by at most streamReadAhead,
//     drops what every subscriber has sent, and cuts off a subscriber that falls more than
//     MaxBufferedBody (fillChunk under MaxInFlight pressure) behind the fastest: a slow viewer never
//     paces the others, and a lone viewer is paced only by itself. MaxInFlight can be exceeded by
//     at most one fillChunk per fill in progress.

const (
	// fillChunk is what a fill reads from the origin at a time.
	fillChunk = 32 << 10
	// viewerChunk is what a subscriber writes to its viewer at a time (and flushes).
	viewerChunk = 64 << 10
	// streamReadAhead is how far a fill that no longer stores reads ahead of its fastest subscriber.
	streamReadAhead = 256 << 10
)

var (
	// errLaggard cuts off a subscriber that fell too far behind a streamed body.
	errLaggard = errors.New("httpcache: the viewer fell too far behind a shared streamed body")
	// errNoSubscribers ends a streamed fill that nobody reads any more.
	errNoSubscribers = errors.New("httpcache: no viewer left for a streamed body")
)

// fillInput is what newFill needs.
type fillInput struct {
	status      int
	st          CacheStatus // the leader's X-Cache
	header      http.Header // the origin's sanitized header section: what the leader gets
	proto       *entry      // the response as it would be stored, without its body: validators, Vary, age, shared fields
	body        io.ReadCloser
	sizeHint    int64                    // Content-Length, or -1
	entryOfBody func(body []byte) *entry // the stored form of the complete body
	store       func(e *entry) bool      // stores it and releases the flight
	abandon     func()                   // storage is given up: releases the flight
}

// fill is one origin body being read for storage and for its subscribers.
type fill struct {
	c  *Cache
	in fillInput

	mu      sync.Mutex    // guards everything below
	changed chan struct{} // closed (and replaced) whenever the state below changes
	storing bool          // the body is kept whole for storage; subscribers may still join
	buf     []byte        // storing: the body so far
	chunks  []*chunk      // streaming: the bytes from base on
	base    int64         // streaming: offset of chunks[0]
	end     int64         // bytes read from the origin
	window  int64         // streaming: how far behind the fastest subscriber one may fall
	pacing  bool          // the fill waits for its fastest subscriber
	subs    map[*subscriber]struct{}
	spare   [][]byte // recycled chunk arrays for the next reads
	held    int64    // bytes counted against Cache.inflight
	done    bool
	err     error  // why the body ended early (nil when complete)
	entry   *entry // the stored form, once complete and storing
	stored  bool
}

// subscriber is one viewer's position in a fill.
type subscriber struct {
	pos     int64
	cut     bool
	writing *chunk // the chunk whose bytes the viewer is being sent (nil when none)
}

// chunk is a piece of a streamed body. Its array comes from streamChunks and goes back there once
// every subscriber has sent it, unless a subscriber that was cut off may still be writing from it
// (pinned), or it is not a pool array (the body kept before storing was abandoned).
type chunk struct {
	data   []byte
	pinned bool
}

// streamChunks recycles the arrays of streamed bodies, so that a long stream allocates little.
var streamChunks = sync.Pool{New: func() any { b := make([]byte, fillChunk); return &b }}

// maxSpareChunks bounds the arrays a fill keeps for its own next reads: a steady stream then
// allocates nothing, whatever sync.Pool does.
const maxSpareChunks = 8

// recycle gives the chunk's array back, to the fill's spares (still counted in flight) or to
// streamChunks; a pinned array, or the body kept before storing was abandoned, is left to the GC.
func (f *fill) recycle(c *chunk) {
	switch {
	case c.pinned || cap(c.data) != fillChunk:
		f.account(-int64(cap(c.data)))
	case len(f.spare) < maxSpareChunks:
		f.spare = append(f.spare, c.data[:fillChunk])
	default:
		b := c.data[:fillChunk]
		streamChunks.Put(&b)
		f.account(-fillChunk)
	}
	c.data = nil
}

// chunkArrayLocked returns a spare array, or one from streamChunks, counted in flight from now.
func (f *fill) chunkArrayLocked() []byte {
	if n := len(f.spare); n > 0 {
		b := f.spare[n-1]
		f.spare = f.spare[:n-1]
		return b
	}
	f.account(fillChunk)
	return *streamChunks.Get().(*[]byte)
}

func (c *Cache) newFill(in fillInput) *fill {
	f := &fill{c: c, in: in, changed: make(chan struct{}), storing: true, subs: map[*subscriber]struct{}{}}
	if in.sizeHint > 0 && c.reserve(in.sizeHint) {
		f.buf = make([]byte, 0, in.sizeHint)
		f.held = in.sizeHint
	}
	return f
}

// reserve counts n more bytes in flight if that stays within MaxInFlight.
func (c *Cache) reserve(n int64) bool {
	for {
		cur := c.inflight.Load()
		if cur+n > c.maxInFlight {
			return false
		}
		if c.inflight.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// start runs the fill in the background (counted in Cache.background).
func (f *fill) start() {
	f.c.background.Add(1)
	go f.run()
}

func (f *fill) account(n int64) {
	f.held += n
	f.c.inflight.Add(n)
}

func (f *fill) broadcastLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fill) run() {
	defer f.c.background.Done()
	defer f.in.body.Close()
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	scratch := (*bp)[:fillChunk]
	for {
		pressure, ok := f.waitForPace()
		if !ok {
			f.end0(errNoSubscribers)
			return
		}
		// Only this goroutine changes storing and the chunk list's tail: a stream reads straight
		// into the free end of its last chunk, or into a new one.
		dst, tail, owned := scratch, (*chunk)(nil), false
		if !f.storing {
			dst, tail = f.streamSpace()
			owned = tail == nil
		}
		n, err := f.in.body.Read(dst)
		switch {
		case n > 0 && tail != nil:
			f.mu.Lock()
			tail.data = tail.data[:len(tail.data)+n] // readers hold slices of the part before
			f.end += int64(n)
			f.cutLaggardsLocked(pressure)
			f.broadcastLocked()
			f.mu.Unlock()
		case n > 0:
			f.mu.Lock()
			abandoned := f.appendLocked(dst[:n], owned, pressure)
			f.broadcastLocked()
			f.mu.Unlock()
			if abandoned {
				f.in.abandon()
			}
		case owned:
			f.mu.Lock()
			f.recycle(&chunk{data: dst})
			f.mu.Unlock()
		}
		if err == io.EOF {
			f.complete()
			return
		}
		if err != nil {
			f.end0(err)
			return
		}
	}
}

// waitForPace waits, once the fill no longer stores, until its fastest subscriber is within
// streamReadAhead of what was read (within one fillChunk while MaxInFlight is reached). It
// reports whether MaxInFlight is reached, and false when no subscriber is left.
func (f *fill) waitForPace() (pressure, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		pressure = f.c.inflight.Load()+fillChunk > f.c.maxInFlight
		if f.storing {
			return pressure, true
		}
		if len(f.subs) == 0 {
			return pressure, false
		}
		fastest := int64(0)
		for s := range f.subs {
			fastest = max(fastest, s.pos)
		}
		ahead := int64(streamReadAhead)
		if pressure {
			ahead = fillChunk
		}
		if f.end-fastest < ahead {
			return pressure, true
		}
		f.pacing = true
		ch := f.changed
		f.mu.Unlock()
		<-ch
		f.mu.Lock()
		f.pacing = false
	}
}

// appendLocked adds p to the fill; owned says p is an array from streamChunks the fill may keep.
// It reports whether storage was abandoned by this call.
func (f *fill) appendLocked(p []byte, owned, pressure bool) (abandoned bool) {
	n := int64(len(p))
	if f.storing {
		fits := f.end+n <= f.c.maxBuffered
		if fits && f.grow(n) {
			f.buf = append(f.buf, p...) // readers hold slices of an older array, which never changes
			f.end += n
			return false
		}
		pressure = pressure || fits // it fitted MaxBufferedBody: MaxInFlight refused it
		// Outgrown, or MaxInFlight reached: a stream for the subscribers from now on.
		f.storing, abandoned = false, true
		f.window = f.c.maxBuffered
		if len(f.buf) > 0 {
			f.chunks = append(f.chunks, &chunk{data: f.buf, pinned: true})
		} else {
			f.account(-int64(cap(f.buf)))
		}
		f.buf = nil
	}
	if !owned {
		b := f.chunkArrayLocked()
		p = b[:copy(b, p)]
	}
	f.chunks = append(f.chunks, &chunk{data: p}) // its array was counted when the fill took it
	f.end += n
	f.cutLaggardsLocked(pressure)
	return abandoned
}

// streamSpace returns where a streamed fill reads next: the free end of its last chunk when it
// has one (so that short reads do not each hold a whole array), else a new array.
func (f *fill) streamSpace() ([]byte, *chunk) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.chunks); n > 0 {
		if c := f.chunks[n-1]; !c.pinned && cap(c.data) == fillChunk && len(c.data) < fillChunk {
			return c.data[len(c.data):fillChunk], c
		}
	}
	return f.chunkArrayLocked(), nil
}

// cutLaggardsLocked cuts off the subscribers too far behind the fastest one, then drops what every
// remaining one has sent.
func (f *fill) cutLaggardsLocked(pressure bool) {
	if pressure {
		f.window = fillChunk
	}
	fastest := int64(0)
	for s := range f.subs {
		fastest = max(fastest, s.pos)
	}
	for s := range f.subs {
		if s.pos < fastest-f.window {
			s.cut = true
			if s.writing != nil {
				s.writing.pinned = true // its write may still be reading the chunk
			}
			delete(f.subs, s)
		}
	}
	f.trimLocked()
}

// grow makes room for n more bytes in buf, within MaxInFlight. It reports false when that would
// exceed it (storage is then given up).
func (f *fill) grow(n int64) bool {
	if int64(len(f.buf))+n <= int64(cap(f.buf)) {
		return true
	}
	want := min(max(2*int64(cap(f.buf)), int64(len(f.buf))+n, 64<<10), f.c.maxBuffered)
	if !f.c.reserve(want - int64(cap(f.buf))) {
		return false
	}
	f.held += want - int64(cap(f.buf))
	nb := make([]byte, len(f.buf), want)
	copy(nb, f.buf) // readers keep the old array, which never changes
	f.buf = nb
	return true
}

// trimLocked drops the chunks of a streamed body that every subscriber has sent, but the last.
func (f *fill) trimLocked() {
	if f.storing {
		return
	}
	low := f.end
	for s := range f.subs {
		low = min(low, s.pos)
	}
	// The last chunk stays: the fill may be reading into its free end (streamSpace) right now.
	for len(f.chunks) > 1 && f.base+int64(len(f.chunks[0].data)) <= low {
		c := f.chunks[0]
		f.base += int64(len(c.data))
		f.recycle(c)
		f.chunks[0] = nil
		f.chunks = f.chunks[1:]
	}
}

// complete ends a body read whole: a body still kept whole is stored.
func (f *fill) complete() {
	f.mu.Lock()
	storing := f.storing
	f.mu.Unlock()
	var e *entry
	stored := false
	if storing {
		e = f.in.entryOfBody(f.buf)
		stored = f.in.store(e)
	}
	f.mu.Lock()
	f.done, f.entry, f.stored = true, e, stored
	if storing {
		// The body now belongs to the stored entry (counted in MaxBytes), or to nobody.
		f.c.inflight.Add(-f.held)
		f.held = 0
	} else if len(f.subs) == 0 {
		f.releaseLocked()
	}
	f.broadcastLocked()
	f.mu.Unlock()
}

// end0 ends a fill whose body failed (or that nobody reads): subscribers send what they have,
// then abort; nothing is stored.
func (f *fill) end0(err error) {
	f.mu.Lock()
	wasStoring := f.storing
	f.storing = false
	f.done, f.err = true, err
	if len(f.subs) == 0 {
		f.releaseLocked()
	}
	f.broadcastLocked()
	f.mu.Unlock()
	if wasStoring {
		f.in.abandon()
	}
}

func (f *fill) releaseLocked() {
	for _, c := range f.chunks {
		f.recycle(c)
	}
	for _, b := range f.spare {
		streamChunks.Put(&b)
	}
	f.c.inflight.Add(-f.held)
	f.held = 0
	f.buf, f.chunks, f.spare = nil, nil, nil
}

// subscribe adds a subscriber at the start of the body, if the fill still has it.
func (f *fill) subscribe() (*subscriber, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.storing && !(f.done && f.stored) {
		return nil, false
	}
	s := &subscriber{}
	f.subs[s] = struct{}{}
	return s, true
}

func (f *fill) unsubscribe(s *subscriber) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[s]; !ok {
		return
	}
	delete(f.subs, s)
	if f.done && !f.storing && len(f.subs) == 0 {
		f.releaseLocked()
	} else {
		f.trimLocked()
	}
	f.broadcastLocked()
}

// next returns the bytes available at s's position (at most viewerChunk), or, when there are none,
// whether the body has ended (and why) and a channel closed at the next change. Data returned
// stays valid until the subscriber's next advance.
func (f *fill) next(s *subscriber) (data []byte, done bool, err error, changed <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.cut {
		return nil, true, errLaggard, nil
	}
	if s.pos < f.end {
		if f.buf != nil {
			data = f.buf[s.pos:]
		} else {
			off := s.pos - f.base
			for _, c := range f.chunks {
				if off < int64(len(c.data)) {
					data, s.writing = c.data[off:], c
					break
				}
				off -= int64(len(c.data))
			}
		}
		if len(data) > viewerChunk {
			data = data[:viewerChunk]
		}
		// The last byte of a body of known length waits until the fill has ended: a viewer that
		// has the whole response then finds the object stored (or learns the body failed), rather
		// than racing the fill's last step with its next request.
		if !f.done && f.in.sizeHint > 0 && s.pos+int64(len(data)) >= f.in.sizeHint {
			data = data[:max(0, f.in.sizeHint-1-s.pos)]
			if len(data) == 0 {
				return nil, false, nil, f.changed
			}
		}
		return data, false, nil, nil
	}
	return nil, f.done, f.err, f.changed
}

// advance records that s has sent n more bytes.
func (f *fill) advance(s *subscriber, n int) {
	f.mu.Lock()
	s.pos += int64(n)
	s.writing = nil
	if f.pacing {
		f.broadcastLocked()
	}
	f.mu.Unlock()
}

// settled waits until the fill has either ended or stopped storing (a viewer that wants a range
// is answered from storage, or else with the whole body as it streams).
func (f *fill) settled(ctx context.Context) bool {
	for {
		f.mu.Lock()
		ok, ch := f.done || !f.storing, f.changed
		f.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// deliver copies the body to w from s's position until it ends, w fails or ctx ends; s is
// unsubscribed on return. It returns nil when the viewer has the whole body, errViewerLeft when
// the viewer went away, and otherwise why the body was cut short (the viewer's connection must
// then be aborted).
func (f *fill) deliver(ctx context.Context, w http.ResponseWriter, s *subscriber) error {
	defer f.unsubscribe(s)
	rc := http.NewResponseController(w)
	for {
		data, done, err, changed := f.next(s)
		if len(data) > 0 {
			n, werr := w.Write(data)
			f.advance(s, n)
			if werr != nil {
				return errViewerLeft
			}
			_ = rc.Flush()
			continue
		}
		if done {
			return err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return errViewerLeft
		}
	}
}
