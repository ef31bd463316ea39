package remoteclient

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/goimp/imprpc/conformance/internal/imptext"
	"github.com/goimp/imprpc/conformance/internal/live"
	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/perl"
	_ "github.com/goimp/imprpc/plugin/pattern"
	"github.com/goimp/imprpc/server"
)

// TestClient drives the real Net::IMP::Remote client against the Go
// server with a pattern plugin, on both wires.
func TestClient(t *testing.T) {
	if ok, why := perlproc.HaveModule("Net::IMP::Remote", "AnyEvent", "Sereal::Encoder", "Sereal::Decoder", "JSON::PP"); !ok {
		if live.Required() {
			t.Fatalf("Net::IMP::Remote is required (%s=1) but cannot run: %s", live.RequireEnv, why)
		}
		t.Skipf("Net::IMP::Remote cannot run: %s", why)
	}
	p, err := perlproc.Start("rpc-client.pl", perlproc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f, err := server.OpenPlugins("pattern=string=secret&action=deny&actdata=no")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []conn.Format{conn.Storable, conn.Sereal} {
		t.Run(w.String(), func(t *testing.T) {
			srv := &server.Server{Factory: f, Wire: conn.Options{Format: w}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			l, err := srv.Listen("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(l) }()
			defer func() {
				srv.Close()
				if err := <-done; !errors.Is(err, server.ErrServerClosed) {
					t.Errorf("Serve: %v", err)
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			exercise(ctx, t, p, l.Addr().String(), w)
		})
	}
}

func exercise(ctx context.Context, t *testing.T, p *perlproc.Proc, addr string, w conn.Format) {
	c, err := New(ctx, p, addr, w)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Close(ctx); err != nil {
			t.Error(err)
		}
	}()
	is, err := c.GetInterface(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(is) != 1 || !is[0].AnyData {
		t.Fatalf("GetInterface() = %+v, want the pattern plugin's one interface for any data", is)
	}
	// A data provider offers the results it handles: here the plugin's
	// and fatal (which every analyzer may give).
	offer := imp.Interface{DataType: imp.DataStream, Results: append(is[0].Results, imp.ResultFatal)}
	if ok, err := c.SetInterface(ctx, offer); err != nil || !ok {
		t.Fatalf("SetInterface(%+v): %v, %v (plugin: %+v)", offer, ok, err, is)
	}
	meta := imp.Meta{ClientAddr: "192.0.2.10", ClientPort: 40001}
	h, err := c.NewAnalyzer(ctx, meta.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Data(ctx, h, imptest.Chunk{Dir: 0, Type: imp.DataStream, Data: []byte("a secret")}); err != nil {
		t.Fatal(err)
	}
	r, err := c.Run(ctx, RunOptions{Want: map[int]int{h: 2}, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// "a " passes, then "secret" is denied.
	var want []string
	for _, res := range []imp.Result{imp.Pass(0, 2), {Type: imp.ResultDeny, Args: []perl.Value{perl.Int(0), perl.Bytes("no")}}} {
		text, err := imptext.Result(res)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, text)
	}
	if r.Why != "done" {
		t.Fatalf("Run: %+v", r)
	}
	if d := imptext.DiffResults(r.Results[h], want); d != "" {
		t.Fatalf("results of analyzer %d: %s", h, d)
	}
	if err := c.CloseAnalyzer(ctx, h); err != nil {
		t.Fatal(err)
	}
	// Nothing more comes: the run ends idle.
	r, err = c.Run(ctx, RunOptions{Want: map[int]int{h: 1}, Idle: 200 * time.Millisecond, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Why != "idle" || len(r.Results[h]) != 0 {
		t.Fatalf("Run after CloseAnalyzer: %+v", r)
	}
	// A request the script refuses comes back as a *perlproc.ScriptError.
	_, err = c.NewAnalyzer(ctx, perl.Int(1))
	var se *perlproc.ScriptError
	if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), "remoteclient: remote_new_analyzer") {
		t.Errorf("NewAnalyzer with a context that is not a hash: %v", err)
	}
}
