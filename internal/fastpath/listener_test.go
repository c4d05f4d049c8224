package fastpath

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// handlerFunc adapts a function to Handler.
type handlerFunc func(w http.ResponseWriter, r *http.Request) bool

func (f handlerFunc) ServeFast(w http.ResponseWriter, r *http.Request) bool { return f(w, r) }

// server is a fast-path listener in front of a real http.Server on loopback.
type server struct {
	ln     *Listener
	srv    *http.Server
	addr   string
	slow   atomic.Int64 // requests the http.Server's handler saw
	states sync.Map     // net.Conn → []http.ConnState seen through Config.ConnState
	logs   *syncBuffer
}

func newServer(t *testing.T, fast handlerFunc, slow http.HandlerFunc, tune ...func(*http.Server)) *server {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: inner.Addr().String(), logs: &syncBuffer{}}
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.slow.Add(1)
			slow(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(s.logs, "", 0),
	}
	for _, f := range tune {
		f(s.srv)
	}
	s.ln = NewListener(inner, Config{Server: s.srv, Handler: fast, ConnState: func(c net.Conn, st http.ConnState) {
		prior, _ := s.states.Load(c)
		seen, _ := prior.([]http.ConnState)
		s.states.Store(c, append(slices.Clone(seen), st))
	}})
	done := make(chan error, 1)
	go func() { done <- s.srv.Serve(s.ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			t.Errorf("http.Server.Shutdown: %v", err)
		}
		if err := s.ln.Shutdown(ctx); err != nil {
			t.Errorf("Listener.Shutdown: %v", err)
		}
		// ErrServerClosed, or net.ErrClosed when a test shut the listener down first.
		if err := <-done; err != http.ErrServerClosed && !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return s
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// send dials addr and writes raw, with 10 s for the whole exchange.
func send(t *testing.T, addr, raw string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		c.Close()
		t.Fatal(err)
	}
	return c
}

// exchange sends raw on a new connection and reads n responses.
func exchange(t *testing.T, addr, raw string, n int) []*http.Response {
	t.Helper()
	c := send(t, addr, raw)
	defer c.Close()
	br := bufio.NewReader(c)
	var out []*http.Response
	for i := range n {
		method := "GET"
		if strings.HasPrefix(raw, "HEAD") {
			method = "HEAD"
		}
		res, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("response %d body: %v", i, err)
		}
		res.Body = io.NopCloser(bytes.NewReader(body))
		out = append(out, res)
	}
	return out
}

// rawExchange sends one request on a new connection and returns the exact bytes of the response
// (informational responses included), delimited by parsing rather than by waiting for silence,
// and whether the server closed the connection after it (waited for up to 5 s only when
// wantClose; otherwise not checked and reported false).
func rawExchange(t *testing.T, addr, raw string, wantClose bool) ([]byte, bool) {
	t.Helper()
	c := send(t, addr, raw)
	defer c.Close()
	var rec bytes.Buffer
	br := bufio.NewReader(io.TeeReader(c, &rec))
	method, _, _ := strings.Cut(raw, " ")
	for {
		res, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			break // the server closed, possibly mid-body: the bytes so far are the answer
		}
		_, _ = io.Copy(io.Discard, res.Body)
		if res.StatusCode >= 200 {
			break
		}
	}
	got := rec.Bytes()[:rec.Len()-br.Buffered()]
	if !wantClose {
		return got, false
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := br.Read(make([]byte, 1))
	return got, n == 0 && err == io.EOF
}

