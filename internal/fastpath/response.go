package fastpath

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// directWrite is the body size from which Write sends the body straight to the connection after
// the header section rather than copying it into the output buffer first.
const directWrite = 16 << 10

// response is the http.ResponseWriter of one fast-path request. It writes what net/http's
// server would (see its chunkWriter.writeHeader): the same status line, the handler's fields in
// sorted order with CR and LF turned into spaces, Date when the handler set none, a sniffed
// Content-Type for a body without one, Content-Length, and Connection: close when the connection
// ends after this response. It differs in one way: a body written without a Content-Length is
// held back and sent with its length rather than chunked, which fits the small responses the
// fast path is for.
type response struct {
	conn   net.Conn
	req    *http.Request
	header http.Header // reused by the connection's requests (cleared between them)

	status      int
	wroteHeader bool // a final status is set
	headSent    bool // the final header section is in out (or already on the wire)
	touched     bool // anything at all was done through the writer
	closeAfter  bool // the connection ends after this response

	out     []byte   // bytes not yet written to conn
	held    []byte   // body held back because no Content-Length was set
	holding bool     // held is in use
	keys    []string // scratch for sorting field names
	err     error    // first write error: the viewer is gone
}

func (w *response) reset(r *http.Request) {
	clear(w.header)
	w.req, w.status = r, 0
	w.wroteHeader, w.headSent, w.touched, w.holding = false, false, false, false
	w.closeAfter = r.Close
	w.out, w.held, w.err = w.out[:0], w.held[:0], nil
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
			w.appendHead(code, nil, false)
		}
		return
	}
	w.status, w.wroteHeader = code, true
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
	if len(p) == 0 {
		return 0, nil
	}
	if !w.headSent {
		if _, ok := w.header["Content-Length"]; !ok {
			w.holding = true
		} else {
			w.appendHead(w.status, p, false)
			w.headSent = true
		}
	}
	if w.holding {
		w.held = append(w.held, p...)
		return len(p), nil
	}
	if w.req.Method == http.MethodHead {
		// As net/http: a HEAD response's body is accepted and dropped (it only informed the
		// Content-Type sniff, or the length when none was set).
		return len(p), nil
	}
	if len(p) >= directWrite {
		if err := w.flush(); err != nil {
			return 0, err
		}
		n, err := w.conn.Write(p)
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
	if !w.headSent {
		// As net/http does for a handler that finished before its output filled the buffer: the
		// length of what it wrote is the Content-Length.
		setLength := false
		if _, ok := w.header["Content-Length"]; !ok && bodyAllowed(w.status) && (w.req.Method != http.MethodHead || len(w.held) > 0) {
			setLength = true
		}
		w.appendHead(w.status, w.held, setLength)
		w.headSent = true
		if w.req.Method != http.MethodHead {
			w.out = append(w.out, w.held...)
		}
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
	_, err := w.conn.Write(w.out)
	w.out = w.out[:0]
	if err != nil {
		w.err = err
	}
	return err
}

// appendHead appends a header section for status to out. body is the start of the body, for the
// Content-Type sniff (and its length when setLength).
func (w *response) appendHead(status int, body []byte, setLength bool) {
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
	// A handler's own "Connection: close" ends the connection and is sent as it is; any other
	// Connection field gives way to net/http's "close" when the connection ends.
	handlerClose := final && hasToken(header1(w.header, "Connection"), "close")
	if handlerClose {
		w.closeAfter = true
	}
	keys := w.keys[:0]
	for k := range w.header {
		if final && excluded(status, k, w.closeAfter && !handlerClose) {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range w.header[k] {
			if strings.ContainsAny(v, "\r\n") {
				v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
			}
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, strings.Trim(v, " \t")...)
			b = append(b, "\r\n"...)
		}
	}
	w.keys = keys[:0]
	if final {
		if _, ok := w.header["Date"]; !ok {
			b = append(b, "Date: "...)
			b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
			b = append(b, "\r\n"...)
		}
		if setLength {
			b = append(b, "Content-Length: "...)
			b = strconv.AppendInt(b, int64(len(body)), 10)
			b = append(b, "\r\n"...)
		}
		if bodyAllowed(status) {
			if _, ok := w.header["Content-Type"]; !ok && header1(w.header, "Content-Encoding") == "" && len(body) > 0 {
				b = append(b, "Content-Type: "...)
				b = append(b, http.DetectContentType(body)...)
				b = append(b, "\r\n"...)
			}
		}
		if w.closeAfter && !handlerClose {
			b = append(b, "Connection: close\r\n"...)
		}
	}
	w.out = append(b, "\r\n"...)
}

// excluded reports whether net/http would leave field k out of a final response with this status:
// framing it decides itself, fields a bodiless status must not carry (RFC 9110 §8.6, §15.4.5),
// and a Connection field it replaces by "close".
func excluded(status int, k string, closing bool) bool {
	switch k {
	case "Transfer-Encoding":
		return true // the fast path frames by length
	case "Content-Length":
		return !bodyAllowed(status)
	case "Content-Type":
		return status == http.StatusNotModified
	case "Connection":
		return closing
	}
	return false
}

// hasToken reports whether the comma-separated list v holds token (case-insensitive).
func hasToken(v, token string) bool {
	for t := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.Trim(t, " \t"), token) {
			return true
		}
	}
	return false
}

func header1(h http.Header, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// bodyAllowed: RFC 9110 §6.4.1 (and net/http's bodyAllowedForStatus).
func bodyAllowed(status int) bool {
	switch {
	case status >= 100 && status <= 199, status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}

// errHandOffAfterWrite is logged when a Handler declined a request after writing to it.
var errHandOffAfterWrite = errors.New("fastpath: handler declined a request after using its ResponseWriter")

var _ http.ResponseWriter = (*response)(nil)
