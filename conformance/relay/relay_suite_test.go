// Package relay_test runs real TCP traffic through Perl's own data
// provider, imp-relay.pl from Net::IMP's bin/, with its traffic inspected
// by our IMP RPC server (package server) through Net::IMP::Remote, on both
// wires:
//
//	Go client --TCP--> imp-relay.pl --TCP--> Go target
//	                        |
//	                        | -M Net::IMP::Remote=addr=...[&impl=Sereal]
//	                        v
//	                 Go IMP server (pattern: replace, reject, deny;
//	                 testing:echo_context, which passes everything)
//
// and checks the bytes that come out at either end. imp-relay.pl handles
// IMP results in ways of its own (see quirks_test.go), so the cases are
// shaped around what it does right: one write per chunk, each chunk
// relayed before the next is written.
//
// The whole suite is the live tier (Label("live")): it needs perl with
// Net::IMP, Net::IMP::Remote and AnyEvent loadable from PERL5LIB (Sereal
// for the Sereal wire), and finds imp-relay.pl in the bin/ directory beside
// the lib/ that Net::IMP was loaded from, or on PATH (where CPAN installs
// it). Without them every spec skips saying why; with
// IMPRPC_REQUIRE_LIVE=1 they fail instead.
package relay_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/goimp/imprpc/conformance/internal/harness"
	"github.com/goimp/imprpc/conformance/internal/live"
	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/server"

	_ "github.com/goimp/imprpc/plugin/pattern"    // registers pattern
	_ "github.com/goimp/imprpc/plugin/testplugin" // registers testing:echo_context
)

func TestRelay(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "imp-relay.pl end to end: Perl data provider, Go IMP server", Label("live"))
}

// plugins are the IMP plugins behind the relay, by the name the specs
// use, as command-line specs of our server.
var plugins = map[string]string{
	"pass":    "testing:echo_context",
	"replace": "pattern=string=secret&action=replace&actdata=CENSORED",
	"reject":  "pattern=string=secret&action=reject&actdata=NO",
	"deny":    "pattern=string=secret&action=deny&actdata=secret found",
}

// wires are the wire formats every case runs on.
var wires = []conn.Format{conn.Storable, conn.Sereal}

var (
	relayScript  string // imp-relay.pl, "" when it cannot run
	liveReason   string // why it cannot run
	serealReason string // why the Sereal wire cannot run, "" when it can

	impServers = map[string]string{} // address of our server by plugin+"/"+wire
	routes     = map[string]*route{} // routes of the shared relay, same keys
	contexts   = &contextLog{byPort: map[int]*imp.Meta{}}
)

var _ = BeforeSuite(func() {
	SetDefaultEventuallyTimeout(15 * time.Second)
	SetDefaultEventuallyPollingInterval(10 * time.Millisecond)

	relayScript, liveReason = findRelay()
	if relayScript == "" {
		return
	}
	if ok, why := perlproc.HaveModule("Sereal::Encoder", "Sereal::Decoder"); !ok {
		serealReason = why
	}
	fmt.Fprintf(GinkgoWriter, "imp-relay.pl: %s\n", relayScript)

	var shared []*route
	for name, spec := range plugins {
		f, err := server.OpenPlugins(spec)
		Expect(err).NotTo(HaveOccurred())
		if name == "pass" {
			f = contexts.recording(f)
		}
		for _, w := range runnableWires() {
			impServers[key(name, w)] = startIMPServer(f, w)
			r := newRoute(name, w)
			routes[key(name, w)] = r
			shared = append(shared, r)
		}
	}
	startRelay(shared...)
})

// key names a plugin on a wire.
func key(plugin string, w conn.Format) string { return plugin + "/" + w.String() }

// runnableWires returns the wires that can run here.
func runnableWires() []conn.Format {
	if serealReason != "" {
		return []conn.Format{conn.Storable}
	}
	return wires
}

