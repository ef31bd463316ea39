// Package client_test checks the Go IMP RPC client (package client) and
// the commands built on it (imprpc analyze, probe, bench) against real
// servers: the Go server (package server, in-process and as an "imprpc
// serve" process), the Perl stand-in perl-fixtures/rpc-server.pl (Perl's
// own Storable and Sereal, imprpc_server.pl's behaviour, no Net::IMP
// needed), and, in the live tier, Perl's real imprpc_server.pl with
// Net::IMP::Pattern and the Perl test plugins, and the real
// Net::IMP::Remote client for what it gives when the server is away.
//
// The servers are started once, in BeforeSuite, and stopped in
// AfterSuite. The live tier skips with its reason when Net::IMP::Remote
// cannot be loaded, unless IMPRPC_REQUIRE_LIVE=1 (CI), which makes it
// fail instead.
package client_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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

func TestClient(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "IMP RPC client against Go and Perl servers")
}

// The roles a server of the suite plays: the plugin it serves.
const (
	roleEvery   = "every"   // every result type, driven by the data
	rolePattern = "pattern" // a pattern plugin
	roleDecline = "decline" // declines every analyzer
)

// kind is the implementation behind a target.
type kind string

const (
	goServer   kind = "Go server"
	standIn    kind = "Perl stand-in"
	perlServer kind = "imprpc_server.pl"
)

// target is a server of one kind on one wire, with a process or
// in-process server per role.
type target struct {
	kind  kind
	wire  conn.Format
	roles map[string]*endpoint
}

func (t *target) String() string { return fmt.Sprintf("%s (%s)", t.kind, t.wire) }

// endpoint is one running server.
type endpoint struct {
	addr string
	spec string // the plugin spec (-M), which "imprpc analyze -M" runs in-process too
	// drop breaks every client connection, as a server that dies does;
	// the server is there again when it returns.
	drop func()
	stop func()
	// proc is the stand-in's control channel.
	proc *perlproc.Proc
}

var (
	binary     string // the imprpc command, built once
	tmpDir     string
	targets    []*target
	liveReason string // why the live tier cannot run, "" when it can
	// requireLive makes a missing live tier fail (CI: IMPRPC_REQUIRE_LIVE=1).
	requireLive = os.Getenv("IMPRPC_REQUIRE_LIVE") == "1"
	standInWhy  string // why the stand-in cannot run, "" when it can
	remoteProc  *perlproc.Proc
	remoteWhy   string
)

var wires = []conn.Format{conn.Storable, conn.Sereal}

// Plugin specs of each kind for the roles; the Perl class names work in
// Go too (aliases), so "imprpc analyze -M SPEC" runs the Go twin.
var specs = map[kind]map[string]string{
	goServer: {
		roleEvery:   "testing:every_result",
		rolePattern: "pattern=string=secret&action=replace&actdata=XXXXXX",
		roleDecline: "testing:decline",
	},
	standIn: {
		roleEvery:   "script",
		rolePattern: "pattern=string=secret&action=deny&actdata=denied",
		roleDecline: "decline",
	},
	perlServer: {
		roleEvery:   "ImpFixture::Plugin::EveryResult",
		rolePattern: "Net::IMP::Pattern=rx=secret&rxlen=6&action=replace&actdata=XXXXXX",
		roleDecline: "ImpFixture::Plugin::Decline",
	},
}

var _ = BeforeSuite(func() {
	var err error
	tmpDir, err = os.MkdirTemp("", "imprpc-client-suite")
	Expect(err).NotTo(HaveOccurred())
	root, err := perlproc.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	binary = filepath.Join(tmpDir, "imprpc")
	build := exec.Command("go", "build", "-o", binary, "./cmd/imprpc")
	build.Dir = root
	out, err := build.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "go build: %s", out)

	for _, w := range wires {
		t := &target{kind: goServer, wire: w, roles: map[string]*endpoint{}}
		for role, spec := range specs[goServer] {
			t.roles[role] = startGoServer(spec, w)
		}
		targets = append(targets, t)
	}

	if ok, why := perlproc.HaveModule("Storable", "Sereal::Encoder", "Sereal::Decoder", "JSON::PP"); !ok {
		standInWhy = why
	} else {
		for _, w := range wires {
			t := &target{kind: standIn, wire: w, roles: map[string]*endpoint{}}
			for role, spec := range specs[standIn] {
				t.roles[role] = startStandIn(spec, w)
			}
			targets = append(targets, t)
		}
	}

	liveReason = findLive()
	if liveReason == "" {
		for _, w := range wires {
			t := &target{kind: perlServer, wire: w, roles: map[string]*endpoint{}}
			for role, spec := range specs[perlServer] {
				t.roles[role] = startPerlServer(spec, w)
			}
			targets = append(targets, t)
		}
		remoteProc, err = perlproc.Start("rpc-client.pl", perlproc.Options{Stderr: GinkgoWriter})
		if err != nil {
			remoteWhy = err.Error()
		}
	}
})

