package main

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"time"
)

// bigDrill streams a generated -size object (5 GB by default, never on disk) through the edge twice,
// checking every byte, and records the server's resident memory: sampled every 100 ms and its peak
// (VmHWM). A body larger than the largest stored (8 MiB) is not stored, so the second request is
// streamed from the origin again (docs/edge.md, "Fills").
func bigDrill(f drillFlags) error {
	s, err := startSetup(f, "big")
	if err != nil {
		return err
	}
	defer s.stop()
	o, n, d := s.origin, s.node, s.d
	want := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	if err := generated(want, f.bigSize); err != nil {
		return err
	}
	fmt.Printf("big: %d bytes, CRC-32C %08x; server idle RSS %s\n", f.bigSize, want.Sum32(), mib(n.memory().rss))
	ok := true
	for round := range 2 {
		stop := make(chan struct{})
		peak := n.sampleMemory(stop)
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/stream/%d/big", n.edge, f.bigSize), nil)
		req.Host = d.host
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			close(stop)
			return err
		}
		got := crc32.New(crc32.MakeTable(crc32.Castagnoli))
		nr, err := io.Copy(got, resp.Body)
		resp.Body.Close()
		took := time.Since(t0)
		close(stop)
		m := n.memory()
		fmt.Printf("big: request %d: %d %s, %d bytes in %.1f s (%.0f MB/s), CRC-32C %08x, read error %v; RSS sampled peak %s, VmHWM %s\n",
			round+1, resp.StatusCode, resp.Header.Get("X-Cache"), nr, took.Seconds(), float64(nr)/took.Seconds()/1e6,
			got.Sum32(), err, mib(<-peak), mib(m.hwm))
		if err != nil || nr != f.bigSize || got.Sum32() != want.Sum32() || resp.StatusCode != 200 {
			ok = false
		}
	}
	fmt.Printf("big: origin wrote %d bytes in all\n", o.written.Load())
	if !ok {
		return errors.New("big drill: FAIL")
	}
	fmt.Println("big drill: PASS")
	return nil
}
