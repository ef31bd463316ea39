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
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/internal/harness"
	"github.com/goimp/imprpc/conformance/internal/live"
	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conformance/internal/standin"
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
	standInWhy string // why the stand-in cannot run, "" when it can
	remoteProc *perlproc.Proc
	remoteWhy  string
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
	binary, err = harness.BuildImprpc(tmpDir)
	Expect(err).NotTo(HaveOccurred())

	for _, w := range wires {
		t := &target{kind: goServer, wire: w, roles: map[string]*endpoint{}}
		for role, spec := range specs[goServer] {
			t.roles[role] = startGoServer(spec, w)
		}
		targets = append(targets, t)
	}

	if ok, why := perlproc.HaveModule(standin.Modules...); !ok {
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
	p, addr, err := standin.Start(context.Background(), spec, w, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	return &endpoint{
		addr: addr, spec: spec, proc: p,
		drop: func() { Expect(p.Call(context.Background(), map[string]any{"op": "drop"}, nil)).To(Succeed()) },
		stop: func() { p.Close() },
	}
}

// findLive returns why the real imprpc_server.pl cannot run, or "".
func findLive() string {
	_, why := live.HaveServer("Net::IMP", "Net::IMP::Remote", "Net::IMP::Pattern", "AnyEvent", "Sereal::Encoder")
	return why
}

// startPerlServer runs the real imprpc_server.pl with spec on loopback
// TCP; drop restarts it. (Over a UNIX socket the kernel counts each of
// its small writes with its overhead, and its send buffer holds only a
// few hundred results a client has not read: see docs/conformance.md.)
func startPerlServer(spec string, w conn.Format) *endpoint {
	s, err := live.StartServer(live.ServerOptions{Specs: []string{spec}, Wire: w, Stderr: GinkgoWriter, StartTimeout: 10 * time.Second})
	Expect(err).NotTo(HaveOccurred())
	return &endpoint{
		addr: s.Addr(), spec: spec,
		stop: s.Stop,
		drop: func() {
			s.Stop()
			Expect(s.Start()).To(Succeed())
		},
	}
}

// needLive skips a spec of the live tier with the reason, or fails it
// when the live tier is required.
func needLive() {
	live.Need("the live tier needs Net::IMP and Net::IMP::Remote (see README)", liveReason)
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
