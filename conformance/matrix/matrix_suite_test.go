// Package matrix_test is the interop matrix of IMP RPC: every pair of a
// client, the Go client (package client) or Perl's Net::IMP::Remote, and a
// server, the Go server (package server) or Perl's imprpc_server.pl, on
// both wires (Storable and Sereal), runs the same table of scenarios. The
// results each cell delivers to the data provider are compared with the
// plugin run in-process, in Go (plugin/pattern, plugin/cascade,
// plugin/testplugin) and in Perl (Net::IMP::Pattern, Net::IMP::Cascade,
// the ImpFixture test plugins, run by perl-fixtures/matrix-inproc.pl), so
// every cell gives what every other gives; for the Perl client, what it
// prints on stderr is compared too. Where Perl loses data or hangs (an
// unknown data type, a lost connection), each side is held to its
// documented behaviour instead. A scenario a cell cannot produce skips
// with the reason.
//
// Every cell with Perl in it is in the live tier (Label("live")): it
// needs Net::IMP, Net::IMP::Remote and AnyEvent on PERL5LIB, and skips
// saying why when they do not load, or fails with IMPRPC_REQUIRE_LIVE=1.
// The servers and the Perl processes are started once, in BeforeSuite.
package matrix_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/internal/harness"
	"github.com/goimp/imprpc/conformance/internal/live"
	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conn"
	_ "github.com/goimp/imprpc/plugin/all"
	_ "github.com/goimp/imprpc/plugin/testplugin"
	"github.com/goimp/imprpc/server"
)

func TestMatrix(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "IMP RPC interop matrix: Go and Perl clients x Go and Perl servers x Storable and Sereal")
}

// side is the implementation of a client or a server.
type side string

const (
	goSide   side = "Go"
	perlSide side = "Perl"
)

// The roles a server plays: the plugin it serves. The specs are the
// same for both servers (the Go server knows the Perl class names), and
// are what the plugins run in-process with.
const (
	rolePattern = "pattern" // Net::IMP::Pattern replacing "secret"
	roleCascade = "cascade" // a Net::IMP::Cascade of two patterns
	roleEvery   = "every"   // every result type, driven by the data
	roleDecline = "decline" // declines every analyzer
	roleEcho    = "echo"    // echoes its context as acctfield results
	roleDrop    = "drop"    // pattern, on a server that goes away
	rolePackets = "packets" // every result, its interface for packets only
	roleSplit   = "split"   // every result, on a server restarted after use
)

const (
	replaceSecret = "Net::IMP::Pattern=rx=secret&rxlen=6&action=replace&actdata=XXXXXX"
	denyEvil      = "Net::IMP::Pattern=rx=evil&rxlen=4&action=deny&actdata=evil found"
)

var roleSpecs = map[string][]string{
	rolePattern: {replaceSecret},
	roleCascade: {replaceSecret, denyEvil},
	roleEvery:   {"ImpFixture::Plugin::EveryResult"},
	roleDecline: {"ImpFixture::Plugin::Decline"},
	roleEcho:    {"ImpFixture::Plugin::EchoContext"},
	roleDrop:    {replaceSecret},
	rolePackets: {"ImpFixture::Plugin::EveryResult=dtype=1"},
	roleSplit:   {"ImpFixture::Plugin::EveryResult"},
}

var wires = []conn.Format{conn.Storable, conn.Sereal}

// endpoint is one running server.
type endpoint struct {
	addr string
	// drop makes the server go away: its connections break and nobody
	// listens until restart.
	drop    func()
	restart func()
	stop    func()
	// stderr keeps what a Perl server printed (nil for Go's).
	stderr *logBuffer
}

// logBuffer keeps the tail of a process's stderr and copies it to
// GinkgoWriter. (A Perl server whose reads die loops on the dead read
// and prints millions of lines: both are bounded.)
type logBuffer struct {
	mu      sync.Mutex
	buf     []byte
	dropped int // bytes dropped from the front of buf
	copied  int // bytes copied to GinkgoWriter
}

const (
	logKeep = 1 << 20 // bytes of stderr kept
	logCopy = 1 << 20 // bytes copied to GinkgoWriter
)

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	if over := len(l.buf) - logKeep; over > 0 {
		l.buf = append(l.buf[:0], l.buf[over:]...)
		l.dropped += over
	}
	if l.copied < logCopy {
		l.copied += len(b)
		GinkgoWriter.Write(b)
	}
	return len(b), nil
}

// mark returns the position of the end of what was written so far.
func (l *logBuffer) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped + len(l.buf)
}

// since returns a function for Eventually: what was written after m
// (as far as it is kept).
func (l *logBuffer) since(m int) func() string {
	return func() string {
		l.mu.Lock()
		defer l.mu.Unlock()
		return string(l.buf[max(0, m-l.dropped):])
	}
}

// serverKey names a server of the suite.
type serverKey struct {
	kind side
	wire conn.Format
	role string
}

var (
	tmpDir    string
	endpoints = map[serverKey]*endpoint{}
	// liveWhy is why the live tier cannot run, "" when it can.
	liveWhy    string
	perlClient *perlproc.Proc // rpc-client.pl: Net::IMP::Remote and a raw client
	perlInproc *perlproc.Proc // matrix-inproc.pl: plugins in-process
)