var _ = AfterSuite(func() {
	for _, t := range targets {
		for _, e := range t.roles {
			e.stop()
		}
	}
	if remoteProc != nil {
		remoteProc.Close()
	}
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
})

// startGoServer serves spec with package server on loopback TCP.
func startGoServer(spec string, w conn.Format) *endpoint {
	f, err := server.OpenPlugins(spec)
	Expect(err).NotTo(HaveOccurred())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	e := &endpoint{addr: l.Addr().String(), spec: spec}
	var srv *server.Server
	start := func(l net.Listener) {
		srv = &server.Server{Factory: f, Wire: conn.Options{Format: w}, Logger: discard}
		go srv.Serve(l)
	}
	start(l)
	e.stop = func() { srv.Close() }
	e.drop = func() {
		srv.Close()
		var l net.Listener
		Eventually(func() error {
			var err error
			l, err = net.Listen("tcp", e.addr)
			return err
		}).Should(Succeed())
		start(l)
	}
	return e
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
	return &endpoint{
		addr: r.Addrs[0], spec: spec, proc: p,
		drop: func() { Expect(p.Call(context.Background(), map[string]any{"op": "drop"}, nil)).To(Succeed()) },
		stop: func() { p.Close() },
	}
}

// perlImpl names a wire as imprpc_server.pl's -I wants it.
func perlImpl(w conn.Format) string {
	if w == conn.Sereal {
		return "Sereal"
	}
	return "Storable"
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
// in the bin/ beside the lib/ Net::IMP::Remote was loaded from (a
// checkout).
func serverScript() string {
	if p, err := exec.LookPath("imprpc_server.pl"); err == nil {
		return p
	}
	root, _ := perlproc.RepoRoot()
	cmd := exec.Command("perl", "-MNet::IMP::Remote", "-e", `print $INC{"Net/IMP/Remote.pm"}`)
	cmd.Env = append(os.Environ(), "PERL5LIB="+filepath.Join(root, perlproc.FixturesDir, "lib")+":"+os.Getenv("PERL5LIB"))
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
// TCP, on a port that was free a moment before (it prints no port); drop
// restarts it. (Over a UNIX socket the kernel counts each of its small
// writes with its overhead, and its send buffer holds only a few hundred
// results a client has not read: see docs/conformance.md.)
func startPerlServer(spec string, w conn.Format) *endpoint {
	root, err := perlproc.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()
	l.Close()
	e := &endpoint{addr: addr, spec: spec}
	var cmd *exec.Cmd
	start := func() {
		cmd = exec.Command("perl", serverScript(), "-M", spec, "-I", perlImpl(w), addr)
		cmd.Env = append(os.Environ(), "PERL5LIB="+filepath.Join(root, perlproc.FixturesDir, "lib")+":"+os.Getenv("PERL5LIB"))
		cmd.Stderr = GinkgoWriter
		Expect(cmd.Start()).To(Succeed())
		Eventually(func() error {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
			}
			return err
		}, 10*time.Second, 10*time.Millisecond).Should(Succeed())
	}
	start()
	e.stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	e.drop = func() {
		e.stop()
		start()
	}
	return e
}

// needLive skips a spec of the live tier with the reason, or fails it
// when the live tier is required.
func needLive() {
	if liveReason == "" {
		return
	}
	msg := "the live tier needs Net::IMP and Net::IMP::Remote (see README): " + liveReason
	if requireLive {
		Fail(msg + " (IMPRPC_REQUIRE_LIVE=1)")
	}
	Skip(msg)
}

// targetsOf returns the targets of a kind; specs of the live tier and of
// the stand-in skip (or fail) with their reasons when those are missing.
func targetsOf(k kind) []*target {
	switch k {
	case perlServer:
		needLive()
	case standIn:
		if standInWhy != "" {
			Skip("the Perl stand-in needs Perl with Storable, Sereal and JSON::PP: " + standInWhy)
		}
	}
	var ts []*target
	for _, t := range targets {
		if t.kind == k {
			ts = append(ts, t)
		}
	}
	return ts
}

// discard is the logger of the in-process servers.
var discard = slog.New(slog.DiscardHandler)

// testCtx is the bound of one spec's waits.
func testCtx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	DeferCleanup(cancel)
	return ctx
}

// trimLines splits output into lines.
func trimLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
