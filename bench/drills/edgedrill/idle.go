package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"
)

// idleDrill opens -conns keep-alive connections, each after one 1 KiB hit, and holds them idle:
// the server's resident memory before and after gives the memory per idle connection. Then a
// sample of them is used again (still served), a new viewer is served, and all are closed.
func idleDrill(f drillFlags) error {
	s, err := startSetup(f, "idle")
	if err != nil {
		return err
	}
	defer s.stop()
	n, d := s.node, s.d
	ctx := context.Background()
	req := fmt.Sprintf("GET /obj/1024/idle HTTP/1.1\r\nHost: %s\r\n\r\n", d.host)
	hitOnce := func(c net.Conn, br *bufio.Reader) error {
		if _, err := io.WriteString(c, req); err != nil {
			return err
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	}
	// Warm: the object is a hit, and the server has served a few hundred connections.
	for i := range 200 {
		c, err := sourceDialer(i).Dial("tcp", n.edge)
		if err != nil {
			return err
		}
		if err := hitOnce(c, bufio.NewReader(c)); err != nil {
			return err
		}
		c.Close()
	}
	time.Sleep(3 * time.Second) // let the server's GC settle before the baseline
	before := n.memory()

	type held struct {
		c  net.Conn
		br *bufio.Reader
	}
	conns := make([]held, f.idleConns)
	errs := make([]error, f.idleConns)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	t0 := time.Now()
	for i := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := sourceDialer(i).Dial("tcp", n.edge)
			if err != nil {
				errs[i] = err
				return
			}
			br := bufio.NewReaderSize(c, 4096)
			if err := hitOnce(c, br); err != nil {
				errs[i] = err
				c.Close()
				return
			}
			conns[i] = held{c, br}
		})
	}
	wg.Wait()
	opened := 0
	var firstErr error
	for i, err := range errs {
		if err == nil {
			opened++
		} else if firstErr == nil {
			firstErr = fmt.Errorf("connection %d: %w", i, err)
		}
	}
	fmt.Printf("idle: %d of %d keep-alive connections opened and served one 1 KiB hit each in %.1f s (first error: %v)\n",
		opened, len(conns), time.Since(t0).Seconds(), firstErr)
	time.Sleep(5 * time.Second) // idle
	after := n.memory()
	perConn := float64(after.rss-before.rss) / float64(max(opened, 1))
	fmt.Printf("idle: server RSS %s before, %s with %d idle connections: %.1f KiB per connection (VmHWM %s)\n",
		mib(before.rss), mib(after.rss), opened, perConn/1024, mib(after.hwm))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("idle: the drill process itself holds %s of heap for its side of the connections\n", mib(int64(ms.HeapInuse)))

	// Still served: a request on every 100th held connection, and a new viewer.
	reused, reuseErr := 0, 0
	for i := 0; i < len(conns); i += 100 {
		if conns[i].c == nil {
			continue
		}
		if err := hitOnce(conns[i].c, conns[i].br); err != nil {
			reuseErr++
		} else {
			reused++
		}
	}
	viewerCtx, viewerDone := context.WithTimeout(ctx, 3*time.Second)
	lat, failed := goodViewer(viewerCtx, n.edge, d.host, "/obj/1024/idle", 10*time.Millisecond)
	viewerDone()
	fmt.Printf("idle: %d held connections reused after 5 s idle (%d failed); a new viewer meanwhile: %s, %d failed\n",
		reused, reuseErr, summarize(lat), failed)
	for _, h := range conns {
		if h.c != nil {
			h.c.Close()
		}
	}
	time.Sleep(5 * time.Second)
	fmt.Printf("idle: server RSS %s five seconds after closing them\n", mib(n.memory().rss))
	if opened != len(conns) || reuseErr > 0 || failed > 0 {
		return errors.New("idle drill: FAIL")
	}
	fmt.Println("idle drill: PASS")
	return nil
}