var _ = BeforeSuite(func() {
	var err error
	tmpDir, err = os.MkdirTemp("", "imprpc-matrix")
	Expect(err).NotTo(HaveOccurred())
	for _, w := range wires {
		for role, specs := range roleSpecs {
			endpoints[serverKey{goSide, w, role}] = startGoServer(specs, w)
		}
	}
	liveWhy = findLive()
	if liveWhy != "" {
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, w := range wires {
		for role, specs := range roleSpecs {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				e := startPerlServer(specs, w)
				mu.Lock()
				endpoints[serverKey{perlSide, w, role}] = e
				mu.Unlock()
			}()
		}
	}
	perlClient, err = perlproc.Start("rpc-client.pl", perlproc.Options{Stderr: GinkgoWriter})
	Expect(err).NotTo(HaveOccurred())
	perlInproc, err = perlproc.Start("matrix-inproc.pl", perlproc.Options{Stderr: GinkgoWriter})
	Expect(err).NotTo(HaveOccurred())
	var have struct {
		OK  int    `json:"ok"`
		Why string `json:"why"`
	}
	Expect(perlInproc.Call(context.Background(), map[string]any{"op": "have"}, &have)).To(Succeed())
	Expect(have.OK).To(Equal(1), "Net::IMP in-process: %s", have.Why)
	var remote struct {
		Remote int    `json:"remote"`
		Why    string `json:"why"`
	}
	Expect(perlClient.Call(context.Background(), map[string]any{"op": "have"}, &remote)).To(Succeed())
	Expect(remote.Remote).To(Equal(1), "Net::IMP::Remote in rpc-client.pl: %s", remote.Why)
	wg.Wait()
})

var _ = AfterSuite(func() {
	for _, e := range endpoints {
		e.stop()
	}
	for _, p := range []*perlproc.Proc{perlClient, perlInproc} {
		if p != nil {
			Expect(p.Close()).To(Succeed())
		}
	}
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	// No goroutine of a server, client or connection outlives them.
	Eventually(func() []string {
		return harness.Goroutines("github.com/goimp/imprpc/server", "github.com/goimp/imprpc/client", "github.com/goimp/imprpc/conn")
	}, 10*time.Second, 20*time.Millisecond).Should(BeEmpty())
})

// findLive returns why the live tier cannot run, or "".
func findLive() string {
	_, why := live.HaveServer("Net::IMP", "Net::IMP::Remote", "Net::IMP::Pattern", "Net::IMP::Cascade",
		"AnyEvent", "Storable", "Sereal::Encoder", "Sereal::Decoder", "JSON::PP")
	return why
}

// needLive skips a spec of the live tier with the reason, or fails it
// when the live tier is required.
func needLive() {
	live.Need("the live tier needs Net::IMP, Net::IMP::Remote and AnyEvent on PERL5LIB", liveWhy)
}

// discard is the logger of the in-process servers and clients.
var discard = slog.New(slog.DiscardHandler)

// startGoServer serves specs with package server on loopback TCP.
func startGoServer(specs []string, w conn.Format) *endpoint {
	f, err := server.OpenPlugins(specs...)
	Expect(err).NotTo(HaveOccurred())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	e := &endpoint{addr: l.Addr().String()}
	var (
		mu   sync.Mutex
		srv  *server.Server
		done chan error
	)
	serve := func(l net.Listener) {
		mu.Lock()
		defer mu.Unlock()
		srv = &server.Server{Factory: f, Wire: conn.Options{Format: w}, Logger: discard}
		done = make(chan error, 1)
		go func() { done <- srv.Serve(l) }()
	}
	serve(l)
	e.drop = func() {
		mu.Lock()
		defer mu.Unlock()
		if srv != nil {
			srv.Close()
			Eventually(done, 10*time.Second).Should(Receive(MatchError(server.ErrServerClosed)))
			srv = nil
		}
	}
	e.restart = func() {
		var l net.Listener
		Eventually(func() error {
			var err error
			l, err = net.Listen("tcp", e.addr)
			return err
		}, 10*time.Second, 10*time.Millisecond).Should(Succeed())
		serve(l)
	}
	e.stop = e.drop
	return e
}

// startPerlServer runs the real imprpc_server.pl with specs (several make
// a Net::IMP::Cascade) on loopback TCP.
func startPerlServer(specs []string, w conn.Format) *endpoint {
	e := &endpoint{stderr: &logBuffer{}}
	s, err := live.StartServer(live.ServerOptions{Specs: specs, Wire: w, Stderr: e.stderr})
	Expect(err).NotTo(HaveOccurred())
	e.addr = s.Addr()
	e.restart = func() { Expect(s.Start()).To(Succeed()) }
	e.drop = s.Stop
	e.stop = s.Stop
	return e
}

// ---- cells ----------------------------------------------------------------

// cell is one pair of a client and a server on one wire.
type cell struct {
	client side
	server side
	wire   conn.Format
}

func (c cell) String() string {
	return fmt.Sprintf("%s client x %s server x %s", c.client, c.server, c.wire)
}

// live reports whether the cell needs the Perl modules.
func (c cell) live() bool { return c.client == perlSide || c.server == perlSide }

// endpoint returns the cell's server of a role.
func (c cell) endpoint(role string) *endpoint {
	GinkgoHelper()
	e := endpoints[serverKey{c.server, c.wire, role}]
	Expect(e).NotTo(BeNil(), "no %s server for %s", role, c)
	return e
}

// cells are all eight cells of the matrix.
func cells() []cell {
	var cs []cell
	for _, cl := range []side{goSide, perlSide} {
		for _, sv := range []side{goSide, perlSide} {
			for _, w := range wires {
				cs = append(cs, cell{cl, sv, w})
			}
		}
	}
	return cs
}

// notApplicable skips a scenario a cell cannot produce, with the reason
// (it appears in the suite's report as a skipped spec).
func notApplicable(why string) {
	Skip("N/A: " + why)
}

// testCtx bounds one spec's waits.
func testCtx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	DeferCleanup(cancel)
	return ctx
}
