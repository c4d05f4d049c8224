package fastpath

import (
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

const (
	// directWrite is the body size from which Write sends the body straight to the connection
	// after the header section rather than copying it into the output buffer first.
	directWrite = 16 << 10
	// sniffLen is how much of a body http.DetectContentType looks at.
	sniffLen = 512
	// keepBuffer bounds the buffers an idle connection keeps between requests.
	keepBuffer = 8 << 10
)

// response is the http.ResponseWriter of one fast-path request. It follows what net/http's
// server does with the same calls (its response.Write and chunkWriter.writeHeader):
//
//   - the header section is the one set when WriteHeader was called (later changes are ignored),
//     sent with the same status line, the fields in sorted order (invalid names dropped, CR and LF
//     in values turned into spaces), Date when the handler set none, a Content-Type sniffed from
//     the body's first 512 bytes when the handler set none (and no Content-Encoding), and
//     Connection: close when the connection ends after this response;
//   - a Content-Length that does not parse is dropped (and logged); a body longer than a valid one
//     is refused with http.ErrContentLength, a shorter one closes the connection afterwards, so a
//     viewer is never left out of step;
//   - bodiless statuses (1xx, 204, 304) get no framing fields and no body; HEAD bodies are dropped.
//
// It differs in one way: a body written without a Content-Length is held back and sent with its
// length rather than chunked, which fits the small responses the fast path is for.
type response struct {
	conn    net.Conn
	req     *http.Request
	header  http.Header // the handler's map, reused by the connection's requests
	sent    fields      // the snapshot taken by WriteHeader, reused
	logf    func(format string, args ...any)
	closing func() bool // the listener is closing: this response is the connection's last
	// answering is called once per response, just before its first byte is written.
	answering func()

	status        int
	contentLength int64 // declared by the handler; -1 when none
	written       int64 // body bytes the handler wrote
	sniff         bool  // Content-Type is to be sniffed from the body
	wroteHeader   bool  // a final status is set
	headSent      bool  // the final header section is in out (or already on the wire)
	touched       bool  // anything at all was done through the writer
	onWire        bool  // some of this response was written to conn
	closeAfter    bool  // the connection ends after this response

	out  []byte // bytes not yet written to conn
	held []byte // body bytes that wait for the header section (length or sniff)
	err  error  // first write error: the viewer is gone
}

func (w *response) reset(r *http.Request) {
	clear(w.header)
	w.sent = w.sent[:0]
	w.req, w.status, w.contentLength, w.written = r, 0, -1, 0
	w.sniff, w.wroteHeader, w.headSent, w.touched, w.onWire = false, false, false, false, false
	w.closeAfter = r.Close
	w.out, w.held, w.err = w.out[:0], w.held[:0], nil
}

// idle drops buffers a large response grew, so that an idle connection holds little memory.
func (w *response) idle() {
	if cap(w.out) > keepBuffer {
		w.out = make([]byte, 0, 4096)
	}
	if cap(w.held) > keepBuffer {
		w.held = nil
	}
}

// SetWriteDeadline sets the connection's write deadline, as net/http's response writer does for
// http.ResponseController: a handler can bound each of its writes rather than the response.
func (w *response) SetWriteDeadline(t time.Time) error {
	return w.conn.SetWriteDeadline(t)
}

func (w *response) Header() http.Header {
	w.touched = true
	return w.header
}

func (w *response) WriteHeader(code int) {
	w.touched = true
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic("fastpath: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 200 {
		// An informational response goes out at once with the fields set so far, as net/http
		// sends it (101 is not: the fast path never switches protocols).
		if code != http.StatusSwitchingProtocols {
			w.appendHead(code, snapshot(nil, w.header), nil, false)
		}
		return
	}
	w.status, w.wroteHeader = code, true
	w.sent = snapshot(w.sent, w.header)
	if cl := w.sent.get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(textproto.TrimString(cl), 10, 64)
		if err == nil && n >= 0 {
			w.contentLength = n
		} else {
			w.logf("fastpath: invalid Content-Length of %q", cl)
			w.sent = w.sent.without("Content-Length")
		}
	}
	w.sniff = !w.sent.has("Content-Type") && w.sent.get("Content-Encoding") == "" && bodyAllowed(code)
}

// headerField is one field of a snapshot.
type headerField struct {
	name   string
	values []string
}

// fields is a header section as WriteHeader saw it, sorted by name (the order net/http writes).
// A slice rather than a cloned map: filling and walking it is cheaper on every response.
type fields []headerField

func snapshot(dst fields, h http.Header) fields {
	dst = dst[:0]
	for k, v := range h {
		dst = append(dst, headerField{k, v})
	}
	slices.SortFunc(dst, func(a, b headerField) int { return strings.Compare(a.name, b.name) })
	return dst
}

func (f fields) find(name string) int {
	for i := range f {
		if f[i].name == name {
			return i
		}
	}
	return -1
}

func (f fields) has(name string) bool { return f.find(name) >= 0 }

// first returns the first value of name as a one-element slice (nil when absent): net/http judges
// Content-Length, Content-Encoding and Connection by their first value.
func (f fields) first(name string) []string {
	if i := f.find(name); i >= 0 && len(f[i].values) > 0 {
		return f[i].values[:1]
	}
	return nil
}

// get returns the first value of name ("" when absent).
func (f fields) get(name string) string {
	if v := f.first(name); v != nil {
		return v[0]
	}
	return ""
}

