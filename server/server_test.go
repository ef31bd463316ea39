package server_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/server"
)

// The behaviour of the protocol is tested against Perl clients in
// conformance/server; these tests cover what a Go program sees of the
// package: listening, closing, limits, logs.

// testClient is a Go client of a test server; msgs receives what the
// server sends (set_version is handled by conn).
type testClient struct {
	c    *conn.Conn
	msgs chan conn.Message
}

func dialTest(t *testing.T, network, addr string) *testClient {
	t.Helper()
	nc, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	tc := &testClient{msgs: make(chan conn.Message, 1000)}
	tc.c, err = conn.Client(nc, conn.HandlerFunc(func(_ *conn.Conn, m conn.Message) error {
		tc.msgs <- m
		return nil
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.c.Close(nil) })
	return tc
}

func (tc *testClient) send(t *testing.T, ms ...conn.Message) {
	t.Helper()
	for _, m := range ms {
		if _, err := tc.c.Send(m); err != nil {
			t.Fatal(err)
		}
	}
}

// next returns the next message, failing after a few seconds.
func (tc *testClient) next(t *testing.T) conn.Message {
	t.Helper()
	select {
	case m := <-tc.msgs:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message from the server")
		return nil
	}
}

// serve starts srv on a loopback TCP listener and closes it when the test
// ends; it returns the address.
func serve(t *testing.T, srv *server.Server) string {
	t.Helper()
	l, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		noLeaks(t)
	})
	return l.Addr().String()
}

// noLeaks fails the test if goroutines of the server or conn packages
// are still running a while after the server closed.
func noLeaks(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var left []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "imprpc/server.(") || strings.Contains(g, "imprpc/conn.(") {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after the server closed:\n%s", strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeNeedsFactory(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = (&server.Server{}).Serve(l)
	if err == nil || !strings.Contains(err.Error(), "no Factory") {
		t.Fatalf("Serve without a Factory: %v", err)
	}
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Error("the listener was not closed")
	}
}

func TestServeAfterClose(t *testing.T) {
	srv := &server.Server{Factory: passFactory, Logger: discardLogger}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(l); !errors.Is(err, server.ErrServerClosed) {
		t.Fatalf("Serve after Close: %v", err)
	}
}

// Several listeners at once, TCP over IPv4 and IPv6 and a UNIX socket,
// all served by one server.
func TestSeveralListeners(t *testing.T) {
	srv := &server.Server{Factory: passFactory, Logger: discardLogger}
	addrs := map[string]string{"tcp": "127.0.0.1:0", "unix": filepath.Join(t.TempDir(), "imprpc.sock")}
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		l.Close()
		addrs["tcp6"] = "[::1]:0"
	} else {
		t.Logf("no IPv6 loopback here: %v", err)
	}
	var wg sync.WaitGroup
	for network, addr := range addrs {
		l, err := srv.Listen(addr)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if err := srv.Serve(l); !errors.Is(err, server.ErrServerClosed) {
				t.Errorf("Serve(%s): %v", addr, err)
			}
		})
		if network == "tcp6" {
			network = "tcp"
		}
		tc := dialTest(t, network, l.Addr().String())
		tc.send(t, &conn.NewAnalyzer{ID: 1}, &conn.Data{ID: 1, Type: imp.DataStream, Data: []byte("abc")})
		if m := tc.next(t); !sameJSON(m, &conn.Result{ID: 1, Result: imp.Pass(0, 3)}) {
			t.Errorf("%s: got %s", addr, showJSON(m))
		}
	}
	srv.Close()
	wg.Wait()
	if _, err := os.Stat(addrs["unix"]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket file is still there after Close: %v", err)
	}
	noLeaks(t)
}

func sameJSON(a, b conn.Message) bool { return showJSON(a) == showJSON(b) }

