// Package loopback decides whether a host names this machine. Developer mode (--dev) opens the admin
// endpoints and accepts the well-known key test/test, so it may only listen on loopback and only answer
// requests addressed to loopback; both decisions ask Is.
package loopback

import (
	"net"
	"strings"
)

// Is reports whether hostport — a host or host:port, as in a Host header or a listen address — names
// this machine: "localhost", a name under ".localhost" (RFC 6761 §6.3 reserves them for loopback), or
// a loopback IP address (127.0.0.0/8, ::1; IPv6 literals with or without brackets). A trailing dot and
// letter case do not matter. An empty host (":4580", which listens on every interface) is not
// loopback.
//
// A name is judged by its spelling, not resolved: Go's resolver sends *.localhost to DNS, so a
// listener opened on such a name must also be checked by the address it is bound to (Is of
// Listener.Addr().String()).
func Is(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return ip != nil && ip.IsLoopback()
}
