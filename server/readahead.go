package server

import (
	"bufio"
	"net"
)

// readAheadSize is how much a connection reads from the network at once.
const readAheadSize = 256 << 10

// readAhead is a network connection whose reads go through a buffer
// larger than conn.Reader's own, so that frames of some KiB take a
// fraction of a system call each rather than one or two (conn.Reader
// reads a frame of 16 KiB or more into memory of its own, and reads the
// rest of it, then the next header, with calls of their own).
type readAhead struct {
	net.Conn
	r *bufio.Reader
}

func newReadAhead(nc net.Conn) *readAhead {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return &readAhead{Conn: nc, r: bufio.NewReaderSize(nc, readAheadSize)}
}

// Read reads from the buffer, refilled with one read of the network.
func (c *readAhead) Read(p []byte) (int, error) { return c.r.Read(p) }
