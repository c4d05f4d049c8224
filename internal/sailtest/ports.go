package sailtest

import (
	"net"
	"testing"
)

// FreeAddrs returns n distinct loopback addresses (127.0.0.1:port) that were free a moment ago, for
// servers a test starts with fixed ports (child processes, a PostgreSQL cluster, a node whose unused
// ports a test checks). Another process can take one before the test binds it: callers that start
// a server on one retry on a failed start.
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	addrs := make([]string, 0, n)
	for range n {
		// Held open until all are chosen, so that the n ports differ.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}