// TestResponsesMatchNetHTTP writes the same handler output through net/http and through the
// fast path and compares the bytes on the wire. The handlers set Date, so the outputs are
// deterministic; every field net/http adds or removes is exercised by some case.
func TestResponsesMatchNetHTTP(t *testing.T) {
	const date = "Thu, 26 Nov 2026 04:00:00 GMT"
	body1k := bytes.Repeat([]byte("0123456789abcdef"), 64)
	cases := []struct {
		name    string
		request string
		handler func(w http.ResponseWriter, r *http.Request)
		closes  bool // the server ends the connection after the response
	}{
		{"length and type set", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Length"] = []string{"1024"}
			w.Header()["Content-Type"] = []string{"application/octet-stream"}
			w.Header()["Zz-Last"] = []string{"z"}
			w.Header()["Aa-First"] = []string{"a", "b"}
			_, _ = w.Write(body1k)
		}, false},
		{"length computed, type sniffed", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "<html><body>hi</body></html>")
		}, false},
		{"no sniff under Content-Encoding", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = io.WriteString(w, "<html>")
		}, false},
		{"empty 200", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {}, false},
		{"HEAD with length", "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1024")
			w.Header().Set("Content-Type", "text/plain")
		}, false},
		{"HEAD whose handler writes a body", "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "<html>abc")
		}, false},
		{"304 drops the framing fields", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1024")
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Etag", `"v1"`)
			w.WriteHeader(http.StatusNotModified)
		}, false},
		{"204", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "3")
			w.WriteHeader(http.StatusNoContent)
		}, false},
		{"206 and 416", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Range", "bytes */10")
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		}, false},
		{"unknown status", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "2")
			w.WriteHeader(599)
			_, _ = io.WriteString(w, "ok")
		}, false},
		{"viewer asks to close", "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "2")
			w.Header().Set("Connection", "keep-alive")
			_, _ = io.WriteString(w, "ok")
		}, true},
		{"handler closes", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "2")
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, "ok")
		}, true},
		{"newline in a value", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["X-Bad"] = []string{" a\r\nInjected: yes "}
			w.Header().Set("Content-Length", "0")
		}, false},
		{"short body: the connection closes", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10")
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "12345")
		}, true},
		{"long body refused", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "2")
			w.Header().Set("Content-Type", "text/plain")
			if _, err := io.WriteString(w, "12HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); err != http.ErrContentLength {
				panic("want ErrContentLength")
			}
		}, true},
		{"invalid field name dropped", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["X-A\r\nSet-Cookie: evil=1"] = []string{"v"}
			w.Header().Set("Content-Length", "0")
		}, false},
		{"fields changed after WriteHeader are not sent", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "2")
			w.WriteHeader(http.StatusOK)
			w.Header().Set("X-Late", "1")
			_, _ = io.WriteString(w, "ok")
		}, false},
		{"sniff across writes, length set", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "14")
			_, _ = io.WriteString(w, "<ht")
			_, _ = io.WriteString(w, "ml><b>x</b>")
		}, false},
		{"sniff across writes, no length", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "<ht")
			_, _ = io.WriteString(w, "ml><b>x</b>")
		}, false},
		{"sniff of a large first write", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "30000")
			_, _ = w.Write(append([]byte("%PDF-"), bytes.Repeat([]byte{'p'}, 29995)...))
		}, false},
		{"103 Early Hints before the response", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.Header().Set("Content-Length", "2")
			w.WriteHeader(http.StatusEarlyHints)
			_, _ = io.WriteString(w, "ok")
		}, false},
		{"large body written directly", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(bytes.Repeat([]byte{'b'}, 60000))
			_, _ = w.Write(bytes.Repeat([]byte{'c'}, 40000))
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", date)
				tc.handler(w, r)
			}
			plain := newServer(t, func(http.ResponseWriter, *http.Request) bool { return false }, h)
			fast := newServer(t, func(w http.ResponseWriter, r *http.Request) bool { h(w, r); return true }, h)
			want, wantClosed := rawExchange(t, plain.addr, tc.request, tc.closes)
			got, gotClosed := rawExchange(t, fast.addr, tc.request, tc.closes)
			if gotClosed != tc.closes || wantClosed != tc.closes {
				t.Fatalf("connection closed: fast path %v, net/http %v, want %v", gotClosed, wantClosed, tc.closes)
			}
			if plain.slow.Load() != 1 || fast.slow.Load() != 0 || fast.ln.Stats().Served != 1 {
				t.Fatalf("paths: plain served %d by net/http, fast %d by net/http and %d by the fast path",
					plain.slow.Load(), fast.slow.Load(), fast.ln.Stats().Served)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("wire bytes differ\nnet/http:\n%s\nfastpath:\n%s", clip(want), clip(got))
			}
		})
	}
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// TestHandOff: requests the fast path does not take reach net/http with every byte intact,
// including pipelined ones behind a fast request, and the connection stays with net/http.
func TestHandOff(t *testing.T) {
	s := newServer(t,
		func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != "/fast" {
				return false
			}
			w.Header().Set("Content-Length", "4")
			_, _ = io.WriteString(w, "fast")
			return true
		},
		func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			_, _ = io.WriteString(w, "slow "+r.Method+" "+r.URL.Path+" "+string(b))
		})
	raw := "GET /fast HTTP/1.1\r\nHost: a\r\n\r\n" +
		"GET /fast HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
		"GET /fast HTTP/1.1\r\nHost: a\r\n\r\n" // net/http's now: answered by the slow handler
	res := exchange(t, s.addr, raw, 4)
	var bodies []string
	for _, r := range res {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
	}
	want := []string{"fast", "fast", "slow POST /p hello", "slow GET /fast "}
	if !slices.Equal(bodies, want) {
		t.Fatalf("bodies %q, want %q", bodies, want)
	}
	if st := s.ln.Stats(); st.Served != 2 || st.HandedOff != 1 {
		t.Fatalf("stats %+v, want 2 served and 1 handoff", st)
	}
}

