package harness

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// parked blocks until release is closed: a goroutine of this package
// for Goroutines to find.
func parked(release chan struct{}, started chan struct{}) {
	close(started)
	<-release
}

func TestGoroutines(t *testing.T) {
	const pkg = "github.com/goimp/imprpc/conformance/internal/harness"
	release, started := make(chan struct{}), make(chan struct{})
	go parked(release, started)
	<-started
	found := Goroutines("github.com/goimp/imprpc/no/such/package", pkg)
	n := 0
	for _, g := range found {
		if strings.Contains(g, pkg+".parked") {
			n++
		}
	}
	close(release)
	if n != 1 {
		t.Fatalf("found %d goroutines in parked, want 1:\n%s", n, strings.Join(found, "\n\n"))
	}
	if g := Goroutines("github.com/goimp/imprpc/no/such/package"); len(g) != 0 {
		t.Fatalf("goroutines of a package that does not exist:\n%s", strings.Join(g, "\n\n"))
	}
	// A package path matches whole: ".../harn" is not ".../harness".
	if g := Goroutines(pkg[:len(pkg)-3]); len(g) != 0 {
		t.Fatalf("a prefix of the package path matches:\n%s", strings.Join(g, "\n\n"))
	}
}

func TestFreeAddrAndWaitListening(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || host != "127.0.0.1" {
		t.Fatalf("FreeAddr() = %q, want a loopback address", addr)
	}
	// Nothing listens: WaitListening gives up when ctx ends.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := WaitListening(ctx, "tcp", addr); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("WaitListening with nobody listening: %v", err)
	}
	// Something listens: WaitListening returns nil.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the free port was taken in between: %v", err)
	}
	defer l.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := WaitListening(ctx, "tcp", addr); err != nil {
		t.Fatal(err)
	}
}

func TestWaitListeningUnix(t *testing.T) {
	dir, err := os.MkdirTemp("", "harness")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := WaitListening(ctx, "unix", sock); err != nil {
		t.Fatal(err)
	}
}

func TestBuildImprpc(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the imprpc command; skipped with -short")
	}
	bin, err := BuildImprpc(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("BuildImprpc gave %s: %v", bin, err)
	}
}
