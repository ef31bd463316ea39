// Package checker_test runs the conformance checker (package
// conformance/check, and the "imprpc conformance" command built once for
// the suite) against servers that conform, on both wires: the Go server
// in-process and as "imprpc serve" processes (pattern plugin, and
// testing:decline), the Perl stand-in perl-fixtures/rpc-server.pl, and in
// the live tier (Label("live")) Perl's real imprpc_server.pl with
// Net::IMP::Pattern; every one must pass. Against deliberately broken
// servers it must fail exactly the checks each breaks, naming what was
// expected and what came.
//
// The live tier skips, saying why, when Net::IMP::Remote cannot be loaded
// from PERL5LIB (for the upstream checkouts, PERL5LIB=$(ls -d
// ~/.cache/imprpc/upstream/*/lib | paste -sd:)); with
// IMPRPC_REQUIRE_LIVE=1 a missing live tier fails instead.
package checker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conn"
	_ "github.com/goimp/imprpc/plugin/all"
	_ "github.com/goimp/imprpc/plugin/testplugin"
	"github.com/goimp/imprpc/server"
)

func TestChecker(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "imprpc conformance: the checker against conforming and broken servers")
}

// kind is a server implementation with a plugin.
type kind string

const (
	goPattern    kind = "Go server in-process, pattern"
	goDecline    kind = "Go server in-process, testing:decline"
	servePattern kind = "imprpc serve on a UNIX socket, pattern"
	serveDecline kind = "imprpc serve on a UNIX socket, testing:decline"
	standPattern kind = "Perl stand-in rpc-server.pl, pattern"
	standDecline kind = "Perl stand-in rpc-server.pl, decline"
	perlPattern  kind = "imprpc_server.pl, Net::IMP::Pattern"
)

// endpoint is a running server on one wire.
type endpoint struct {
	addr string
	stop func()
}

var (
	binary      string // the imprpc command
	tmpDir      string
	endpoints   = map[kind]map[conn.Format]*endpoint{}
	standInWhy  string // why the stand-in cannot run, "" when it can
	liveWhy     string // why imprpc_server.pl cannot run, "" when it can
	requireLive = os.Getenv("IMPRPC_REQUIRE_LIVE") == "1"
	wires       = []conn.Format{conn.Storable, conn.Sereal}
	discard     = slog.New(slog.NewTextHandler(io.Discard, nil))
)

var _ = BeforeSuite(func() {
	var err error
	// UNIX socket paths are short: sun_path holds about 100 bytes.
	tmpDir, err = os.MkdirTemp("", "imprpc-checker")
	Expect(err).NotTo(HaveOccurred())
	root, err := perlproc.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	binary = filepath.Join(tmpDir, "imprpc")
	build := exec.Command("go", "build", "-o", binary, "./cmd/imprpc")
	build.Dir = root
	out, err := build.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "go build: %s", out)

	for _, w := range wires {
		add(goPattern, w, startGoServer("pattern=string=secret&action=replace&actdata=XXXXXX", w))
		add(goDecline, w, startGoServer("testing:decline", w))
		add(servePattern, w, startServe("pattern=string=secret&action=deny&actdata=denied", w))
		add(serveDecline, w, startServe("testing:decline", w))
	}
	startBroken()

	if ok, why := perlproc.HaveModule("Storable", "Sereal::Encoder", "Sereal::Decoder", "JSON::PP"); !ok {
		standInWhy = why
	} else {
		for _, w := range wires {
			add(standPattern, w, startStandIn("pattern=string=secret&action=deny&actdata=denied", w))
			add(standDecline, w, startStandIn("decline", w))
		}
	}

	liveWhy = findLive()
	if liveWhy == "" {
		for _, w := range wires {
			add(perlPattern, w, startPerlServer("Net::IMP::Pattern=rx=secret&rxlen=6&action=replace&actdata=XXXXXX", w))
		}
	}
})

var _ = AfterSuite(func() {
	for _, byWire := range endpoints {
		for _, e := range byWire {
			if e != nil {
				e.stop()
			}
		}
	}
	stopBroken()
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	// Every connection of the checker is closed when Run returns.
	Eventually(checkerGoroutines, 10*time.Second, 20*time.Millisecond).Should(BeEmpty())
})

// add records e as the server of k on w.
func add(k kind, w conn.Format, e *endpoint) {
	if endpoints[k] == nil {
		endpoints[k] = map[conn.Format]*endpoint{}
	}
	endpoints[k][w] = e
}

// checkerGoroutines returns the stacks of goroutines running code of the
// check package.
func checkerGoroutines() []string {
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
		if strings.Contains(g, "imprpc/conformance/check.") {
			found = append(found, g)
		}
	}
	return found
}

