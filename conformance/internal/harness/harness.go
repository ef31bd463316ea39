// Package harness holds the small pieces the conformance suites share
// that have nothing to do with Perl: building the imprpc command once,
// finding goroutines a suite leaked, and loopback addresses and
// listeners.
//
// Its functions return errors instead of asserting, so that each suite
// states its own expectations (Expect(err).NotTo(HaveOccurred())).
package harness

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/goimp/imprpc/conformance/internal/perlproc"
)

// BuildImprpc builds the imprpc command (./cmd/imprpc of the repository)
// into dir and returns the path of the binary. A suite calls it once, in
// BeforeSuite, with a directory it removes in AfterSuite.
func BuildImprpc(dir string) (string, error) {
	root, err := perlproc.RepoRoot()
	if err != nil {
		return "", err
	}
	binary := filepath.Join(dir, "imprpc")
	build := exec.Command("go", "build", "-o", binary, "./cmd/imprpc")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("harness: go build ./cmd/imprpc: %w\n%s", err, out)
	}
	return binary, nil
}

// Goroutines returns the stacks of the goroutines of this process that
// run code of any of the packages pkgs, given by import path
// ("github.com/goimp/imprpc/server"). A suite checks in AfterSuite, with
// Eventually, that none is left once everything it started is closed.
func Goroutines(pkgs ...string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, pkg := range pkgs {
			// A frame names its function as path.Func or
			// path.(*Type).Method.
			if strings.Contains(g, pkg+".") {
				found = append(found, g)
				break
			}
		}
	}
	return found
}

// FreeAddr returns a loopback TCP address ("127.0.0.1:port") whose port
// was free a moment ago, for a server that takes a fixed address and
// does not say which port it got (imprpc_server.pl, imp-relay.pl).
// Another process may take the port in between; that is rare enough for
// tests.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("harness: finding a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("harness: finding a free port: %w", err)
	}
	return addr, nil
}

// pollInterval is how often WaitListening tries to connect.
const pollInterval = 10 * time.Millisecond

// WaitListening waits until a connection to addr on network ("tcp",
// "unix") succeeds, trying every 10ms, and closes that connection. It
// returns the last dial error, wrapped, when ctx ends first.
func WaitListening(ctx context.Context, network, addr string) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, network, addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("harness: nothing listens on %s %s: %w (%v)", network, addr, err, context.Cause(ctx))
		case <-tick.C:
		}
	}
}
