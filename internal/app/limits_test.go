package app_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// withAPILimits sets the API port's limits.
func withAPILimits(l app.ServerLimits) sailtest.Option {
	return func(c *sailtest.Config) { c.API.Limits = l }
}

// rawConn is one client connection to the API port, read as HTTP/1.1.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, r: bufio.NewReader(c)}
}

// healthz sends GET /healthz on c and reads the answer.
func (c *rawConn) healthz(t *testing.T) *http.Response {
	t.Helper()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// closedWithin reads c until the server closes it and returns how long that took (or fails t after
// within). Bytes the server sends first (an error response) are returned too.
func (c *rawConn) closedWithin(t *testing.T, within time.Duration) (time.Duration, string) {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(within))
	b, err := io.ReadAll(c.r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open for %s", within)
	}
	return time.Since(start), string(b)
}

func TestAPIIdleConnectionIsClosedAfterIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	e := sailtest.New(t, withAPILimits(app.ServerLimits{IdleTimeout: idle}))
	c := dial(t, e.API.Addr)
	if resp := c.healthz(t); resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("first request: %s, close %v", resp.Status, resp.Close)
	}
	took, rest := c.closedWithin(t, 5*time.Second)
	if took < idle-50*time.Millisecond || rest != "" {
		t.Errorf("idle keep-alive connection closed after %s (idle timeout %s), with %q", took, idle, rest)
	}
}

// A client that sends its request slower than the read timeouts allow is cut off, in the header
// (ReadHeaderTimeout) or in the body (ReadTimeout), instead of holding a connection for as long as it
// likes.
func TestAPITrickledRequestIsCutOff(t *testing.T) {
	const timeout = 400 * time.Millisecond
	e := sailtest.New(t, withAPILimits(app.ServerLimits{ReadHeaderTimeout: timeout, ReadTimeout: timeout}))
	cases := []struct {
		name string
		head string
		drip string // sent one byte at a time after head
	}{
		{"header", "POST / HTTP/1.1\r\n", "Host: 127.0.0.1\r\nX-Slow: " + strings.Repeat("s", 200)},
		{"body", "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Lightsail_20161128.GetRegions\r\nContent-Length: 200\r\n\r\n",
			`{"includeAvailabilityZones":` + strings.Repeat(" ", 200)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, e.API.Addr)
			if _, err := io.WriteString(c, tc.head); err != nil {
				t.Fatal(err)
			}
			sent := make(chan int, 1)
			go func() {
				// One byte every 50 ms: the whole request would take ~10 s.
				tick := time.NewTicker(50 * time.Millisecond)
				defer tick.Stop()
				n := 0
				for ; n < len(tc.drip); n++ {
					<-tick.C
					if _, err := c.Write([]byte{tc.drip[n]}); err != nil {
						break
					}
				}
				sent <- n
			}()
			// The whole request takes ~10 s to trickle in; being cut off well before that (with a
			// margin for a loaded machine) is the timeout at work.
			took, answer := c.closedWithin(t, 8*time.Second)
			if took > 5*time.Second {
				t.Errorf("cut off after %s, want about %s", took, timeout)
			}
			c.Close()
			if n := <-sent; n == len(tc.drip) {
				t.Errorf("the whole trickled request was accepted")
			}
			t.Logf("cut off after %s; the server said %q", took.Round(time.Millisecond), strings.SplitN(answer, "\r\n", 2)[0])
		})
	}
}

// The API port holds at most MaxConns connections; one more is told so (503 with an AWS-shaped body and
// Retry-After) and closed, and a slot freed by a client that leaves is usable again.
func TestAPIConnectionBound(t *testing.T) {
	e := sailtest.New(t, withAPILimits(app.ServerLimits{MaxConns: 2}))
	held := []*rawConn{dial(t, e.API.Addr), dial(t, e.API.Addr)}
	for _, c := range held {
		if resp := c.healthz(t); resp.StatusCode != http.StatusOK {
			t.Fatalf("within the bound: %s", resp.Status)
		}
	}
	over := dial(t, e.API.Addr)
	// The refusal comes whatever the client sends; it sends a request, as any client would.
	if _, err := io.WriteString(over, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(over.r, nil)
	if err != nil {
		t.Fatalf("over the bound: no answer: %v", err)
	}
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !resp.Close ||
		resp.Header.Get("X-Amzn-ErrorType") != "ServiceUnavailable" || body["__type"] != "ServiceUnavailable" || body["message"] == "" {
		t.Errorf("over the bound: %s %v %v", resp.Status, resp.Header, body)
	}
	// closedWithin fails the test if the refused connection stays open.
	over.closedWithin(t, 10*time.Second)

	held[0].Close()
	wait.For(t, 5*time.Second, "a freed slot to be usable", func() error {
		c, err := net.Dial("tcp", e.API.Addr)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("answers %s", resp.Status)
		}
		return nil
	})
}
