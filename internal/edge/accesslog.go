package edge

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sailcdn/sailcdn/internal/httpcache"
)

// accessLog writes one line per request in the NCSA combined log format, which log tools parse
// out of the box, followed by sailcdn's fields:
//
//	203.0.113.9 - - [10/Apr/2026:12:00:00 +0000] "GET /a.css HTTP/1.1" 200 5120 "https://ex.com/" "curl/8.5" d1a2….cdn.localhost dist-name Hit 3f2a…-0000000000000001 0.004
//
// that is: host as requested, distribution name ("-" if none), cache result ("-" if the cache was
// not consulted), request id and seconds spent. The byte count is the response body, as in the
// combined format; metered bytes (headers included) are in the usage tables.
type accessLog struct {
	mu sync.Mutex // serialises lines
	w  io.Writer
}

type accessEntry struct {
	at        time.Time
	r         *http.Request
	status    int
	bytes     int64
	dist      *distribution
	cache     httpcache.CacheStatus
	requestID string
	elapsed   time.Duration
}

func (l *accessLog) write(e accessEntry) {
	b := make([]byte, 0, 256)
	host, _, err := net.SplitHostPort(e.r.RemoteAddr)
	if err != nil {
		host = e.r.RemoteAddr
	}
	b = append(b, orDash(host)...)
	b = append(b, " - - ["...)
	b = e.at.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] "...)
	b = strconv.AppendQuote(b, e.r.Method+" "+e.r.RequestURI+" "+e.r.Proto)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, e.bytes, 10)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, orDash(e.r.Referer()))
	b = append(b, ' ')
	b = strconv.AppendQuote(b, orDash(e.r.UserAgent()))
	b = append(b, ' ')
	b = append(b, orDash(quoteless(e.r.Host))...)
	b = append(b, ' ')
	name := "-"
	if e.dist != nil {
		name = e.dist.name
	}
	b = append(b, name...)
	b = append(b, ' ')
	cache := "-"
	if e.cache != 0 {
		cache = e.cache.String()
	}
	b = append(b, cache...)
	b = append(b, ' ')
	b = append(b, e.requestID...)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, e.elapsed.Seconds(), 'f', 3, 64)
	b = append(b, '\n')
	l.mu.Lock()
	_, _ = l.w.Write(b)
	l.mu.Unlock()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// quoteless keeps a viewer-supplied token from breaking the line's fields.
func quoteless(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '"' || c >= 0x7f {
			return strconv.Quote(s)
		}
	}
	return s
}
