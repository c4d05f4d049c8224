package fastpath

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestParseVerdicts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want verdict
	}{
		{"minimal GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", fit},
		{"HEAD with fields", "HEAD /x?y=1 HTTP/1.1\r\nHost: cdn.example.com:8080\r\nAccept: */*\r\nUser-Agent: t\r\n\r\n", fit},
		{"partial request line", "GET / HT", needMore},
		{"partial fields", "GET / HTTP/1.1\r\nHost: a\r\n", needMore},
		{"CR at the end", "GET / HTTP/1.1\r\nHost: a\r", needMore},
		{"no Host", "GET / HTTP/1.1\r\nAccept: x\r\n\r\n", unfit},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", unfit},
		{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", unfit},
		{"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", unfit},
		{"POST", "POST / HTTP/1.1\r\nHost: a\r\n\r\n", unfit},
		{"lower-case method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", unfit},
		{"HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\n\r\n", unfit},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", unfit},
		{"absolute form", "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", unfit},
		{"asterisk", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", unfit},
		{"two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", unfit},
		{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", unfit},
		{"bare LF in a field", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", unfit},
		{"bare CR", "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", unfit},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n", unfit},
		{"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", unfit},
		{"Content-Length", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", unfit},
		{"Transfer-Encoding", "GET / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: chunked\r\n\r\n", unfit},
		{"Expect", "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", unfit},
		{"Upgrade", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", unfit},
		{"Connection lists a field", "GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Foo\r\n\r\n", unfit},
		{"Connection close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n", fit},
		{"NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", unfit},
		{"obs-text in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n", unfit},
		{"control byte in the target", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", unfit},
		{"leading empty line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", unfit},
		{"head too large", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", maxHead) + "\r\n\r\n", unfit},
		{"no end within the limit", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", maxHead), unfit},
		{"too many fields", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", maxFields+1) + "\r\n", unfit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h head
			if got := parse([]byte(tt.in), &h); got != tt.want {
				t.Fatalf("parse = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParseLeavesTheNextRequest(t *testing.T) {
	first := "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
	var h head
	if v := parse([]byte(first+"GET /b HT"), &h); v != fit || h.n != len(first) || h.target != "/a" {
		t.Fatalf("verdict %d, n %d, target %q", v, h.n, h.target)
	}
}

// FuzzParseAgreesWithNetHTTP is the fast path's safety argument: whatever parse accepts,
// net/http's own reader reads as the same request — same method, target, URL, Host, fields and
// Close, no body, and the same number of bytes — so no request can be framed one way here and
// another way by net/http (or by the origin behind it).
func FuzzParseAgreesWithNetHTTP(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"HEAD /x/y.bin?q=1&r=%20 HTTP/1.1\r\nHost: cdn.example.com:8080\r\nAccept: */*\r\n\r\n",
		"GET /a%2Fb HTTP/1.1\r\nhost: [::1]:80\r\ncookie: a=1\r\nCookie: b=2\r\n\r\n",
		"GET /? HTTP/1.1\r\nHost: a\r\nPragma: no-cache\r\n\r\n",
		"GET /#frag HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n",
		"GET /p HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Tab:\t v \t\r\n\r\n",
		"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a;b,c HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\nRange: bytes=0-1\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var h head
		if parse(data, &h) != fit {
			return
		}
		r, ok := h.request(&http.Request{}, "192.0.2.1:1234")
		if !ok {
			return
		}
		cr := &countingReader{r: bytes.NewReader(data)}
		br := bufio.NewReaderSize(cr, 64<<10)
		want, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("fast path accepted %q, net/http refuses it: %v", data, err)
		}
		consumed := cr.n - br.Buffered()
		if consumed != h.n {
			t.Fatalf("fast path read %d bytes, net/http %d, of %q", h.n, consumed, data)
		}
		// net/http moves Host out of the fields (ReadRequest itself in current Go, the server's
		// readRequest in older ones).
		delete(want.Header, "Host")
		if want.Method != r.Method || want.RequestURI != r.RequestURI || want.Host != r.Host ||
			want.Proto != r.Proto || want.Close != r.Close || want.ContentLength != 0 || want.Body != http.NoBody {
			t.Fatalf("request line or framing differs for %q:\nnet/http %s %s %s host %q close %v length %d\nfastpath %s %s %s host %q close %v",
				data, want.Method, want.RequestURI, want.Proto, want.Host, want.Close, want.ContentLength,
				r.Method, r.RequestURI, r.Proto, r.Host, r.Close)
		}
		if !reflect.DeepEqual(want.URL, r.URL) {
			t.Fatalf("URL differs for %q:\nnet/http %#v\nfastpath %#v", data, want.URL, r.URL)
		}
		if !reflect.DeepEqual(want.Header, r.Header) {
			t.Fatalf("fields differ for %q:\nnet/http %q\nfastpath %q", data, want.Header, r.Header)
		}
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzHeadEndResumes: scanning a head that arrives in two reads, resuming where the first scan
// stopped, gives the verdict and end of one scan over the whole.
func FuzzHeadEndResumes(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 25)
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 26)
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\rX"), 24)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		if split < 0 || split > len(data) {
			return
		}
		wantEnd, want := headEnd(data, 0)
		if _, v := headEnd(data[:split], 0); v != needMore {
			return
		}
		if end, v := headEnd(data, split); v != want || end != wantEnd {
			t.Fatalf("resumed at %d: (%d, %d), whole: (%d, %d) for %q", split, end, v, wantEnd, want, data)
		}
	})
}
