// Package server_test checks the Go IMP RPC server (package server)
// against real Perl clients: perl-fixtures/rpc-client.pl, which speaks the
// protocol with Perl's own Storable and Sereal modules and frames RPCs as
// Net::IMP::Remote does, and, in the live tier (Label("live")), the real
// Net::IMP::Remote client run by ImpFixture::RemoteClient with an event
// loop, as a data provider runs it. Every behaviour runs over loopback TCP
// and a UNIX socket, on both wires.
//
// The live tier skips, saying why, when Net::IMP::Remote or AnyEvent do
// not load (they are looked for on PERL5LIB and in the upstream checkouts
// of ~/.cache/imprpc/upstream or $IMPRPC_UPSTREAM); with
// IMPRPC_REQUIRE_LIVE=1 a missing live tier fails instead.
package server_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/internal/harness"
	"github.com/goimp/imprpc/conformance/internal/imptext"
	"github.com/goimp/imprpc/conformance/internal/live"
	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
	"github.com/goimp/imprpc/server"
)

func TestServer(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "IMP RPC server: Go server, Perl clients")
}

var (
	client       *perlproc.Proc // rpc-client.pl
	clientReason string         // why client is nil
	haveLive     bool           // Net::IMP::Remote loads in client
	liveReason   string         // why not
	sockDir      string         // UNIX sockets of the suite
)

// upstreamLibs returns the lib/ directories of the upstream checkouts of
// Net::IMP and Net::IMP::Remote, where they exist.
func upstreamLibs() []string {
	dir := os.Getenv("IMPRPC_UPSTREAM")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil
		}
		dir = filepath.Join(home, ".cache", "imprpc", "upstream")
	}
	var libs []string
	for _, name := range []string{"p5-net-imp", "p5-net-imp-remote"} {
		if fi, err := os.Stat(filepath.Join(dir, name, "lib")); err == nil && fi.IsDir() {
			libs = append(libs, filepath.Join(dir, name, "lib"))
		}
	}
	return libs
}

var _ = BeforeSuite(func() {
	var err error
	// UNIX socket paths are short: sun_path holds about 100 bytes.
	sockDir, err = os.MkdirTemp("", "imprpc-srv")
	Expect(err).NotTo(HaveOccurred())
	if ok, reason := perlproc.HaveModule("Storable", "Sereal::Encoder", "Sereal::Decoder", "JSON::PP"); !ok {
		clientReason = reason
		liveReason = reason
		return
	}
	opts := perlproc.Options{Stderr: GinkgoWriter}
	if ok, _ := perlproc.HaveModule("Net::IMP::Remote", "AnyEvent"); !ok {
		opts.Lib = upstreamLibs()
	}
	client, err = perlproc.Start("rpc-client.pl", opts)
	Expect(err).NotTo(HaveOccurred())
	var have struct {
		Remote int    `json:"remote"`
		Why    string `json:"why"`
	}
	call(map[string]any{"op": "have"}, &have)
	haveLive, liveReason = have.Remote == 1, have.Why
})

var _ = AfterSuite(func() {
	if client != nil {
		Expect(client.Close()).To(Succeed())
	}
	if sockDir != "" {
		os.RemoveAll(sockDir)
	}
	// No goroutine of the server or of its connections outlives the
	// servers, all closed by now.
	Eventually(func() []string {
		return harness.Goroutines("github.com/goimp/imprpc/server", "github.com/goimp/imprpc/conn")
	}, 10*time.Second, 20*time.Millisecond).Should(BeEmpty())
})

// needPerl skips a spec that needs the Perl client when it is missing.
func needPerl() {
	if client == nil {
		Skip("Perl with Storable, Sereal and JSON::PP is needed: " + clientReason)
	}
}

// needLive skips a spec of the live tier when Net::IMP::Remote does not
// load, or fails it when IMPRPC_REQUIRE_LIVE=1.
func needLive() {
	if client != nil && haveLive {
		return
	}
	why := liveReason
	if client == nil {
		why = clientReason
	}
	live.Need("the live tier needs Net::IMP::Remote and AnyEvent", why)
}