// server returns the server of k on w, skipping (or failing, for a
// required live tier) with the reason when it cannot run here.
func endpointOf(k kind, w conn.Format) *endpoint {
	GinkgoHelper()
	switch k {
	case perlPattern:
		if liveWhy != "" {
			msg := "the live tier needs Net::IMP, Net::IMP::Remote and AnyEvent (see README): " + liveWhy
			if requireLive {
				Fail(msg + " (IMPRPC_REQUIRE_LIVE=1)")
			}
			Skip(msg)
		}
	case standPattern, standDecline:
		if standInWhy != "" {
			Skip("the Perl stand-in needs Perl with Storable, Sereal and JSON::PP: " + standInWhy)
		}
	}
	return endpoints[k][w]
}

// startGoServer serves spec with package server on loopback TCP.
func startGoServer(spec string, w conn.Format) *endpoint {
	f, err := server.OpenPlugins(spec)
	Expect(err).NotTo(HaveOccurred())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	srv := &server.Server{Factory: f, Wire: conn.Options{Format: w}, Logger: discard}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	return &endpoint{addr: l.Addr().String(), stop: func() {
		srv.Close()
		Eventually(done, 10*time.Second).Should(Receive(MatchError(server.ErrServerClosed)))
	}}
}

// serveSeq numbers the sockets of startServe.
var serveSeq int

// startServe runs "imprpc serve -M spec -I w" on a UNIX socket.
func startServe(spec string, w conn.Format) *endpoint {
	serveSeq++
	sock := filepath.Join(tmpDir, fmt.Sprintf("serve%d.sock", serveSeq))
	cmd := exec.Command(binary, "serve", "-M", spec, "-I", w.String(), sock)
	cmd.Stderr = GinkgoWriter
	Expect(cmd.Start()).To(Succeed())
	waitListening("unix", sock)
	return &endpoint{addr: sock, stop: func() { stopProcess(cmd) }}
}

// stopProcess ends a server process of the suite.
func stopProcess(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// waitListening waits until addr takes connections.
func waitListening(network, addr string) {
	GinkgoHelper()
	Eventually(func() error {
		c, err := net.Dial(network, addr)
		if err == nil {
			c.Close()
		}
		return err
	}, 10*time.Second, 10*time.Millisecond).Should(Succeed())
}

// perlImpl names a wire as imprpc_server.pl's -I wants it.
func perlImpl(w conn.Format) string {
	if w == conn.Sereal {
		return "Sereal"
	}
	return "Storable"
}

// startStandIn runs perl-fixtures/rpc-server.pl with spec.
func startStandIn(spec string, w conn.Format) *endpoint {
	p, err := perlproc.Start("rpc-server.pl", perlproc.Options{
		Args:   []string{"-M", spec, "-I", perlImpl(w), "127.0.0.1:0"},
		Stderr: GinkgoWriter,
	})
	Expect(err).NotTo(HaveOccurred())
	var r struct{ Addrs []string }
	Expect(p.Call(context.Background(), map[string]any{"op": "addrs"}, &r)).To(Succeed())
	Expect(r.Addrs).NotTo(BeEmpty())
	return &endpoint{addr: r.Addrs[0], stop: func() { p.Close() }}
}

// perlLib is PERL5LIB for imprpc_server.pl: perl-fixtures/lib, then the
// environment's PERL5LIB.
func perlLib() string {
	root, _ := perlproc.RepoRoot()
	return filepath.Join(root, perlproc.FixturesDir, "lib") + ":" + os.Getenv("PERL5LIB")
}

// findLive returns why the real imprpc_server.pl cannot run, or "".
func findLive() string {
	if ok, why := perlproc.HaveModule("Net::IMP", "Net::IMP::Remote", "Net::IMP::Pattern", "AnyEvent", "Sereal::Encoder"); !ok {
		return why
	}
	if serverScript() == "" {
		return "imprpc_server.pl is neither on PATH nor beside Net::IMP::Remote's lib/"
	}
	return ""
}

// serverScript finds imprpc_server.pl: on PATH (installed from CPAN) or
// in the bin/ beside the lib/ Net::IMP::Remote is loaded from.
func serverScript() string {
	if p, err := exec.LookPath("imprpc_server.pl"); err == nil {
		return p
	}
	cmd := exec.Command("perl", "-MNet::IMP::Remote", "-e", `print $INC{"Net/IMP/Remote.pm"}`)
	cmd.Env = append(os.Environ(), "PERL5LIB="+perlLib())
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(string(out)), "..", "..", "..", "bin", "imprpc_server.pl")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// startPerlServer runs the real imprpc_server.pl with spec on loopback
// TCP, on a port that was free a moment before (it prints no port).
func startPerlServer(spec string, w conn.Format) *endpoint {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command("perl", serverScript(), "-M", spec, "-I", perlImpl(w), addr)
	cmd.Env = append(os.Environ(), "PERL5LIB="+perlLib())
	cmd.Stderr = GinkgoWriter
	Expect(cmd.Start()).To(Succeed())
	waitListening("tcp", addr)
	return &endpoint{addr: addr, stop: func() { stopProcess(cmd) }}
}
