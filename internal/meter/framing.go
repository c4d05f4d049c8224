package meter

import (
	"bytes"
	"strconv"
)

// requestFramer follows the HTTP/1.x requests of one connection as its bytes are read, to tell
// where each request ends: a server reads ahead (net/http's buffered reader, its one-byte
// background read, the fast path's buffer), so the bytes read while one request is served may
// already belong to the next, and they must be booked to the next (issue 9: pipelined requests
// booked upload bytes to the wrong distribution).
//
// It frames requests as net/http does (FuzzFramerAgreesWithNetHTTP holds it to that for every
// stream http.ReadRequest accepts): the head ends at its first empty line (CRLF or a bare LF);
// the body is Transfer-Encoding: chunked on HTTP/1.1 and later (chunk-size lines, data, CRLF,
// then trailer lines up to an empty line), else Content-Length bytes, else empty. Where a request
// is one net/http refuses (conflicting lengths, an unknown coding, an over-long line), net/http
// closes the connection after it, so the framer stops framing (opaque) and every later byte stays
// with the request that was being read.
type requestFramer struct {
	state framerState
	line  []byte // a line begun in an earlier read (without its '\n')
	first bool   // the next head line is the request line

	http11     bool   // the request line's version is at least HTTP/1.1
	cl         string // the trimmed Content-Length value ("" when none)
	clConflict bool   // Content-Length lines that disagree, or an empty one
	te         int    // Transfer-Encoding lines
	teChunked  bool   // the last Transfer-Encoding line says exactly "chunked"
	lastField  framingField

	remaining int64 // body or chunk bytes still to come
}

type framerState uint8

const (
	framerHead framerState = iota
	framerBody
	framerChunkSize
	framerChunkData
	framerChunkEnd // the CRLF after a chunk's data
	framerTrailer
	framerOpaque
)

// framingField is what the last head line was, for obs-fold.
type framingField uint8

const (
	otherField framingField = iota
	contentLength
	transferEncoding
)

// maxFramerLine bounds a line the framer keeps: net/http refuses heads over MaxHeaderBytes and
// chunk lines over 4 KiB, so a longer one means the connection is about to close.
const maxFramerLine = 1 << 20

func newRequestFramer() requestFramer { return requestFramer{first: true} }

// advance consumes the bytes of p that belong to the current request. It returns how many it
// consumed and whether the request ended with them (the framer then frames the next one). It does
// not allocate for the lines of a request that arrive whole in one read.
func (f *requestFramer) advance(p []byte) (n int, complete bool) {
	for n < len(p) {
		switch f.state {
		case framerOpaque:
			return len(p), false
		case framerBody, framerChunkData:
			take := int(min(int64(len(p)-n), f.remaining))
			n += take
			f.remaining -= int64(take)
			if f.remaining > 0 {
				continue
			}
			if f.state == framerBody {
				f.reset()
				return n, true
			}
			f.state, f.remaining = framerChunkEnd, 2
		case framerChunkEnd:
			n++
			if f.remaining--; f.remaining == 0 {
				f.state = framerChunkSize
			}
		default: // a line-based state
			i := bytes.IndexByte(p[n:], '\n')
			if i < 0 {
				f.keep(p[n:])
				return len(p), false
			}
			line := p[n : n+i]
			if len(f.line) > 0 {
				f.keep(line)
				line = f.line
			}
			n += i + 1
			done := f.endLine(bytes.TrimSuffix(line, []byte{'\r'}))
			f.line = f.line[:0]
			if done {
				f.reset()
				return n, true
			}
		}
	}
	return n, false
}

func (f *requestFramer) keep(b []byte) {
	if len(f.line)+len(b) > maxFramerLine {
		f.state, f.line = framerOpaque, nil
		return
	}
	f.line = append(f.line, b...)
}

// endLine handles a complete line (without CRLF) of the head, a chunk-size line or a trailer
// line. It reports whether the request ended with it.
func (f *requestFramer) endLine(line []byte) bool {
	switch f.state {
	case framerHead:
		if f.first {
			f.first = false
			f.http11 = atLeastHTTP11(line)
			return false
		}
		if len(line) == 0 {
			return f.startBody()
		}
		f.field(line)
	case framerChunkSize:
		size, _, _ := bytes.Cut(line, []byte{';'})
		size = bytes.TrimRight(size, " \t")
		n, ok := parseHex(size)
		if !ok {
			f.state = framerOpaque
			return false
		}
		if n == 0 {
			f.state = framerTrailer
			return false
		}
		f.state, f.remaining = framerChunkData, n
	case framerTrailer:
		return len(line) == 0
	}
	return false
}

// field notes the framing fields of a head line.
func (f *requestFramer) field(line []byte) {
	if line[0] == ' ' || line[0] == '\t' {
		// obs-fold: a continued Content-Length or Transfer-Encoding is not worth following.
		if f.lastField != otherField {
			f.state = framerOpaque
		}
		return
	}
	name, value, ok := bytes.Cut(line, []byte{':'})
	f.lastField = otherField
	if !ok {
		return
	}
	value = bytes.Trim(value, " \t")
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		f.lastField = contentLength
		if len(value) == 0 || f.cl != "" && f.cl != string(value) {
			f.clConflict = true
		}
		f.cl = string(value)
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		f.lastField = transferEncoding
		f.te++
		f.teChunked = bytes.EqualFold(value, []byte("chunked"))
	}
}

// startBody decides the body's framing once the head is complete. It reports whether the request
// is complete already (no body).
func (f *requestFramer) startBody() bool {
	if f.te > 0 && f.http11 {
		if f.te != 1 || !f.teChunked {
			f.state = framerOpaque
			return false
		}
		f.state = framerChunkSize
		return false
	}
	if f.cl == "" && !f.clConflict {
		return true
	}
	n, err := strconv.ParseUint(f.cl, 10, 63)
	if err != nil || f.clConflict {
		f.state = framerOpaque
		return false
	}
	if n == 0 {
		return true
	}
	f.state, f.remaining = framerBody, int64(n)
	return false
}

func (f *requestFramer) reset() {
	line := f.line[:0]
	*f = newRequestFramer()
	f.line = line
}

// parseHex reads a chunk size as net/http does: 1 to 16 hex digits.
func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | uint64(c)
	}
	if n > 1<<62 {
		return 0, false
	}
	return int64(n), true
}

// atLeastHTTP11 reads the version of a request line as net/http does (the text after its second
// space, "HTTP/x.y"): Transfer-Encoding counts only from HTTP/1.1 on.
func atLeastHTTP11(requestLine []byte) bool {
	_, rest, _ := bytes.Cut(requestLine, []byte{' '})
	_, proto, _ := bytes.Cut(rest, []byte{' '})
	if len(proto) != len("HTTP/1.1") || string(proto[:5]) != "HTTP/" || proto[6] != '.' {
		return false
	}
	major, minor := proto[5], proto[7]
	if major < '0' || major > '9' || minor < '0' || minor > '9' {
		return false
	}
	return major > '1' || major == '1' && minor >= '1'
}
