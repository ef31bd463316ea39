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
	binary     string // the imprpc command
	tmpDir     string
	endpoints  = map[kind]map[conn.Format]*endpoint{}
	standInWhy string // why the stand-in cannot run, "" when it can
	liveWhy    string // why imprpc_server.pl cannot run, "" when it can
	wires      = []conn.Format{conn.Storable, conn.Sereal}
	discard    = slog.New(slog.NewTextHandler(io.Discard, nil))
)

var _ = BeforeSuite(func() {
	var err error
	// UNIX socket paths are short: sun_path holds about 100 bytes.
	tmpDir, err = os.MkdirTemp("", "imprpc-checker")
	Expect(err).NotTo(HaveOccurred())
	binary, err = harness.BuildImprpc(tmpDir)
	Expect(err).NotTo(HaveOccurred())

	for _, w := range wires {
		add(goPattern, w, startGoServer("pattern=string=secret&action=replace&actdata=XXXXXX", w))
		add(goDecline, w, startGoServer("testing:decline", w))
		add(servePattern, w, startServe("pattern=string=secret&action=deny&actdata=denied", w))
		add(serveDecline, w, startServe("testing:decline", w))
	}
	startBroken()

	if ok, why := perlproc.HaveModule(standin.Modules...); !ok {
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
	Eventually(func() []string {
		return harness.Goroutines("github.com/goimp/imprpc/conformance/check")
	}, 10*time.Second, 20*time.Millisecond).Should(BeEmpty())
})

// add records e as the server of k on w.
func add(k kind, w conn.Format, e *endpoint) {
	if endpoints[k] == nil {
		endpoints[k] = map[conn.Format]*endpoint{}
	}
	endpoints[k][w] = e
}

// endpointOf returns the server of k on w, skipping (or failing, for a
// required live tier) with the reason when it cannot run here.
func endpointOf(k kind, w conn.Format) *endpoint {
	GinkgoHelper()
	switch k {
	case perlPattern:
		live.Need("the live tier needs Net::IMP, Net::IMP::Remote and AnyEvent (see README)", liveWhy)
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	Expect(harness.WaitListening(ctx, "unix", sock)).To(Succeed())
	return &endpoint{addr: sock, stop: func() { stopProcess(cmd) }}
}

// stopProcess ends a server process of the suite.
func stopProcess(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// startStandIn runs perl-fixtures/rpc-server.pl with spec.
func startStandIn(spec string, w conn.Format) *endpoint {
	p, addr, err := standin.Start(context.Background(), spec, w, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	return &endpoint{addr: addr, stop: func() { p.Close() }}
}

// findLive returns why the real imprpc_server.pl cannot run, or "".
func findLive() string {
	_, why := live.HaveServer("Net::IMP", "Net::IMP::Remote", "Net::IMP::Pattern", "AnyEvent", "Sereal::Encoder")
	return why
}

// startPerlServer runs the real imprpc_server.pl with spec on loopback
// TCP.
func startPerlServer(spec string, w conn.Format) *endpoint {
	s, err := live.StartServer(live.ServerOptions{Specs: []string{spec}, Wire: w, Stderr: GinkgoWriter, StartTimeout: 10 * time.Second})
	Expect(err).NotTo(HaveOccurred())
	return &endpoint{addr: s.Addr(), stop: s.Stop}
}