// call sends a request to the Perl client.
func call(req map[string]any, reply any) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	Expect(client.Call(ctx, req, reply)).To(Succeed())
}

// ---- servers ----------------------------------------------------------

// target is where a spec's client connects: a transport and a wire.
type target struct {
	transport string // "tcp" or "unix"
	wire      conn.Format
}

func (t target) String() string { return t.transport + "/" + t.wire.String() }

// targets are every transport and wire.
var targets = []target{{"tcp", conn.Storable}, {"tcp", conn.Sereal}, {"unix", conn.Storable}, {"unix", conn.Sereal}}

// eachTarget returns a table entry per target.
func eachTarget() []TableEntry {
	var es []TableEntry
	for _, t := range targets {
		es = append(es, Entry(t.String(), t))
	}
	return es
}

// testServer is a server of the suite, in this process.
type testServer struct {
	srv  *server.Server
	addr string
	logs *logSink
	done chan error
}

var sockSeq struct {
	sync.Mutex
	n int
}

// startServer starts a server of f for t, changed by tweak, and closes
// it when the spec ends.
func startServer(t target, f imp.Factory, tweak ...func(*server.Server)) *testServer {
	GinkgoHelper()
	logs := &logSink{}
	ts := &testServer{logs: logs, done: make(chan error, 1)}
	ts.srv = &server.Server{Factory: f, Wire: conn.Options{Format: t.wire}, Logger: slog.New(logs)}
	for _, fn := range tweak {
		fn(ts.srv)
	}
	addr := "127.0.0.1:0"
	if t.transport == "unix" {
		sockSeq.Lock()
		sockSeq.n++
		addr = filepath.Join(sockDir, fmt.Sprintf("s%d", sockSeq.n))
		sockSeq.Unlock()
	}
	l, err := ts.srv.Listen(addr)
	Expect(err).NotTo(HaveOccurred())
	ts.addr = l.Addr().String()
	go func() { ts.done <- ts.srv.Serve(l) }()
	DeferCleanup(func() {
		ts.srv.Close()
		Eventually(ts.done, 10*time.Second).Should(Receive(MatchError(server.ErrServerClosed)))
	})
	return ts
}

// ---- logs ---------------------------------------------------------------

// logSink is a slog.Handler that keeps the server's records and copies
// them to GinkgoWriter.
type logSink struct {
	mu      sync.Mutex
	records []logRecord
	attrs   []slog.Attr
	parent  *logSink
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (l *logSink) root() *logSink {
	if l.parent != nil {
		return l.parent.root()
	}
	return l
}

func (l *logSink) Enabled(context.Context, slog.Level) bool { return true }

func (l *logSink) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range l.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	if r.Level > slog.LevelDebug {
		fmt.Fprintf(GinkgoWriter, "server log: %s %s %v\n", r.Level, r.Message, rec.attrs)
	}
	root := l.root()
	root.mu.Lock()
	root.records = append(root.records, rec)
	root.mu.Unlock()
	return nil
}

func (l *logSink) WithAttrs(as []slog.Attr) slog.Handler {
	return &logSink{attrs: append(append([]slog.Attr(nil), l.attrs...), as...), parent: l}
}

func (l *logSink) WithGroup(string) slog.Handler { return l }

// find returns the records whose message contains msg and whose
// attributes contain the given key/value substrings.
func (l *logSink) find(msg string, kv ...string) []logRecord {
	root := l.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	var found []logRecord
	for _, r := range root.records {
		if !strings.Contains(r.msg, msg) {
			continue
		}
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			if !strings.Contains(r.attrs[kv[i]], kv[i+1]) {
				ok = false
			}
		}
		if ok {
			found = append(found, r)
		}
	}
	return found
}

// logged returns a function for Eventually: the number of matching
// records.
func (l *logSink) logged(msg string, kv ...string) func() int {
	return func() int { return len(l.find(msg, kv...)) }
}

// ---- the Perl client ----------------------------------------------------

// perlConn is a connection of the Perl raw client.
type perlConn struct {
	id   int
	wire conn.Format
}