// findRelay returns the path of imp-relay.pl, or why it cannot run.
func findRelay() (script, reason string) {
	if ok, why := perlproc.HaveModule("Net::IMP", "Net::IMP::Remote", "AnyEvent"); !ok {
		return "", why
	}
	out, err := exec.Command("perl", "-MNet::IMP", "-e", `print $INC{"Net/IMP.pm"}`).Output()
	if err != nil {
		return "", fmt.Sprintf("cannot locate Net/IMP.pm: %v", err)
	}
	// .../lib/Net/IMP.pm -> .../bin/imp-relay.pl, as in a checkout or
	// an unpacked distribution.
	lib := filepath.Dir(filepath.Dir(string(out)))
	beside := filepath.Join(filepath.Dir(lib), "bin", "imp-relay.pl")
	if _, err := os.Stat(beside); err == nil {
		return beside, ""
	}
	if p, err := exec.LookPath("imp-relay.pl"); err == nil {
		return p, ""
	}
	return "", fmt.Sprintf("imp-relay.pl is neither at %s (beside the Net::IMP loaded from PERL5LIB) nor on PATH", beside)
}

// needRelay skips a spec when imp-relay.pl cannot run (or fails it when
// IMPRPC_REQUIRE_LIVE=1), and when w is a wire that cannot run here.
func needRelay(w conn.Format) {
	why := liveReason
	if relayScript != "" && w == conn.Sereal {
		why = serealReason
	}
	if relayScript != "" && why == "" {
		return
	}
	live.Need("imp-relay.pl needs Net::IMP, Net::IMP::Remote and AnyEvent on PERL5LIB (and Sereal for the Sereal wire) to run on the "+w.String()+" wire", why)
}

// ---- our IMP server ---------------------------------------------------

// startIMPServer starts our server with the plugin f on wire w, for the
// rest of the suite, and returns its address.
func startIMPServer(f imp.Factory, w conn.Format) string {
	GinkgoHelper()
	logger := slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := &server.Server{Factory: f, Wire: conn.Options{Format: w}, Logger: logger}
	l, err := srv.Listen("127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	DeferCleanup(func() {
		srv.Close()
		Eventually(done).Should(Receive(MatchError(server.ErrServerClosed)))
	})
	return l.Addr().String()
}

// contextLog keeps the contexts of the analyzers a plugin made, by the
// port of the inspected connection's client.
type contextLog struct {
	mu     sync.Mutex
	byPort map[int]*imp.Meta
}

// recording returns f, keeping the context of every analyzer it makes.
func (l *contextLog) recording(f imp.Factory) imp.Factory {
	return imp.NewFactory(f.Interfaces(), func(ctx context.Context, meta *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
		l.mu.Lock()
		l.byPort[meta.ClientPort] = meta
		l.mu.Unlock()
		return f.NewAnalyzer(ctx, meta, out)
	})
}

// of returns the context of the connection from client port port, nil
// while there is none.
func (l *contextLog) of(port int) func() *imp.Meta {
	return func() *imp.Meta {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.byPort[port]
	}
}

// ---- routes: relay listener -> target ---------------------------------

// route is one listener of imp-relay.pl: the port it listens on, the
// IMP server it asks, and the target it forwards to, which is ours.
type route struct {
	plugin   string
	wire     conn.Format
	listen   string            // imp-relay.pl's -L
	target   net.Listener      // imp-relay.pl's -C
	accepted chan *net.TCPConn // connections the relay made to target
}

// newRoute makes a route to our server of plugin on wire w, with a target
// that stays open for the rest of the suite.
func newRoute(plugin string, w conn.Format) *route {
	GinkgoHelper()
	t, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	r := &route{plugin: plugin, wire: w, listen: freePort(), target: t, accepted: make(chan *net.TCPConn, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := t.Accept()
			if err != nil {
				return
			}
			r.accepted <- c.(*net.TCPConn)
		}
	}()
	DeferCleanup(func() {
		t.Close()
		<-done
		for len(r.accepted) > 0 {
			(<-r.accepted).Close()
		}
	})
	return r
}

// freePort returns a loopback address with a port that was free a moment
// ago: imp-relay.pl takes a fixed port and does not say which one it got.
func freePort() string {
	GinkgoHelper()
	addr, err := harness.FreeAddr()
	Expect(err).NotTo(HaveOccurred())
	return addr
}

