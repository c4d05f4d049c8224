// Package metertest holds the oracle of the meter's tests: a listener that counts every byte crossing
// the sockets below the meter, so "the meter counts exactly the bytes written to and read from the
// socket" can be checked against the socket itself.
package metertest

import (
	"net"
	"sync/atomic"
)

// TapListener counts the bytes read from and written to every connection it accepts.
type TapListener struct {
	net.Listener
	Read, Written atomic.Int64
}

// Accept wraps the accepted connection so that its traffic is counted.
func (l *TapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tapConn{Conn: c, l: l}, nil
}

type tapConn struct {
	net.Conn
	l *TapListener
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.Read.Add(int64(n))
	return n, err
}

func (c *tapConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.l.Written.Add(int64(n))
	return n, err
}

// Unwrap gives the tests that need the socket itself (to reset it) the connection below the tap.
func (c *tapConn) Unwrap() net.Conn { return c.Conn }

// Counting wraps c so that the bytes read from and written to it are added to read and written: for
// connections a test or a load generator dials itself, where TapListener cannot see them.
func Counting(c net.Conn, read, written *atomic.Int64) net.Conn {
	return &countingConn{Conn: c, read: read, written: written}
}

type countingConn struct {
	net.Conn
	read, written *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}
