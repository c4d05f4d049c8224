// Package hopbyhop is the one table of HTTP's connection-specific header fields: what a proxy
// removes before forwarding a message in either direction (RFC 9110 §7.6.1) and what a cache does
// not store (RFC 9111 §3.1). The edge uses it for the requests it sends to origins, the cache for
// the responses it stores and forwards, so the two can never disagree.
package hopbyhop

import (
	"net/http"
	"strings"
)

// fields are RFC 9110 §7.6.1's connection-specific fields, the obsolete ones proxies still meet
// (Keep-Alive, Proxy-Connection), and the proxy authentication fields, which concern the hop
// between a client and its proxy and which a shared cache must not store (RFC 9111 §3.1).
var fields = map[string]bool{
	"Connection":                true,
	"Keep-Alive":                true,
	"Proxy-Connection":          true,
	"Te":                        true,
	"Trailer":                   true,
	"Transfer-Encoding":         true,
	"Upgrade":                   true,
	"Proxy-Authenticate":        true,
	"Proxy-Authentication-Info": true,
	"Proxy-Authorization":       true,
}

// Is reports whether the field with this canonical name (http.CanonicalHeaderKey) is hop-by-hop
// by definition, whatever the message's Connection field says.
func Is(name string) bool { return fields[name] }

// Listed returns the canonical names the Connection field lines of h list: fields that are
// hop-by-hop for this message's connection only (RFC 9110 §7.6.1). nil when there are none.
func Listed(h http.Header) []string {
	var names []string
	for _, line := range h["Connection"] {
		for name := range strings.SplitSeq(line, ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, http.CanonicalHeaderKey(name))
			}
		}
	}
	return names
}