func (f fields) without(name string) fields {
	if i := f.find(name); i >= 0 {
		return slices.Delete(f, i, i+1)
	}
	return f
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	w.written += int64(len(p))
	if w.contentLength >= 0 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	if len(p) == 0 {
		return 0, nil
	}
	head := w.req.Method == http.MethodHead
	if !w.headSent {
		// The header section waits while it can still change: without a Content-Length (it will be
		// the whole body's length), or until the sniff has its 512 bytes.
		if w.contentLength < 0 || w.sniff && len(w.held)+len(p) < sniffLen {
			w.held = append(w.held, p...)
			return len(p), nil
		}
		if len(w.held) > 0 {
			w.held = append(w.held, p...)
			w.appendHead(w.status, w.sent, w.held, false)
			w.headSent = true
			if !head {
				w.out = append(w.out, w.held...)
			}
			w.held = w.held[:0]
			return len(p), nil
		}
		w.appendHead(w.status, w.sent, p, false)
		w.headSent = true
	}
	if head {
		// As net/http: a HEAD response's body is accepted and dropped.
		return len(p), nil
	}
	if len(p) >= directWrite {
		if err := w.flush(); err != nil {
			return 0, err
		}
		n, err := w.write(p)
		if err != nil {
			w.err = err
		}
		return n, err
	}
	w.out = append(w.out, p...)
	return len(p), nil
}

// finish completes the response after the handler returned and writes it.
func (w *response) finish() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	head := w.req.Method == http.MethodHead
	if !w.headSent {
		// As net/http does for a handler that finished before its output filled the buffer: the
		// length of what it wrote is the Content-Length.
		setLength := w.contentLength < 0 && bodyAllowed(w.status) && (!head || len(w.held) > 0)
		w.appendHead(w.status, w.sent, w.held, setLength)
		w.headSent = true
		if !head {
			w.out = append(w.out, w.held...)
		}
	}
	if !head && w.contentLength >= 0 && bodyAllowed(w.status) && w.written != w.contentLength {
		// Fewer bytes than declared: the viewer would read the next response as body.
		w.closeAfter = true
	}
	return w.flush()
}

func (w *response) flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.out) == 0 {
		return nil
	}
	_, err := w.write(w.out)
	w.out = w.out[:0]
	if err != nil {
		w.err = err
	}
	return err
}

func (w *response) write(p []byte) (int, error) {
	if !w.onWire {
		w.onWire = true
		w.answering()
	}
	return w.conn.Write(p)
}

// appendHead appends a header section for status with the fields of h to out. body is the
// start of the body, for the Content-Type sniff (and its length when setLength).
func (w *response) appendHead(status int, h fields, body []byte, setLength bool) {
	b := append(w.out, "HTTP/1.1 "...)
	if text := http.StatusText(status); text != "" {
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, ' ')
		b = append(b, text...)
	} else {
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, " status code "...)
		b = strconv.AppendInt(b, int64(status), 10)
	}
	b = append(b, "\r\n"...)

	final := status >= 200
	if final && w.closing() {
		// The last response before the listener closes says so, as net/http's does once
		// keep-alives are off.
		w.closeAfter = true
	}
	// A handler's own "Connection: close" ends the connection and is sent as it is; any other
	// Connection field gives way to net/http's "close" when the connection ends.
	handlerClose := final && httpguts.HeaderValuesContainsToken(h.first("Connection"), "close")
	if handlerClose {
		w.closeAfter = true
	}
	for _, f := range h {
		if excluded(status, f.name, w.closeAfter && !handlerClose) || !httpguts.ValidHeaderFieldName(f.name) {
			continue
		}
		for _, v := range f.values {
			if strings.ContainsAny(v, "\r\n") {
				v = newlineToSpace.Replace(v)
			}
			b = append(b, f.name...)
			b = append(b, ": "...)
			b = append(b, textproto.TrimString(v)...)
			b = append(b, "\r\n"...)
		}
	}
	if final {
		if !h.has("Date") {
			b = append(b, "Date: "...)
			b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
			b = append(b, "\r\n"...)
		}
		if setLength {
			b = append(b, "Content-Length: "...)
			b = strconv.AppendInt(b, int64(len(body)), 10)
			b = append(b, "\r\n"...)
		}
		if w.sniff && len(body) > 0 {
			b = append(b, "Content-Type: "...)
			b = append(b, http.DetectContentType(body)...)
			b = append(b, "\r\n"...)
		}
		if w.closeAfter && !handlerClose {
			b = append(b, "Connection: close\r\n"...)
		}
	}
	w.out = append(b, "\r\n"...)
}

// excluded reports whether net/http would leave field k out of a response with this status:
// framing it decides itself, fields a bodiless status must not carry (RFC 9110 §8.6, §15.4.5),
// and a Connection field it replaces by "close".
func excluded(status int, k string, replaceConnection bool) bool {
	switch k {
	case "Transfer-Encoding":
		return true // the fast path frames by length
	case "Content-Length":
		return !bodyAllowed(status)
	case "Content-Type":
		return status == http.StatusNotModified
	case "Connection":
		return status >= 200 && replaceConnection
	}
	return false
}

// newlineToSpace makes a field value one line, as net/http's Header.Write does.
var newlineToSpace = strings.NewReplacer("\r", " ", "\n", " ")

// bodyAllowed: RFC 9110 §6.4.1 (and net/http's bodyAllowedForStatus).
func bodyAllowed(status int) bool {
	switch {
	case status >= 100 && status <= 199, status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}

var _ http.ResponseWriter = (*response)(nil)