// dialPerl has the Perl client connect to ts on wire t.wire; the
// connection is closed when the spec ends.
func dialPerl(ts *testServer, t target) *perlConn {
	GinkgoHelper()
	var r struct {
		Conn int `json:"conn"`
	}
	call(map[string]any{"op": "connect", "addr": ts.addr, "wire": t.wire.String()}, &r)
	pc := &perlConn{id: r.Conn, wire: t.wire}
	DeferCleanup(func() { _ = client.Call(context.Background(), map[string]any{"op": "close", "conn": pc.id}, nil) })
	return pc
}

// connected starts a server of f for t (see startServer) and connects
// the Perl client to it, past the handshake.
func connected(t target, f imp.Factory, tweak ...func(*server.Server)) (*testServer, *perlConn) {
	GinkgoHelper()
	ts := startServer(t, f, tweak...)
	pc := dialPerl(ts, t)
	pc.handshake()
	return ts, pc
}

// rpcText returns m as the tagged JSON of [op, args...].
func rpcText(m conn.Message) string {
	GinkgoHelper()
	args := conn.Args(m)
	elems := append([]perl.Value{perl.Int(m.Op())}, args...)
	b, err := taggedjson.Marshal(perl.NewArray(elems...))
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// send has Perl encode and write ms (in writes of chunk bytes, if not 0).
func (pc *perlConn) send(chunk int, ms ...conn.Message) {
	GinkgoHelper()
	rpcs := make([]string, len(ms))
	for i, m := range ms {
		rpcs[i] = rpcText(m)
	}
	req := map[string]any{"op": "send", "conn": pc.id, "rpcs": rpcs}
	if chunk > 0 {
		req["chunk"] = chunk
	}
	call(req, nil)
}

// sendRaw writes bytes as they are.
func (pc *perlConn) sendRaw(b []byte) {
	GinkgoHelper()
	call(map[string]any{"op": "send_hex", "conn": pc.id, "hex": hex.EncodeToString(b)}, nil)
}

type recvReply struct {
	RPCs  []string `json:"rpcs"`
	EOF   int      `json:"eof"`
	Error string   `json:"error"`
}

// recv reads n RPCs (set_version included); fewer when the server closed
// the connection or 20 seconds passed.
func (pc *perlConn) recv(n int) ([]conn.Message, bool) {
	GinkgoHelper()
	return pc.read(map[string]any{"op": "recv", "count": n})
}

// quiet reads what comes within d.
func (pc *perlConn) quiet(d time.Duration) ([]conn.Message, bool) {
	GinkgoHelper()
	return pc.read(map[string]any{"op": "quiet", "seconds": d.Seconds()})
}

// quietBrief is quiet with string arguments longer than 1024 bytes
// replaced by "<N bytes>".
func (pc *perlConn) quietBrief(d time.Duration) ([]conn.Message, bool) {
	GinkgoHelper()
	return pc.read(map[string]any{"op": "quiet", "seconds": d.Seconds(), "brief": 1})
}

func (pc *perlConn) read(req map[string]any) ([]conn.Message, bool) {
	GinkgoHelper()
	var r recvReply
	req["conn"] = pc.id
	call(req, &r)
	return parseRPCs(r.RPCs), r.EOF == 1
}

// handshake reads the server's first RPC and requires it to be
// set_version(1).
func (pc *perlConn) handshake() {
	GinkgoHelper()
	ms, _ := pc.recv(1)
	Expect(ms).To(HaveLen(1))
	Expect(ms[0]).To(Equal(&conn.SetVersion{Version: 1}))
}

// startAnalyzer makes analyzer id of a probe (named name, its meta
// caddr) and requires data "a" to be answered with pass(0, 1).
func (pc *perlConn) startAnalyzer(id int64, name string) {
	GinkgoHelper()
	pc.send(0, &conn.NewAnalyzer{ID: id, Context: metaCtx(&imp.Meta{ClientAddr: name})}, data(id, 0, "a"))
	got, _ := pc.recv(1)
	expectRPCs(got, result(id, imp.Pass(0, 1)))
}

// parseRPCs reads RPCs Perl decoded; an unknown op gives a *conn.Raw.
func parseRPCs(texts []string) []conn.Message {
	GinkgoHelper()
	ms := make([]conn.Message, len(texts))
	for i, t := range texts {
		v, err := taggedjson.Unmarshal([]byte(t))
		Expect(err).NotTo(HaveOccurred())
		a, ok := v.(*perl.Array)
		Expect(ok).To(BeTrue(), "RPC %s is not an array", t)
		op, ok := a.Elems[0].(perl.Int)
		Expect(ok).To(BeTrue(), "op of %s", t)
		m, err := conn.ParseMessage(conn.Op(op), a.Elems[1:])
		if ue, ok := err.(*conn.UnknownOpError); ok {
			m, err = ue.Message(), nil
		}
		Expect(err).NotTo(HaveOccurred(), "RPC %s", t)
		ms[i] = m
	}
	return ms
}

// ---- messages -------------------------------------------------------------

// metaCtx returns the context {meta => {...}} of a data provider.
func metaCtx(m *imp.Meta) perl.Value {
	if m == nil {
		m = &imp.Meta{ClientAddr: "192.0.2.10", ClientPort: 40001, ListenAddr: "127.0.0.1", ListenPort: 3000}
	}
	return m.Context()
}

func newAnalyzer(id int64) *conn.NewAnalyzer {
	return &conn.NewAnalyzer{ID: id, Context: metaCtx(nil)}
}

func data(id int64, dir imp.Dir, s string) *conn.Data {
	return &conn.Data{ID: id, Dir: dir, Type: imp.DataStream, Data: []byte(s)}
}

func result(id int64, r imp.Result) *conn.Result { return &conn.Result{ID: id, Result: r} }

// show writes messages in the JSON form of "imprpc frames", for failure
// messages and comparisons.
func show(ms ...conn.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		b, err := conn.AppendJSON(nil, m)
		if err != nil {
			out[i] = fmt.Sprintf("%T (%v)", m, err)
			continue
		}
		out[i] = string(b)
	}
	return out
}

