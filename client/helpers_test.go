package client_test

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goimp/imprpc/client"
	"github.com/goimp/imprpc/client/clienttest"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	_ "github.com/goimp/imprpc/plugin/all"
	_ "github.com/goimp/imprpc/plugin/testplugin"
)

// wires are the two wire formats every test runs with.
var wires = []conn.Format{conn.Storable, conn.Sereal}

// waitLong bounds every wait of a test; nothing here should take more
// than a fraction of it.
const waitLong = 20 * time.Second

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	t.Cleanup(cancel)
	return ctx
}

// plugin opens a registered plugin.
func plugin(t testing.TB, spec string) imp.Factory {
	t.Helper()
	fs, err := imp.Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	return fs[0]
}

// serve starts a test server on loopback TCP.
func serve(t testing.TB, cfg clienttest.Config) *clienttest.Server {
	t.Helper()
	s, err := clienttest.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { noClientGoroutines(t) })
	t.Cleanup(s.Close)
	return s
}

// serveDial starts a test server for the plugin spec on wire and
// connects a factory to it.
func serveDial(t testing.TB, spec string, wire conn.Format) (*clienttest.Server, *client.Factory) {
	t.Helper()
	s := serve(t, clienttest.Config{Factory: plugin(t, spec), Wire: conn.Options{Format: wire}})
	return s, dial(t, s.Addr(), client.Options{Wire: wire})
}

// dial connects a factory and closes it at the end of the test.
func dial(t testing.TB, addr string, opts client.Options) *client.Factory {
	t.Helper()
	f, err := client.Dial(context.Background(), addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeFactory(t, f) })
	return f
}

// closeFactory closes f.
func closeFactory(t testing.TB, f *client.Factory) {
	t.Helper()
	if err := f.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// noClientGoroutines fails if a goroutine of package client is running:
// called once every factory of a test is closed, it shows that none
// outlived Close (which waits for them; a goroutine may still be on its
// way out of its last deferred call, hence the short grace).
func noClientGoroutines(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		leaked := clientGoroutines()
		if leaked == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("goroutines left after Close:\n%s", leaked)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// clientGoroutines returns the stacks of the goroutines that run code of
// package client or of a client-side conn.Conn still.
func clientGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "imprpc/client.(*") && !strings.Contains(g, "_test.") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// collect receives every result of a until its channel closes and
// returns them with the end reason.
func collect(t testing.TB, a *client.Analyzer) ([]imp.Result, error) {
	t.Helper()
	rs, end, ok := clienttest.Collect(a, waitLong)
	if !ok {
		t.Fatalf("analyzer %d: results not closed after %v (got %s)", a.ID(), waitLong, jsonLines(t, rs))
	}
	return rs, end
}

// jsonLines shows results as imprpc analyze prints them.
func jsonLines(t testing.TB, rs []imp.Result) string {
	t.Helper()
	s, err := clienttest.ResultsJSON(rs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// feed sends data n times to a.
func feed(t testing.TB, ctx context.Context, a *client.Analyzer, n int, data string) {
	t.Helper()
	for range n {
		if err := a.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
}

// logBuffer is a slog handler's output, safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLogger(level slog.Level) (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: level})), lb
}

// eventually polls cond until it holds or waitLong passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not after %v: %s", waitLong, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
