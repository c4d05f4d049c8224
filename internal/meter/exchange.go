package meter

import (
	"io"
	"net/http"
	"sync/atomic"
)

// Exchange is the metering of one request. A nil *Exchange (from a nil Meter) does nothing.
type Exchange struct {
	m        *Meter
	dist     string
	download bool // GET, HEAD or OPTIONS: the answer's bytes count as downloaded
	// stream is set when bytes are counted at the ResponseWriter and body rather than at the
	// socket: HTTP/2 streams, or a connection that was not accepted through Listener.
	stream *streamCounter
}

// Start begins metering r for the distribution. It returns the ResponseWriter the handler must
// write to from now on (w itself for HTTP/1.1 on a metered connection, whose bytes are counted at
// the socket). Call End when the handler is done with the request.
func (m *Meter) Start(w http.ResponseWriter, r *http.Request, distributionID string) (*Exchange, http.ResponseWriter) {
	if m == nil {
		return nil, w
	}
	x := &Exchange{m: m, dist: distributionID, download: downloadMethod(r.Method)}
	if c := connFrom(r.Context()); c != nil && r.ProtoMajor == 1 {
		m.claim(c, distributionID, x.download)
		return x, w
	}
	sc := &streamCounter{}
	sc.up.Store(requestHeadSize(r))
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &countingBody{ReadCloser: r.Body, n: &sc.up}
	}
	x.stream = sc
	return x, &streamWriter{ResponseWriter: w, c: sc}
}

// End counts the request with the status code the viewer received (0 if none was sent, for
// example because the viewer left first), and the bytes transferred so far.
func (x *Exchange) End(status int) {
	if x == nil {
		return
	}
	d := delta{requests: 1}
	switch {
	case status >= 500 && status <= 599:
		d.s5xx = 1
	case status >= 400 && status <= 499:
		d.s4xx = 1
	}
	if x.stream != nil {
		d.up, d.down = x.stream.up.Swap(0), x.stream.down.Swap(0)
		if x.download {
			d.downloaded = d.down
		}
	}
	x.m.add(x.dist, d)
}

// streamCounter holds the bytes of one request counted at the handler's side.
type streamCounter struct {
	up, down atomic.Int64
}

// requestHeadSize is the size the request line and header section would have in HTTP/1.1 text
// form (the approximation used for HTTP/2, whose HPACK-compressed size is not observable here).
func requestHeadSize(r *http.Request) int64 {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	return int64(n + headerSize(r.Header) + 2)
}

func headerSize(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// streamWriter counts what the handler writes: each header section by its HTTP/1.1 text size (see
// requestHeadSize) and body bytes exactly.
type streamWriter struct {
	http.ResponseWriter
	c           *streamCounter
	wroteHeader bool
}

func (w *streamWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		// "HTTP/2.0 200 OK\r\n" + fields + "\r\n". Informational (1xx) sections are each a section.
		n := len("HTTP/2.0 ") + 3 + 1 + len(http.StatusText(code)) + 2 + headerSize(w.Header()) + 2
		w.c.down.Add(int64(n))
		if code >= 200 {
			w.wroteHeader = true
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *streamWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.c.down.Add(int64(n))
	return n, err
}

// Flush forwards to the wrapped writer, so that streaming through the meter stays streaming.
func (w *streamWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var _ http.Flusher = (*streamWriter)(nil)