// expectRPCs requires got to be want, compared in the JSON form.
func expectRPCs(got []conn.Message, want ...conn.Message) {
	GinkgoHelper()
	Expect(show(got...)).To(Equal(show(want...)))
}

// byID groups results and exceptions by analyzer id, in order.
func byID(ms []conn.Message) map[int64][]conn.Message {
	out := map[int64][]conn.Message{}
	for _, m := range ms {
		switch m := m.(type) {
		case *conn.Result:
			out[m.ID] = append(out[m.ID], m)
		case *conn.Exception:
			out[m.ID] = append(out[m.ID], m)
		}
	}
	return out
}

// resultText returns a result as the tagged JSON of [type, args...] (as
// the recordings write it), values compared with imptext.DiffResults.
func resultText(r imp.Result) string {
	GinkgoHelper()
	t, err := imptext.Result(r)
	Expect(err).NotTo(HaveOccurred())
	return t
}

// waitClosed requires the server to close the connection within a few
// seconds, and returns what came before.
func (pc *perlConn) waitClosed() []conn.Message {
	GinkgoHelper()
	var all []conn.Message
	Eventually(func() bool {
		ms, eof := pc.quiet(100 * time.Millisecond)
		all = append(all, ms...)
		return eof
	}, 10*time.Second, time.Millisecond).Should(BeTrue(), "the server did not close the connection")
	return all
}

// dialGo connects a Go client for specs that need the server's side
// only; it is closed when the spec ends.
func dialGo(ts *testServer, t target, h conn.HandlerFunc) *conn.Conn {
	GinkgoHelper()
	network := "tcp"
	if t.transport == "unix" {
		network = "unix"
	}
	nc, err := net.Dial(network, ts.addr)
	Expect(err).NotTo(HaveOccurred())
	c, err := conn.Client(nc, h, &conn.Config{Wire: conn.Options{Format: t.wire}})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { c.Close(nil) })
	return c
}