func showJSON(m conn.Message) string {
	b, err := conn.AppendJSON(nil, m)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestUnixSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	t.Run("mode 0600 by default", func(t *testing.T) {
		l, err := (&server.Server{}).Listen(path)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want a socket with 0600", fi.Mode())
		}
		if l.Addr().String() != path {
			t.Errorf("Addr %q, want %q", l.Addr(), path)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("the directory holds %d entries, want the socket only", len(entries))
		}
	})
	t.Run("the configured mode", func(t *testing.T) {
		l, err := (&server.Server{UnixSocketMode: 0o660}).Listen(path)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o660 {
			t.Errorf("mode %v (%v), want 0660", fi.Mode(), err)
		}
	})
	t.Run("a stale socket file is replaced", func(t *testing.T) {
		old, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		old.(*net.UnixListener).SetUnlinkOnClose(false)
		old.Close() // the file stays, nobody listens
		l, err := (&server.Server{}).Listen(path)
		if err != nil {
			t.Fatalf("stale socket not replaced: %v", err)
		}
		l.Close()
	})
	t.Run("a socket a server listens on is refused", func(t *testing.T) {
		live, err := (&server.Server{}).Listen(path)
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close()
		if _, err := (&server.Server{}).Listen(path); err == nil || !strings.Contains(err.Error(), "a server is listening") {
			t.Errorf("second Listen: %v", err)
		}
	})
	t.Run("a file that is not a socket is refused, not removed", func(t *testing.T) {
		file := filepath.Join(dir, "file")
		if err := os.WriteFile(file, []byte("keep me"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := (&server.Server{}).Listen(file); err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Errorf("Listen on a file: %v", err)
		}
		if b, _ := os.ReadFile(file); string(b) != "keep me" {
			t.Error("the file was changed")
		}
	})
}

func TestIsUnixAddr(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:2000": false, "[::1]:2000": false, ":2000": false, "/run/imp.sock": true, "./imp.sock": true} {
		if got := server.IsUnixAddr(addr); got != want {
			t.Errorf("IsUnixAddr(%q) = %v", addr, got)
		}
	}
}

// A connection without analyzers that receives nothing for IdleTimeout
// is closed; one with an analyzer is not.
func TestIdleTimeout(t *testing.T) {
	srv := &server.Server{Factory: passFactory, IdleTimeout: 100 * time.Millisecond, Logger: discardLogger}
	addr := serve(t, srv)
	idle := dialTest(t, "tcp", addr)
	busy := dialTest(t, "tcp", addr)
	busy.send(t, &conn.NewAnalyzer{ID: 1})
	select {
	case <-idle.c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the idle connection was not closed")
	}
	select {
	case <-busy.c.Done():
		t.Fatal("the connection with an analyzer was closed")
	case <-time.After(300 * time.Millisecond):
	}
}

func TestMaxAnalyzers(t *testing.T) {
	srv := &server.Server{Factory: passFactory, MaxAnalyzers: 2, Logger: discardLogger}
	tc := dialTest(t, "tcp", serve(t, srv))
	tc.send(t, &conn.NewAnalyzer{ID: 1}, &conn.NewAnalyzer{ID: 2}, &conn.NewAnalyzer{ID: 3}, &conn.DeleteAnalyzer{ID: 1}, &conn.NewAnalyzer{ID: 4},
		&conn.Data{ID: 4, Type: imp.DataStream, Data: []byte("x")})
	want := []conn.Message{conn.NewException(3, "new_analyzer: too many analyzers on this connection (limit 2)"), &conn.Result{ID: 4, Result: imp.Pass(0, 1)}}
	for _, w := range want {
		if m := tc.next(t); !sameJSON(m, w) {
			t.Errorf("got %s, want %s", showJSON(m), showJSON(w))
		}
	}
}

// A plugin's result that a Perl peer would not understand fails the
// analyzer instead of going out.
func TestInvalidResult(t *testing.T) {
	f := imp.NewFactory([]imp.Interface{{AnyData: true}}, func(_ context.Context, _ *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
		return imp.AnalyzerFunc(func(dir imp.Dir, _ int64, _ imp.DataType, _ []byte) {
			out.Emit(imp.Pass(7, 1))
		}), nil
	})
	tc := dialTest(t, "tcp", serve(t, &server.Server{Factory: f, Logger: discardLogger}))
	tc.send(t, &conn.NewAnalyzer{ID: 1}, &conn.Data{ID: 1, Type: imp.DataStream, Data: []byte("x")})
	m := tc.next(t)
	r, ok := m.(*conn.Result)
	if !ok || r.Result.Type != imp.ResultFatal {
		t.Fatalf("got %s, want fatal", showJSON(m))
	}
	if msg, _ := r.Result.Message(); !strings.Contains(msg, "invalid result") || !strings.Contains(msg, "direction 7") {
		t.Errorf("fatal(%q)", msg)
	}
}

