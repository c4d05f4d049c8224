package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sourceDialer dials from 127.0.0.(2+i%200), so many connections come from several client
// addresses, as from several attackers (loopback accepts any 127/8 source).
func sourceDialer(i int) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%200))}, Timeout: 10 * time.Second}
}

// goodViewer fetches url every interval until ctx ends and returns the latencies and failures.
func goodViewer(ctx context.Context, edge, host, path string, interval time.Duration) ([]time.Duration, int) {
	c := &http.Client{Timeout: 10 * time.Second}
	var lat []time.Duration
	failed := 0
	for ctx.Err() == nil {
		req, _ := http.NewRequest(http.MethodGet, "http://"+edge+path, nil)
		req.Host = host
		t0 := time.Now()
		resp, err := c.Do(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		if err != nil {
			failed++
			log.Printf("good viewer: %v", err)
		} else {
			lat = append(lat, time.Since(t0))
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
	return lat, failed
}

// slowDrill: slowloris (a header byte a second), readers that stall and readers that trickle,
// while a well-behaved viewer fetches a hit and the shared object.
func slowDrill(f drillFlags) error {
	const writeTimeout = 5 * time.Second
	s, err := startSetup(f, "slow", "--viewer-write-timeout", writeTimeout.String())
	if err != nil {
		return err
	}
	defer s.stop()
	o, n, d := s.origin, s.node, s.d
	ctx := context.Background()
	fmt.Printf("server: viewer-header-timeout 10s (default), viewer-write-timeout %v; idle RSS %s\n", writeTimeout, mib(n.memory().rss))

	// Slowloris: -attackers connections each send a request head one byte a second, never ending it.
	head := "GET /obj/1024/loris HTTP/1.1\r\nHost: " + d.host + "\r\nUser-Agent: slowloris\r\nX-Padding: " + strings.Repeat("a", 64) + "\r\n"
	lorisCtx, lorisDone := context.WithTimeout(ctx, 25*time.Second)
	defer lorisDone()
	var mu sync.Mutex
	var closedAfter []time.Duration
	var sentBytes []int
	openAtEnd := 0
	var wg sync.WaitGroup
	stopMem := make(chan struct{})
	peak := n.sampleMemory(stopMem)
	for i := range f.attackers {
		wg.Go(func() {
			c, err := sourceDialer(i).Dial("tcp", n.edge)
			if err != nil {
				log.Printf("slowloris dial: %v", err)
				return
			}
			defer c.Close()
			t0 := time.Now()
			closed := make(chan struct{})
			go func() {
				_, _ = io.Copy(io.Discard, c) // returns when the server closes the connection
				close(closed)
			}()
			sent := 0
			for {
				if sent < len(head) {
					if _, err := c.Write([]byte{head[sent]}); err == nil {
						sent++
					}
				}
				select {
				case <-closed:
					mu.Lock()
					closedAfter = append(closedAfter, time.Since(t0))
					sentBytes = append(sentBytes, sent)
					mu.Unlock()
					return
				case <-lorisCtx.Done():
					mu.Lock()
					openAtEnd++
					mu.Unlock()
					return
				case <-time.After(time.Second):
				}
			}
		})
	}
	goodCtx, goodDone := context.WithTimeout(ctx, 15*time.Second)
	lat, failed := goodViewer(goodCtx, n.edge, d.host, "/obj/1024/good", 20*time.Millisecond)
	goodDone()
	wg.Wait()
	slices.Sort(closedAfter)
	fmt.Printf("slowloris: %d connections sending a header byte a second: %d closed by the edge (after %.1f s min, %.1f s median, %.1f s max; %d..%d header bytes sent), %d still open after 25 s\n",
		f.attackers, len(closedAfter), percentile(closedAfter, 0).Seconds(), percentile(closedAfter, 50).Seconds(),
		percentile(closedAfter, 100).Seconds(), slices.Min(append(sentBytes, 1<<30)), slices.Max(append(sentBytes, 0)), openAtEnd)
	fmt.Printf("slowloris: a good viewer's 1 KiB hits meanwhile: %s, %d failed\n", summarize(lat), failed)
	close(stopMem)
	fmt.Printf("slowloris: peak RSS sampled %s\n", mib(<-peak))

	// Stalled readers: each asks for a 64 MiB uncacheable stream and reads nothing. Trickling readers
	// read a shared 2 MiB object at 128 KiB/s (fast enough for a 256 KiB write to finish within the
	// write timeout, never fast). A good viewer fetches the same 2 MiB object meanwhile.
	stopMem = make(chan struct{})
	peak = n.sampleMemory(stopMem)
	type result struct {
		bytes int64
		cut   bool // the edge ended the connection before the whole body
		err   error
	}
	stalled := make([]result, f.stalled)
	tcpPeak := sampleTCPMemory(stopMem)
	trickle := make([]result, 20)
	const sharedSize = 2 << 20
	t0 := time.Now()
	for i := range stalled {
		wg.Go(func() {
			c, err := sourceDialer(i).Dial("tcp", n.edge)
			if err != nil {
				stalled[i].err = err
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "GET /slow/%d/%d HTTP/1.1\r\nHost: %s\r\n\r\n", 64<<20, i, d.host)
			time.Sleep(writeTimeout + 15*time.Second) // reads nothing: TCP buffers fill, the edge's write stalls
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			nr, err := io.Copy(io.Discard, c)
			stalled[i].bytes = nr
			var ne net.Error
			stalled[i].cut = err == nil || !(errors.As(err, &ne) && ne.Timeout()) // EOF or reset, not our deadline
		})
	}
	for i := range trickle {
		wg.Go(func() {
			c, err := sourceDialer(i).Dial("tcp", n.edge)
			if err != nil {
				trickle[i].err = err
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "GET /obj/%d/shared HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", sharedSize, d.host)
			buf := make([]byte, 16<<10)
			for {
				k, err := io.ReadFull(c, buf)
				trickle[i].bytes += int64(k)
				if err != nil {
					trickle[i].cut = !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF)
					return
				}
				time.Sleep(125 * time.Millisecond) // 16 KiB / 0.125 s = 128 KiB/s
			}
		})
	}
	goodCtx, goodDone = context.WithTimeout(ctx, 20*time.Second)
	lat, failed = goodViewer(goodCtx, n.edge, d.host, fmt.Sprintf("/obj/%d/shared", sharedSize), 100*time.Millisecond)
	goodDone()
	wg.Wait()
	close(stopMem)
	var cut, stalledErr int
	var maxStalled int64
	for _, r := range stalled {
		if r.err != nil {
			stalledErr++
		}
		if r.cut {
			cut++
		}
		maxStalled = max(maxStalled, r.bytes)
	}
	fmt.Printf("stalled readers: %d asked for 64 MiB and read nothing for %v: %d cut off by the edge, %d dial errors, at most %s delivered to one\n",
		len(stalled), writeTimeout+15*time.Second, cut, stalledErr, mib(maxStalled))
	complete := 0
	for _, r := range trickle {
		// A response head precedes the body: a complete read holds at least the body.
		if !r.cut && r.err == nil && r.bytes > sharedSize {
			complete++
		}
	}
	fmt.Printf("trickling readers: %d reading a 2 MiB hit at 128 KiB/s: %d got the whole response, never cut\n", len(trickle), complete)
	fmt.Printf("stalled readers: a good viewer's 2 MiB hits meanwhile: %s, %d failed; drill took %.0f s\n", summarize(lat), failed, time.Since(t0).Seconds())
	fmt.Printf("slow readers: peak RSS sampled %s, VmHWM %s; origin wrote %s; kernel TCP buffers peak %s (machine-wide, /proc/net/sockstat; tcp_mem pressure at %s)\n",
		mib(<-peak), mib(n.memory().hwm), mib(o.written.Load()), mib(<-tcpPeak), tcpMemPressure())
	if openAtEnd > 0 || cut != len(stalled) || complete != len(trickle) || failed > 0 {
		fmt.Fprintln(os.Stderr, "slow drill: FAIL")
		return errors.New("expectations not met")
	}
	fmt.Println("slow drill: PASS")
	return nil
}

// sampleTCPMemory records the largest "TCP: … mem N" of /proc/net/sockstat (pages of kernel memory
// in TCP buffers, machine-wide) every 100 ms until stop is closed, in bytes.
func sampleTCPMemory(stop <-chan struct{}) <-chan int64 {
	return samplePeak(stop, func() int64 {
		b, _ := os.ReadFile("/proc/net/sockstat")
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			for i := 0; len(f) > 0 && f[0] == "TCP:" && i+1 < len(f); i++ {
				if f[i] == "mem" {
					pages, _ := strconv.ParseInt(f[i+1], 10, 64)
					return pages * int64(os.Getpagesize())
				}
			}
		}
		return 0
	})
}

// tcpMemPressure is the pressure threshold of net.ipv4.tcp_mem (its middle value), in MiB.
func tcpMemPressure() string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_mem")
	f := strings.Fields(string(b))
	if err != nil || len(f) != 3 {
		return "unknown"
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return mib(pages * int64(os.Getpagesize()))
}