// module is the -M argument that sends r's traffic to our server.
func (r *route) module() string {
	m := "Net::IMP::Remote=addr=" + impServers[key(r.plugin, r.wire)]
	if r.wire == conn.Sereal {
		m += "&impl=Sereal"
	}
	return m
}

// ---- imp-relay.pl -----------------------------------------------------

// relayProc is a running imp-relay.pl.
type relayProc struct {
	cmd    *exec.Cmd
	stderr *gbytes.Buffer // what it wrote on stderr
	exited chan struct{}  // closed when it has exited
}

// startRelay runs imp-relay.pl with a listener per route, waits until
// every route relays a connection, and stops it when the current node
// (spec or suite) ends.
func startRelay(rs ...*route) *relayProc {
	GinkgoHelper()
	var args []string
	for _, r := range rs {
		args = append(args, "-M", r.module(), "-L", r.listen, "-C", r.target.Addr().String())
	}
	p := &relayProc{stderr: gbytes.NewBuffer(), exited: make(chan struct{})}
	p.cmd = exec.Command("perl", append([]string{relayScript}, args...)...)
	p.cmd.Stderr = io.MultiWriter(p.stderr, GinkgoWriter)
	Expect(p.cmd.Start()).To(Succeed())
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	DeferCleanup(p.stop)
	for _, r := range rs {
		// The relay is up when a connection gets through to the target.
		var c net.Conn
		Eventually(func() error {
			if p.hasExited() {
				return StopTrying("imp-relay.pl exited: " + string(p.stderr.Contents()))
			}
			var err error
			c, err = net.Dial("tcp", r.listen)
			return err
		}).Should(Succeed(), "imp-relay.pl listening on %s", r.listen)
		var t *net.TCPConn
		Eventually(r.accepted).Should(Receive(&t), "imp-relay.pl connecting %s to its target", r.listen)
		c.Close()
		t.Close()
	}
	return p
}

func (p *relayProc) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// stop ends the relay with SIGTERM (it exits at once), or kills it.
func (p *relayProc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// ---- relayed connections ----------------------------------------------

// side names an end of a relayed connection.
type side int

const (
	client side = iota // our client, connected to imp-relay.pl
	target             // our target, connected from imp-relay.pl
)

func (s side) String() string { return [...]string{"client", "target"}[s] }

// relayed is a connection through imp-relay.pl: the client's end and the
// target's.
type relayed [2]*peer

// dial connects a client through r and returns both ends, closed when
// the spec ends.
func dial(r *route) relayed {
	GinkgoHelper()
	c, err := net.Dial("tcp", r.listen)
	Expect(err).NotTo(HaveOccurred())
	cp := newPeer(c.(*net.TCPConn))
	DeferCleanup(cp.close)
	var t *net.TCPConn
	Eventually(r.accepted).Should(Receive(&t), "imp-relay.pl connecting to its target")
	tp := newPeer(t)
	DeferCleanup(tp.close)
	return relayed{cp, tp}
}

// peer is one end of a relayed connection: it reads all the time and
// keeps what it got, and why reading stopped.
type peer struct {
	c    *net.TCPConn
	mu   sync.Mutex
	got  []byte
	err  error // io.EOF: closed by the relay; nil: still open
	done chan struct{}
}

func newPeer(c *net.TCPConn) *peer {
	p := &peer{c: c, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			p.mu.Lock()
			p.got = append(p.got, buf[:n]...)
			if err != nil {
				p.err = err
			}
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return p
}

// received returns what the peer has read so far.
func (p *peer) received() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.got)
}

// ended reports whether the relay closed (or reset) the connection.
func (p *peer) ended() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err != nil
}

// write writes s in one write.
func (p *peer) write(s string) {
	GinkgoHelper()
	_, err := p.c.Write([]byte(s))
	Expect(err).NotTo(HaveOccurred())
}

func (p *peer) close() {
	p.c.Close()
	<-p.done
}