func TestOpenPlugins(t *testing.T) {
	if _, err := server.OpenPlugins(); err == nil {
		t.Error("no specs: no error")
	}
	one, err := server.OpenPlugins("Net::IMP::Pattern=string=x&action=deny&actdata=")
	if err != nil {
		t.Fatal(err)
	}
	two, err := server.OpenPlugins("pattern=string=x&action=deny&actdata=", "pattern=string=y&action=replace&actdata=z")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := one.(imp.Negotiator); ok {
		t.Error("one plugin: a cascade")
	}
	if _, ok := two.(imp.Negotiator); !ok {
		t.Error("two plugins: not a cascade")
	}
	_, err = server.OpenPlugins("pattern=string=x", "nosuch", "pattern=rx=a&rxlen=0")
	if err == nil {
		t.Fatal("bad specs: no error")
	}
	for _, want := range []string{"actdata", "nosuch", "rxlen"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %s:\n%v", want, err)
		}
	}
}

func TestTopic(t *testing.T) {
	rec := func(msg string, attrs ...any) slog.Record {
		r := slog.NewRecord(time.Time{}, slog.LevelDebug, msg, 0)
		r.Add(attrs...)
		return r
	}
	for _, c := range []struct {
		r    slog.Record
		want string
	}{
		{rec("imprpc recv", "role", "server", "rpc", `["data",1,0,0,"imp.data.stream","x"]`), "rpc.data"},
		{rec("imprpc send", "rpc", `["result",1,"pass",0,1]`), "rpc.result"},
		{rec("imprpc recv", "rpc", `[18841,1]`), "rpc.18841"},
		{rec("imprpc connection closed", "cause", "x"), "server.conn"},
		{rec("imprpc server: analyzer made", "topic", "server.analyzer"), "server.analyzer"},
		{rec("something else"), "server"},
	} {
		if got := server.Topic(c.r); got != c.want {
			t.Errorf("Topic(%q) = %q, want %q", c.r.Message, got, c.want)
		}
	}
}

// -d=GLOB: the debug records of the matching topics, and everything
// above debug.
func TestDebugFilter(t *testing.T) {
	var buf bytes.Buffer
	h, err := server.DebugFilter(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), "rpc.new_analyzer", "server.a*")
	if err != nil {
		t.Fatal(err)
	}
	srv := &server.Server{Factory: passFactory, Logger: slog.New(h)}
	tc := dialTest(t, "tcp", serve(t, srv))
	tc.send(t, &conn.NewAnalyzer{ID: 1}, &conn.Data{ID: 1, Type: imp.DataStream, Data: []byte("x")}, conn.NewException(9, "from the client"))
	tc.next(t)
	srv.Close()
	out := buf.String()
	for _, want := range []string{`rpc="[\"new_analyzer\",1,{}]"`, "analyzer made", "exception from the client"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{`[\"data\"`, `[\"result\"`, "connection accepted"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("the log has %s:\n%s", unwanted, out)
		}
	}
	if _, err := server.DebugFilter(h, "[x"); err == nil {
		t.Error("a bad glob was accepted")
	}
}