// TestHandOffDeclined: a request the handler declines goes to net/http whole, and net/http
// keeps answering the parser's refusals itself.
func TestHandOffDeclined(t *testing.T) {
	s := newServer(t,
		func(w http.ResponseWriter, r *http.Request) bool { return false },
		func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "slow "+r.Host+" "+r.URL.RawQuery)
		})
	res := exchange(t, s.addr, "GET /x?a=1 HTTP/1.1\r\nHost: h.example\r\n\r\n", 1)
	if b, _ := io.ReadAll(res[0].Body); string(b) != "slow h.example a=1" {
		t.Fatalf("body %q", b)
	}
	// Two Host fields: unfit for the fast path, and net/http answers 400.
	res = exchange(t, s.addr, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 1)
	if res[0].StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400 from net/http", res[0].StatusCode)
	}
}

// TestConnStates: the hook sees New, then Active and Idle per request, then Closed; a handed-off
// connection is not closed through the hook (the http.Server reports it from then on).
func TestConnStates(t *testing.T) {
	s := newServer(t,
		func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != "/fast" {
				return false
			}
			w.Header().Set("Content-Length", "0")
			return true
		},
		func(w http.ResponseWriter, r *http.Request) {})
	exchange(t, s.addr, "GET /fast HTTP/1.1\r\nHost: a\r\n\r\nGET /fast HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 2)
	exchange(t, s.addr, "GET /fast HTTP/1.1\r\nHost: a\r\n\r\nGET /slow HTTP/1.1\r\nHost: a\r\n\r\n", 2)
	want := []string{"new active idle active", "new active idle active idle closed"}
	wait.For(t, 5*time.Second, "connection state sequences", func() error {
		var seen []string
		s.states.Range(func(_, v any) bool {
			var names []string
			for _, st := range v.([]http.ConnState) {
				names = append(names, st.String())
			}
			seen = append(seen, strings.Join(names, " "))
			return true
		})
		slices.Sort(seen)
		if !slices.Equal(seen, want) {
			return fmt.Errorf("state sequences %q, want %q", seen, want)
		}
		return nil
	})
}

// TestPipelinedFastRequestsAnsweredInOrder: many requests in one write, each answered in turn.
func TestPipelinedFastRequestsAnsweredInOrder(t *testing.T) {
	s := newServer(t,
		func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Length", "0")
			w.Header().Set("X-Path", r.URL.Path)
			return true
		},
		func(w http.ResponseWriter, r *http.Request) {})
	var raw strings.Builder
	for i := range 50 {
		raw.WriteString("GET /" + strings.Repeat("p", i) + " HTTP/1.1\r\nHost: a\r\n\r\n")
	}
	for i, r := range exchange(t, s.addr, raw.String(), 50) {
		if got := r.Header.Get("X-Path"); got != "/"+strings.Repeat("p", i) {
			t.Fatalf("response %d is for %q", i, got)
		}
	}
}

// TestSlowHeaderAndIdleTimeouts: a head that never completes and an idle connection are both
// closed after the server's timeouts.
func TestSlowHeaderAndIdleTimeouts(t *testing.T) {
	s := newServer(t,
		func(w http.ResponseWriter, r *http.Request) bool { w.Header().Set("Content-Length", "0"); return true },
		func(w http.ResponseWriter, r *http.Request) {},
		func(srv *http.Server) {
			srv.ReadHeaderTimeout, srv.IdleTimeout = 200*time.Millisecond, 300*time.Millisecond
		})
	for _, tc := range []struct{ name, send string }{
		{"partial head", "GET / HTTP/1.1\r\nHost:"},
		{"idle after a response", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			_, _ = io.WriteString(c, tc.send)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = io.Copy(io.Discard, c)
			if err != nil {
				t.Fatalf("connection not closed by the server: %v", err)
			}
			if el := time.Since(start); el > 3*time.Second || el < 150*time.Millisecond {
				t.Fatalf("closed after %v", el)
			}
		})
	}
}

