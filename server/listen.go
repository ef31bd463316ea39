package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// IsUnixAddr reports whether addr names a UNIX socket: as for
// imprpc_server.pl and Net::IMP::Remote, an address containing "/" is a
// path, anything else host:port.
func IsUnixAddr(addr string) bool { return strings.Contains(addr, "/") }

// Listen listens on addr as imprpc_server.pl does: a path containing "/"
// is a UNIX stream socket, anything else a TCP address host:port
// (IPv4, [IPv6]:port, a name, or :port for every address).
//
// A UNIX socket is created with the permission UnixSocketMode (0600 by
// default) before any client can connect to it. A socket file left behind
// by a server that is gone is replaced; a path where a server still
// listens, or that is not a socket, is an error (Perl's server removes
// whatever is there). Closing the listener removes the socket file.
func (s *Server) Listen(addr string) (net.Listener, error) {
	if !IsUnixAddr(addr) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("server: listen on %s: %w", addr, err)
		}
		return l, nil
	}
	mode := s.UnixSocketMode
	if mode == 0 {
		mode = DefaultUnixSocketMode
	}
	return listenUnix(addr, mode)
}

// listenUnix creates the socket in a private directory beside path, sets
// its mode and renames it into place, so that it is never reachable with
// another mode.
func listenUnix(path string, mode os.FileMode) (net.Listener, error) {
	if err := removeStale(path); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".imprpc")
	if err != nil {
		return nil, fmt.Errorf("server: listen on %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	name := filepath.Join(tmp, "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: name, Net: "unix"})
	if err != nil {
		// The private name may be too long for a socket where path is
		// not: bind path itself, and set the mode at once.
		name = path
		if l, err = net.ListenUnix("unix", &net.UnixAddr{Name: name, Net: "unix"}); err != nil {
			return nil, fmt.Errorf("server: listen on %s: %w", path, err)
		}
	}
	l.SetUnlinkOnClose(false)
	if err := os.Chmod(name, mode); err != nil {
		l.Close()
		os.Remove(name)
		return nil, fmt.Errorf("server: listen on %s: %w", path, err)
	}
	if name != path {
		if err := os.Rename(name, path); err != nil {
			l.Close()
			return nil, fmt.Errorf("server: listen on %s: %w", path, err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("server: listen on %s: %w", path, err)
	}
	return &unixListener{UnixListener: l, path: path, fi: fi}, nil
}

// removeStale removes a socket file at path that no server listens on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", path, err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("server: listen on %s: the file exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("server: listen on %s: a server is listening on it", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("server: listen on %s: cannot tell whether the socket is in use: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("server: listen on %s: removing the stale socket: %w", path, err)
	}
	return nil
}

// unixListener removes its socket file when closed, if the file is still
// its own.
type unixListener struct {
	*net.UnixListener
	path string
	fi   os.FileInfo
}

// Addr returns the socket's path (it was bound under another name before
// it was moved into place).
func (l *unixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

// Close closes the listener and removes its socket file.
func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	if fi, serr := os.Stat(l.path); serr == nil && os.SameFile(fi, l.fi) {
		os.Remove(l.path)
	}
	return err
}