// Shutdown with no connection returns at once; Serve returns
// ErrServerClosed.
func TestShutdownIdle(t *testing.T) {
	srv := &server.Server{Factory: passFactory, Logger: discardLogger}
	l, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	dialTest(t, "tcp", l.Addr().String()).c.Close(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, server.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	noLeaks(t)
}

// Past MaxBuffered the analyzers holding the most fail, until those left
// hold at most half the limit: here two of three analyzers whose plugin
// calls wait, with their data queued; the third, which holds less, and a
// fourth that holds nothing, go on.
func TestBufferLimitFailsTheLargestHolders(t *testing.T) {
	const limit, chunk = 1 << 20, 100_000
	hold := imp.NewFactory([]imp.Interface{{AnyData: true}}, func(ctx context.Context, meta *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
		return imp.AnalyzerFunc(func(dir imp.Dir, _ int64, _ imp.DataType, data []byte) {
			if meta.App == "hold" {
				<-ctx.Done() // until the analyzer fails or the server closes
				return
			}
			out.Emit(imp.Pass(dir, imp.MaxOffset))
		}), nil
	})
	tc := dialTest(t, "tcp", serve(t, &server.Server{Factory: hold, MaxBuffered: limit, Logger: discardLogger}))
	holdCtx := (&imp.Meta{App: "hold"}).Context()
	tc.send(t, &conn.NewAnalyzer{ID: 1, Context: holdCtx}, &conn.NewAnalyzer{ID: 2, Context: holdCtx}, &conn.NewAnalyzer{ID: 3, Context: holdCtx}, &conn.NewAnalyzer{ID: 4})
	// 1: 400,000 bytes, 2: 400,000, 3: 300,000 when the limit is passed.
	big := bytes.Repeat([]byte{'.'}, chunk)
	for _, id := range []int64{1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2} {
		tc.send(t, &conn.Data{ID: id, Type: imp.DataStream, Data: big})
	}
	tc.send(t, &conn.Data{ID: 4, Type: imp.DataStream, Data: []byte("x")})
	got := map[int64]conn.Message{}
	for range 3 {
		m := tc.next(t)
		got[m.(*conn.Result).ID] = m
	}
	for _, id := range []int64{1, 2} {
		r, ok := got[id].(*conn.Result)
		if !ok || r.Result.Type != imp.ResultFatal {
			t.Fatalf("analyzer %d: got %s, want fatal", id, showJSON(got[id]))
		}
		if msg, _ := r.Result.Message(); !strings.HasPrefix(msg, "server buffer limit exceeded: the analyzer held 400000 bytes") {
			t.Errorf("analyzer %d: fatal(%q)", id, msg)
		}
	}
	if m := got[4]; !sameJSON(m, &conn.Result{ID: 4, Result: imp.Pass(0, imp.MaxOffset)}) {
		t.Errorf("analyzer 4: got %s", showJSON(m))
	}
	select {
	case m := <-tc.msgs:
		t.Errorf("unexpected %s: analyzer 3 holds less and goes on", showJSON(m))
	case <-time.After(200 * time.Millisecond):
	}
}

// A NewAnalyzer that does not return within CallTimeout fails its
// analyzer; the other analyzers of the connection are made meanwhile.
func TestNewAnalyzerTimeout(t *testing.T) {
	f := imp.NewFactory([]imp.Interface{{AnyData: true}}, func(ctx context.Context, meta *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
		if meta.App == "block" {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return imp.AnalyzerFunc(func(dir imp.Dir, _ int64, _ imp.DataType, data []byte) {
			out.Emit(imp.Pass(dir, imp.MaxOffset))
		}), nil
	})
	tc := dialTest(t, "tcp", serve(t, &server.Server{Factory: f, CallTimeout: 200 * time.Millisecond, Logger: discardLogger}))
	tc.send(t, &conn.NewAnalyzer{ID: 1, Context: (&imp.Meta{App: "block"}).Context()}, &conn.NewAnalyzer{ID: 2},
		&conn.Data{ID: 2, Type: imp.DataStream, Data: []byte("x")}, &conn.Data{ID: 1, Type: imp.DataStream, Data: []byte("x")})
	want := []conn.Message{
		&conn.Result{ID: 2, Result: imp.Pass(0, imp.MaxOffset)},
		&conn.Result{ID: 1, Result: imp.Fatal("plugin call did not return within 200ms")},
	}
	for _, w := range want {
		if m := tc.next(t); !sameJSON(m, w) {
			t.Errorf("got %s, want %s", showJSON(m), showJSON(w))
		}
	}
}