// TestTimeoutsAreNotExtended: a head trickled a byte at a time is cut off when the header
// timeout, counted from the request's first byte, runs out (not from the last byte), and a
// new connection that sends nothing gets the header timeout, not the idle timeout.
func TestTimeoutsAreNotExtended(t *testing.T) {
	s := newServer(t,
		func(w http.ResponseWriter, r *http.Request) bool { w.Header().Set("Content-Length", "0"); return true },
		func(w http.ResponseWriter, r *http.Request) {},
		func(srv *http.Server) { srv.ReadHeaderTimeout, srv.IdleTimeout = 300*time.Millisecond, 5*time.Second })
	t.Run("trickled head", func(t *testing.T) {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nX: ")
		closed := make(chan time.Duration, 1)
		go func() {
			_, _ = io.Copy(io.Discard, c)
			closed <- time.Since(start)
		}()
		for i := 0; i < 30; i++ {
			select {
			case el := <-closed:
				if el > 2*time.Second {
					t.Fatalf("closed after %v", el)
				}
				return
			case <-time.After(100 * time.Millisecond):
				_, _ = io.WriteString(c, "a")
			}
		}
		t.Fatal("a head trickled for 3 s was still being read (header timeout 300 ms)")
	})
	t.Run("silent new connection", func(t *testing.T) {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(4 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("not closed by the server: %v", err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("closed after %v, want the 300 ms header timeout", el)
		}
	})
}

// TestInvalidContentLengthDropped: a Content-Length that does not parse is not sent (the body's
// own length is) and is logged, as net/http drops and logs it.
func TestInvalidContentLengthDropped(t *testing.T) {
	s := newServer(t,
		func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Length", "2, 5")
			_, _ = io.WriteString(w, "hello")
			return true
		},
		func(w http.ResponseWriter, r *http.Request) {})
	res := exchange(t, s.addr, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1)[0]
	if b, _ := io.ReadAll(res.Body); string(b) != "hello" || res.ContentLength != 5 {
		t.Fatalf("body %q, length %d", b, res.ContentLength)
	}
	if !strings.Contains(s.logs.String(), `invalid Content-Length of "2, 5"`) {
		t.Fatalf("log %q", s.logs.String())
	}
}

// TestShutdownWaitsForAResponseInFlight: Shutdown closes idle connections at once and lets a
// request being served finish.
func TestShutdownWaitsForAResponseInFlight(t *testing.T) {
	release := make(chan struct{})
	inHandler := make(chan struct{})
	s := newServer(t,
		func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/wait" {
				close(inHandler)
				<-release
			}
			w.Header().Set("Content-Length", "2")
			_, _ = io.WriteString(w, "ok")
			return true
		},
		func(w http.ResponseWriter, r *http.Request) {})
	idle, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	busy, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, _ = io.WriteString(busy, "GET /wait HTTP/1.1\r\nHost: a\r\n\r\n")
	<-inHandler
	// The idle connection must be known to the listener before Shutdown; one request does that.
	_, _ = io.WriteString(idle, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(idle), nil); err != nil {
		t.Fatal(err)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- s.ln.Shutdown(ctx)
	}()
	_ = idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := idle.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("idle connection still open: %d, %v", n, err)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a response was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	res, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(res.Body); string(b) != "ok" || !res.Close {
		t.Fatalf("in-flight response body %q, Connection %q: want \"ok\" and close", b, res.Header.Get("Connection"))
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// TestDeclineAfterWriteClosesTheConnection: a Handler that breaks its contract loses the
// connection rather than sending two responses.
func TestDeclineAfterWriteClosesTheConnection(t *testing.T) {
	s := newServer(t,
		func(w http.ResponseWriter, r *http.Request) bool { w.Header().Set("X", "y"); return false },
		func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "slow") })
	if got, closed := rawExchange(t, s.addr, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", true); len(got) != 0 || !closed {
		t.Fatalf("got %q, want the connection closed without a response", got)
	}
	if s.slow.Load() != 0 || !strings.Contains(s.logs.String(), "declined a request after using") {
		t.Fatalf("slow handler ran %d times; log %q", s.slow.Load(), s.logs.String())
	}
}

// A Handler that panics with http.ErrAbortHandler aborts the connection as net/http does: what
// it wrote and was still buffered is never sent, and the viewer sees the connection end without a
// complete response; nothing is logged.
func TestAbortHandlerPanicAbortsTheConnection(t *testing.T) {
	for _, size := range []int{100, 2 * directWrite} {
		s := newServer(t,
			func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Length", fmt.Sprint(4*directWrite))
				_, _ = w.Write(bytes.Repeat([]byte("x"), size))
				panic(http.ErrAbortHandler)
			},
			func(w http.ResponseWriter, r *http.Request) {})
		c := send(t, s.addr, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil {
			t.Fatalf("%d bytes written: reading: %v", size, err)
		}
		if res, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil); err == nil {
			if _, err := io.ReadAll(res.Body); err == nil {
				t.Fatalf("%d bytes written: the viewer read a complete response", size)
			}
		}
		if s.logs.String() != "" {
			t.Fatalf("logged %q", s.logs.String())
		}
	}
}
