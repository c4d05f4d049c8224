package meter

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

// netHTTPBoundaries frames stream as net/http's server reads it: http.ReadRequest, then the whole
// body (trailers included). It returns where each request it accepted ends.
func netHTTPBoundaries(stream []byte) []int {
	src := bytes.NewReader(stream)
	br := bufio.NewReaderSize(src, 1<<16)
	var ends []int
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return ends
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return ends
		}
		ends = append(ends, len(stream)-src.Len()-br.Buffered())
	}
}

// framerBoundaries feeds stream to a framer in pieces of the given size and returns where each
// request ends.
func framerBoundaries(stream []byte, piece int) []int {
	f := newRequestFramer()
	var ends []int
	off := 0
	for off < len(stream) {
		p := stream[off:min(len(stream), off+piece)]
		for len(p) > 0 {
			n, done := f.advance(p)
			off += n
			p = p[n:]
			if done {
				ends = append(ends, off)
			}
		}
	}
	return ends
}

var framingSeeds = []string{
	"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: v\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\nHost: a\n\nGET / HTTP/1.1\nHost: a\nContent-Length: 2\n\nabGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nabGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\ncontent-length:  3 \r\n\r\nabcGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
}

func TestFramerFindsRequestBoundaries(t *testing.T) {
	for _, s := range framingSeeds {
		want := netHTTPBoundaries([]byte(s))
		if len(want) == 0 {
			t.Fatalf("net/http accepts no request in %q", s)
		}
		for _, piece := range []int{1, 3, 7, len(s)} {
			got := framerBoundaries([]byte(s), piece)
			if len(got) < len(want) || !equalInts(got[:len(want)], want) {
				t.Errorf("%q in pieces of %d: framer ends %v, net/http %v", s, piece, got, want)
			}
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzFramerAgreesWithNetHTTP: wherever net/http's parser reads a request (and its body) whole,
// the framer ends that request at the same byte, however the stream is cut into reads.
func FuzzFramerAgreesWithNetHTTP(f *testing.F) {
	for _, s := range framingSeeds {
		f.Add([]byte(s), uint8(5))
	}
	f.Fuzz(func(t *testing.T, stream []byte, piece uint8) {
		want := netHTTPBoundaries(stream)
		got := framerBoundaries(stream, int(piece)+1)
		if len(got) < len(want) || !equalInts(got[:len(want)], want) {
			t.Fatalf("stream %q (pieces of %d): framer ends %v, net/http %v", stream, int(piece)+1, got, want)
		}
	})
}

// Framing a request that arrives in one read costs no allocation (it runs on every read of every
// metered connection).
func TestFramerDoesNotAllocateForWholeHeads(t *testing.T) {
	req := []byte("GET /assets/app.js HTTP/1.1\r\nHost: site.cdn.test\r\nUser-Agent: test\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n\r\n")
	f := newRequestFramer()
	allocs := testing.AllocsPerRun(100, func() {
		if n, done := f.advance(req); n != len(req) || !done {
			t.Fatalf("advance = %d, %v", n, done)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per request", allocs)
	}
}
