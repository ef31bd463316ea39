package client_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimp/imprpc/client"
	"github.com/goimp/imprpc/client/clienttest"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/perl"
)

// overWire returns the results as they arrive after a trip over w.
func overWire(t *testing.T, w conn.Format, rs []imp.Result) []imp.Result {
	t.Helper()
	out, err := clienttest.OverWire(w, rs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameResults(t *testing.T, what string, got, want []imp.Result) {
	t.Helper()
	if !clienttest.SameResults(got, want) {
		t.Errorf("%s: results\n%s\nwant\n%s", what, jsonLines(t, got), jsonLines(t, want))
	}
}

// Every result type, with every argument shape testing:every_result has,
// arrives as the plugin emitted it (as the wire carries it), in order,
// on both wires; the analyzer ends as the results say.
func TestEveryResultType(t *testing.T) {
	for _, wire := range wires {
		t.Run(wire.String(), func(t *testing.T) {
			ctx := testCtx(t)
			plug := plugin(t, "testing:every_result")
			s := serve(t, clienttest.Config{Factory: plug, Wire: conn.Options{Format: wire}})
			f := dial(t, s.Addr(), client.Options{Wire: wire})
			seen := map[imp.ResultType]bool{}
			for _, word := range clienttest.EveryResultWords {
				chunks := []imptest.Chunk{
					{Dir: imp.FromClient, Type: imp.DataStream, Data: []byte(word + " x")},
					{Dir: imp.FromServer, Type: imp.DataStream, Data: []byte("y " + word)},
				}
				want, err := imptest.Run(plug, nil, chunks...)
				if err != nil {
					t.Fatal(err)
				}
				wantEnd := error(nil)
				for i, r := range want {
					if r.Type.Final() {
						want, wantEnd = want[:i+1], client.ErrFinished
						break
					}
				}
				if word == "pass:max" {
					wantEnd = client.ErrDeclined
				}
				a, err := f.NewAnalyzer(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range chunks {
					if err := a.Data(ctx, c.Dir, 0, c.Type, c.Data); err != nil && !errors.Is(err, wantEnd) {
						t.Fatalf("%s: Data: %v", word, err)
					}
				}
				if wantEnd == nil {
					// Still running: its results are all there once
					// as many as the plugin gave have come.
					var got []imp.Result
					for len(got) < len(want) {
						got = append(got, <-a.Results())
					}
					a.Close()
					rest, err := collect(t, a)
					if len(rest) != 0 || !errors.Is(err, client.ErrClosed) {
						t.Errorf("%s: after Close: %d more results, end %v", word, len(rest), err)
					}
					sameResults(t, word, got, overWire(t, wire, want))
				} else {
					got, err := collect(t, a)
					if !errors.Is(err, wantEnd) {
						t.Errorf("%s: end %v, want %v", word, err, wantEnd)
					}
					sameResults(t, word, got, overWire(t, wire, want))
					a.Close()
				}
				for _, r := range want {
					seen[r.Type] = true
				}
			}
			for _, rt := range imp.ResultTypes() {
				if !seen[rt] {
					t.Errorf("result type %s not covered", rt)
				}
			}
		})
	}
}

// GetInterface waits for the server's answer and gives it as the server
// sent it; SetInterface narrows the server's factory without waiting,
// and a refused one ends the connection with exception(0, ...), after
// which the next call connects again.
func TestInterfaces(t *testing.T) {
	for _, wire := range wires {
		t.Run(wire.String(), func(t *testing.T) {
			ctx := testCtx(t)
			plug := plugin(t, "testing:every_result=results=pass,deny,log")
			var mu sync.Mutex
			var sets []string
			intercept := func(c *conn.Conn, m conn.Message) (bool, error) {
				if si, ok := m.(*conn.SetInterface); ok {
					mu.Lock()
					sets = append(sets, si.Interface.String())
					mu.Unlock()
				}
				return false, nil
			}
			s := serve(t, clienttest.Config{Factory: plug, Wire: conn.Options{Format: wire}, Intercept: intercept})
			f := dial(t, s.Addr(), client.Options{Wire: wire})

			own, err := f.GetInterface(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(own) != 1 || !own[0].AnyData || !slices.Equal(own[0].Results, []imp.ResultType{imp.ResultPass, imp.ResultDeny, imp.ResultLog}) {
				t.Errorf("own interfaces %v", own)
			}
			stream := imp.Interface{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass, imp.ResultDeny, imp.ResultLog, imp.ResultFatal}}
			narrow := imp.Interface{DataType: imp.DataPacket, Results: []imp.ResultType{imp.ResultPass}}
			got, err := f.GetInterface(ctx, narrow, stream, imp.Interface{AnyData: true})
			if err != nil {
				t.Fatal(err)
			}
			if want := imp.MatchInterfaces(own, []imp.Interface{narrow, stream, {AnyData: true}}); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("GetInterface: %v, want %v", got, want)
			}
			if err := f.SetInterface(ctx, stream); err != nil {
				t.Fatal(err)
			}
			a, err := f.NewAnalyzer(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("log pass")); err != nil {
				t.Fatal(err)
			}
			if r := <-a.Results(); r.Type != imp.ResultLog {
				t.Errorf("first result %v", r)
			}
			// A refused interface: exception(0), every analyzer ends.
			if err := f.SetInterface(ctx, narrow); err != nil {
				t.Fatal(err)
			}
			_, end := collect(t, a)
			var ee *client.ExceptionError
			if !errors.As(end, &ee) || ee.ID != 0 || ee.Message != "set_interface: unsupported interface" {
				t.Fatalf("end %v, want exception(0, set_interface: unsupported interface)", end)
			}
			if got := ee.Error(); got != "client: global exception: set_interface: unsupported interface" {
				t.Errorf("Error() = %q", got)
			}
			if err := a.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("pass")); err != end {
				t.Errorf("Data after the end: %v, want %v", err, end)
			}
			// The next connection gets the interface set before the
			// refused one (Perl's client sends the refused one again,
			// and is refused again).
			b, err := f.NewAnalyzer(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("log")); err != nil {
				t.Fatal(err)
			}
			if r, ok := <-b.Results(); !ok || r.Type != imp.ResultLog {
				t.Fatalf("after the refusal: %v %v", r, b.Err())
			}
			mu.Lock()
			defer mu.Unlock()
			if want := []string{"[imp.data.stream, [pass, deny, log, fatal]]", "[imp.data.packet, [pass]]", "[imp.data.stream, [pass, deny, log, fatal]]"}; !slices.Equal(sets, want) {
				t.Errorf("set_interface sent %q, want %q", sets, want)
			}
		})
	}
}

// Analyzers end with exception(id, msg) for their id, which the client
// deletes on the server; exception(0, msg) ends every analyzer of the
// connection; the next call connects again.
func TestExceptions(t *testing.T) {
	var deletes atomic.Int64
	intercept := func(c *conn.Conn, m conn.Message) (bool, error) {
		switch m := m.(type) {
		case *conn.Data:
			switch string(m.Data) {
			case "boom":
				_, err := c.Send(conn.NewException(m.ID, "boom for you"))
				return true, err
			case "global":
				_, err := c.Send(conn.NewException(0, "everything is broken"))
				return true, err
			}
		case *conn.DeleteAnalyzer:
			deletes.Add(1)
		}
		return false, nil
	}
	ctx := testCtx(t)
	s := serve(t, clienttest.Config{Factory: plugin(t, "testing:every_result"), Intercept: intercept})
	f := dial(t, s.Addr(), client.Options{})
	a1, _ := f.NewAnalyzer(ctx, nil)
	a2, _ := f.NewAnalyzer(ctx, nil)
	if err := a1.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("boom")); err != nil {
		t.Fatal(err)
	}
	rs, end := collect(t, a1)
	var ee *client.ExceptionError
	if len(rs) != 0 || !errors.As(end, &ee) || ee.ID != a1.ID() || ee.Message != "boom for you" {
		t.Fatalf("a1: %d results, end %v", len(rs), end)
	}
	eventually(t, "delete_analyzer sent after the exception", func() bool { return deletes.Load() == 1 })
	if err := a1.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("pass")); err != end {
		t.Errorf("Data after exception: %v", err)
	}
	// a2 goes on.
	if err := a2.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("log")); err != nil {
		t.Fatal(err)
	}
	if r := <-a2.Results(); r.Type != imp.ResultLog {
		t.Fatalf("a2: %v", r)
	}
	a3, _ := f.NewAnalyzer(ctx, nil)
	if err := a2.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("global")); err != nil {
		t.Fatal(err)
	}
	for _, a := range []*client.Analyzer{a2, a3} {
		_, end := collect(t, a)
		if !errors.As(end, &ee) || ee.ID != 0 || ee.Message != "everything is broken" {
			t.Errorf("analyzer %d: end %v, want exception(0)", a.ID(), end)
		}
	}
	// A new connection, ids from 1 again.
	a4, err := f.NewAnalyzer(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a4.ID() != 1 {
		t.Errorf("after exception(0): id %d", a4.ID())
	}
	eventually(t, "a second connection", func() bool { return s.Accepted() == 2 })
	if err := a4.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("deny")); err != nil {
		t.Fatal(err)
	}
	if rs, end := collect(t, a4); len(rs) != 1 || end != client.ErrFinished {
		t.Errorf("a4: %s end %v", jsonLines(t, rs), end)
	}
}

// A declined analyzer gets pass(0, -1), pass(1, -1) and ends with
// ErrDeclined; the client deletes it on the server.
func TestDeclined(t *testing.T) {
	for _, wire := range wires {
		t.Run(wire.String(), func(t *testing.T) {
			ctx := testCtx(t)
			s, f := serveDial(t, "testing:decline", wire)
			a, err := f.NewAnalyzer(ctx, client.Meta(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4000}, nil, nil).Context())
			if err != nil {
				t.Fatal(err)
			}
			rs, end := collect(t, a)
			if got := jsonLines(t, rs); got != "[\"pass\",0,-1]\n[\"pass\",1,-1]\n" || end != client.ErrDeclined {
				t.Errorf("results %s end %v", got, end)
			}
			eventually(t, "analyzer deleted on the server", func() bool { return s.Analyzers() == 0 })
			if err := a.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("x")); err != client.ErrDeclined {
				t.Errorf("Data: %v", err)
			}
		})
	}
}

// An analyzer finishes once both directions are passed to the end of
// the data sent (not before the end of data is sent), or at once on
// deny, drop or fatal; then the client deletes it on the server.
func TestFinished(t *testing.T) {
	ctx := testCtx(t)
	s := serve(t, clienttest.Config{Factory: plugin(t, "testing:every_result")})
	f := dial(t, s.Addr(), client.Options{})
	a, _ := f.NewAnalyzer(ctx, nil)
	send := func(dir imp.Dir, data string) {
		t.Helper()
		if err := a.Data(ctx, dir, 0, imp.DataStream, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	send(0, "pass")
	send(1, "pass:max")
	<-a.Results()
	<-a.Results()
	if a.Err() != nil {
		t.Fatalf("ended before the end of data: %v", a.Err())
	}
	send(0, "") // passed up to 4 of 4 bytes: direction 0 is done
	rs, end := collect(t, a)
	if len(rs) != 0 || end != client.ErrFinished {
		t.Errorf("results %s end %v", jsonLines(t, rs), end)
	}
	eventually(t, "analyzer deleted on the server", func() bool { return s.Analyzers() == 0 })
	if err := a.Data(ctx, 0, 0, imp.DataStream, []byte("x")); err != client.ErrFinished {
		t.Errorf("Data after the end: %v", err)
	}
}

// A server that breaks the connection mid-stream ends every analyzer on
// it with a *ConnectionLostError (Perl's client leaves them waiting);
// the next NewAnalyzer connects again, sends the last set_interface once,
// and numbers analyzers from 1 again.
func TestServerGoneMidStreamAndReconnect(t *testing.T) {
	for _, wire := range wires {
		t.Run(wire.String(), func(t *testing.T) {
			ctx := testCtx(t)
			var mu sync.Mutex
			setIfs := map[*conn.Conn]int{}
			intercept := func(c *conn.Conn, m conn.Message) (bool, error) {
				if _, ok := m.(*conn.SetInterface); ok {
					mu.Lock()
					setIfs[c]++
					mu.Unlock()
				}
				return false, nil
			}
			s := serve(t, clienttest.Config{Factory: plugin(t, "testing:every_result"), Wire: conn.Options{Format: wire}, Intercept: intercept})
			f := dial(t, s.Addr(), client.Options{Wire: wire})
			if err := f.SetInterface(ctx, imp.Interface{DataType: imp.DataStream}); err != nil {
				t.Fatal(err)
			}
			var as []*client.Analyzer
			for range 5 {
				a, err := f.NewAnalyzer(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := a.Data(ctx, 0, 0, imp.DataStream, []byte("log")); err != nil {
					t.Fatal(err)
				}
				<-a.Results()
				as = append(as, a)
			}
			s.DropConns()
			for _, a := range as {
				_, end := collect(t, a)
				var le *client.ConnectionLostError
				if !errors.As(end, &le) || !errors.Is(end, client.ErrConnectionLost) {
					t.Errorf("analyzer %d: end %v", a.ID(), end)
				}
				if err := a.Data(ctx, 0, 0, imp.DataStream, []byte("x")); err != end {
					t.Errorf("Data after the loss: %v", err)
				}
			}
			a, err := f.NewAnalyzer(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if a.ID() != 1 {
				t.Errorf("first id after reconnecting: %d", a.ID())
			}
			if err := a.Data(ctx, 0, 0, imp.DataStream, []byte("deny")); err != nil {
				t.Fatal(err)
			}
			if rs, end := collect(t, a); len(rs) != 1 || end != client.ErrFinished {
				t.Errorf("after reconnecting: %s %v", jsonLines(t, rs), end)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(setIfs) != 2 {
				t.Fatalf("set_interface seen on %d connections", len(setIfs))
			}
			for _, n := range setIfs {
				if n != 1 {
					t.Errorf("set_interface sent %d times on a connection, want once", n)
				}
			}
			if st := f.Stats(); st.Connects != 2 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// SetInterface on a broken connection connects again and sends the new
// interface once (Perl's sends it twice).
func TestSetInterfaceReconnectsOnce(t *testing.T) {
	ctx := testCtx(t)
	var n atomic.Int64
	intercept := func(c *conn.Conn, m conn.Message) (bool, error) {
		if _, ok := m.(*conn.SetInterface); ok {
			n.Add(1)
		}
		return false, nil
	}
	s := serve(t, clienttest.Config{Factory: plugin(t, "testing:every_result"), Intercept: intercept})
	f := dial(t, s.Addr(), client.Options{})
	eventually(t, "the server has the connection", func() bool { return len(s.Conns()) == 1 })
	s.DropConns()
	eventually(t, "connection noticed gone", func() bool { return !f.Stats().Connected })
	if err := f.SetInterface(ctx, imp.Interface{DataType: imp.DataStream}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.GetInterface(ctx); err != nil { // a round trip: set_interface has arrived
		t.Fatal(err)
	}
	if n.Load() != 1 || s.Accepted() != 2 {
		t.Errorf("set_interface sent %d times over %d connections", n.Load(), s.Accepted())
	}
}

// With no server, Dial fails with the C library's text; with
// AllowUnreachable, every analyzer gets Perl's failure results for hard
// and soft; GetInterface fails; SetInterface succeeds, as Perl's.
func TestServerNotThere(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()
	missing := filepath.Join(t.TempDir(), "no-such-socket")
	cases := []struct {
		addr, text string
	}{
		{refused, "Connection refused"},
		{missing, "No such file or directory"},
	}
	for _, c := range cases {
		_, err := client.Dial(context.Background(), c.addr, client.Options{})
		var de *client.DialError
		if !errors.As(err, &de) || de.Text != c.text || de.Addr != c.addr {
			t.Errorf("Dial %s: %v, want %q", c.addr, err, c.text)
		}
		for _, mode := range []client.FailMode{client.FailHard, client.FailSoft} {
			ctx := testCtx(t)
			f, err := client.Dial(ctx, c.addr, client.Options{Fail: mode, AllowUnreachable: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.GetInterface(ctx); !errors.As(err, &de) {
				t.Errorf("GetInterface: %v", err)
			}
			if err := f.SetInterface(ctx, imp.Interface{DataType: imp.DataStream}); err != nil {
				t.Errorf("SetInterface: %v", err)
			}
			a, err := f.NewAnalyzer(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			rs, end := collect(t, a)
			want := `["fatal","connect to IMP server failed (` + c.text + `)"]` + "\n"
			if mode == client.FailSoft {
				want = `["log",0,0,0,"error","connect to IMP server failed (` + c.text + `): pass all"]` + "\n" +
					`["pass",0,-1]` + "\n" + `["pass",1,-1]` + "\n"
			}
			if got := jsonLines(t, rs); got != want || !errors.As(end, &de) {
				t.Errorf("%s %s: results\n%s\nend %v\nwant\n%s", c.addr, mode, got, end, want)
			}
			if err := a.Data(ctx, 0, 0, imp.DataStream, []byte("x")); err != end {
				t.Errorf("Data: %v", err)
			}
			closeFactory(t, f)
		}
	}
}

// countingDialer counts connection attempts.
type countingDialer struct {
	n atomic.Int64
	d net.Dialer
}

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.n.Add(1)
	return d.d.DialContext(ctx, network, addr)
}

// After a failed attempt, calls during the backoff fail at once without
// connecting; after it, the next call connects, and once the server is
// back the factory works again.
func TestReconnectBackoff(t *testing.T) {
	ctx := testCtx(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	d := &countingDialer{}
	f, err := client.Dial(ctx, addr, client.Options{AllowUnreachable: true, Dialer: d,
		Reconnect: client.Reconnect{MinBackoff: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFactory(t, f)
	for range 10 {
		a, err := f.NewAnalyzer(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, end := collect(t, a); !strings.Contains(fmt.Sprint(end), "Connection refused") {
			t.Fatalf("end %v", end)
		}
	}
	if d.n.Load() != 1 {
		t.Errorf("%d connection attempts during the backoff, want 1", d.n.Load())
	}

	// Without backoff, each call tries; the server comes back.
	d2 := &countingDialer{}
	f2, err := client.Dial(ctx, addr, client.Options{AllowUnreachable: true, Dialer: d2,
		Reconnect: client.Reconnect{MinBackoff: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFactory(t, f2)
	if _, err := f2.GetInterface(ctx); err == nil || d2.n.Load() != 2 {
		t.Fatalf("GetInterface: %v after %d attempts", err, d2.n.Load())
	}
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	s := clienttest.Serve(l, clienttest.Config{Factory: plugin(t, "testing:every_result")})
	defer s.Close()
	ifs, err := f2.GetInterface(ctx)
	if err != nil || len(ifs) != 1 {
		t.Fatalf("GetInterface after the server came back: %v %v", ifs, err)
	}
	if st := f2.Stats(); st.Connects != 1 || st.DialFailures != 2 {
		t.Errorf("stats %+v", st)
	}
}

// Many goroutines waiting for a connection share one attempt.
func TestConcurrentReconnectSharesOneAttempt(t *testing.T) {
	ctx := testCtx(t)
	s := serve(t, clienttest.Config{Factory: plugin(t, "testing:every_result")})
	d := &countingDialer{}
	f := dial(t, s.Addr(), client.Options{Dialer: d})
	eventually(t, "the server has the connection", func() bool { return len(s.Conns()) == 1 })
	s.DropConns()
	eventually(t, "connection noticed gone", func() bool { return !f.Stats().Connected })
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := f.NewAnalyzer(ctx, nil)
			if err != nil {
				t.Error(err)
				return
			}
			a.Close()
		}()
	}
	wg.Wait()
	if n := d.n.Load(); n != 2 {
		t.Errorf("%d connection attempts, want 2", n)
	}
}

// Results and exceptions for analyzers never made are logged as warnings
// and counted; for ended ones only counted (Perl drops both silently).
func TestUnknownAndStaleResults(t *testing.T) {
	ctx := testCtx(t)
	intercept := func(c *conn.Conn, m conn.Message) (bool, error) {
		if d, ok := m.(*conn.Data); ok && string(d.Data) == "unknown" {
			_, _ = c.Send(&conn.Result{ID: 999, Result: imp.Pass(0, 5)})
			_, _ = c.Send(conn.NewException(998, "who?"))
			_, _ = c.Send(&conn.Interface{})
			_, err := c.Send(&conn.Result{ID: d.ID, Result: imp.Log(0, 0, 0, imp.LogInfo, "marker")})
			return true, err
		}
		if d, ok := m.(*conn.Data); ok && string(d.Data) == "late" {
			_, _ = c.Send(&conn.Result{ID: d.ID, Result: imp.Deny(0, "no")})
			_, err := c.Send(&conn.Result{ID: d.ID, Result: imp.Pass(0, 5)})
			return true, err
		}
		return false, nil
	}
	s := serve(t, clienttest.Config{Factory: plugin(t, "testing:every_result"), Intercept: intercept})
	logger, logs := newLogger(slog.LevelWarn)
	f := dial(t, s.Addr(), client.Options{Logger: logger})
	a, _ := f.NewAnalyzer(ctx, nil)
	if err := a.Data(ctx, 0, 0, imp.DataStream, []byte("unknown")); err != nil {
		t.Fatal(err)
	}
	if r := <-a.Results(); r.Type != imp.ResultLog {
		t.Fatalf("%v", r)
	}
	for _, want := range []string{"result for an unknown analyzer", "id=999", "exception for an unknown analyzer", "id=998", "who?", "interface reply nobody asked for"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if err := a.Data(ctx, 0, 0, imp.DataStream, []byte("late")); err != nil {
		t.Fatal(err)
	}
	if rs, end := collect(t, a); len(rs) != 1 || end != client.ErrFinished {
		t.Fatalf("%s %v", jsonLines(t, rs), end)
	}
	eventually(t, "late result counted", func() bool { return f.Stats().StaleResults == 1 })
	if st := f.Stats(); st.UnknownResults != 3 {
		t.Errorf("stats %+v", st)
	}
	if strings.Count(logs.String(), "\n") != 3 {
		t.Errorf("stale result logged as a warning:\n%s", logs)
	}
}

// GetInterface handles the other RPCs that arrive while it waits (Perl's
// client closes the connection on them), and several calls get their
// answers in order.
func TestGetInterfaceDispatchesOtherRPCs(t *testing.T) {
	ctx := testCtx(t)
	var hold sync.WaitGroup
	hold.Add(1)
	intercept := func(c *conn.Conn, m conn.Message) (bool, error) {
		if _, ok := m.(*conn.GetInterface); ok {
			// Results and an exception for an analyzer come first.
			_, _ = c.Send(&conn.Result{ID: 1, Result: imp.Log(0, 0, 0, imp.LogInfo, "before")})
			_, _ = c.Send(conn.NewException(1, "not now"))
		}
		return false, nil
	}
	s := serve(t, clienttest.Config{Factory: plugin(t, "testing:every_result=results=pass"), Intercept: intercept})
	f := dial(t, s.Addr(), client.Options{})
	a, _ := f.NewAnalyzer(ctx, nil)
	var wg sync.WaitGroup
	got := make([][]imp.Interface, 3)
	offers := [][]imp.Interface{nil, {{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass, imp.ResultFatal}}}, {{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultDeny}}}}
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ifs, err := f.GetInterface(ctx, offers[i]...)
			if err != nil {
				t.Error(err)
			}
			got[i] = ifs
		}()
	}
	wg.Wait()
	if len(got[0]) != 1 || len(got[1]) != 1 || len(got[2]) != 0 {
		t.Errorf("answers %v", got)
	}
	rs, end := collect(t, a)
	var ee *client.ExceptionError
	if len(rs) != 1 || !errors.As(end, &ee) || ee.Message != "not now" {
		t.Errorf("analyzer: %s %v", jsonLines(t, rs), end)
	}
	if s.Accepted() != 1 {
		t.Errorf("%d connections", s.Accepted())
	}
}

// GetInterface returns when its context ends, and the late answer does
// not go to the next call.
func TestGetInterfaceContext(t *testing.T) {
	release := make(chan struct{})
	var first atomic.Bool
	intercept := func(c *conn.Conn, m conn.Message) (bool, error) {
		if _, ok := m.(*conn.GetInterface); ok && first.CompareAndSwap(false, true) {
			<-release // the server holds the first call
		}
		return false, nil
	}
	s := serve(t, clienttest.Config{Factory: plugin(t, "testing:every_result=results=pass"), Intercept: intercept})
	f := dial(t, s.Addr(), client.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := f.GetInterface(ctx, imp.Interface{DataType: imp.DataPacket, Results: []imp.ResultType{imp.ResultDeny}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GetInterface: %v", err)
	}
	close(release)
	ifs, err := f.GetInterface(testCtx(t))
	if err != nil || len(ifs) != 1 || !ifs[0].AnyData {
		t.Errorf("second call got %v %v", ifs, err)
	}
}

// The server's frames are read while the caller does not receive
// results: Data waits when ResultBuffer results wait, fails with ErrFull
// in Fail mode, and an analyzer whose results reach MaxPendingResults
// ends with an *OverflowError, while the connection goes on.
func TestResultBackpressure(t *testing.T) {
	ctx := testCtx(t)
	intercept := func(c *conn.Conn, m conn.Message) (bool, error) {
		if d, ok := m.(*conn.Data); ok && string(d.Data) == "flood" {
			for i := range 200 {
				if _, err := c.Send(&conn.Result{ID: d.ID, Result: imp.Log(0, int64(i), 0, imp.LogInfo, "flood")}); err != nil {
					return true, err
				}
			}
			return true, nil
		}
		return false, nil
	}
	s := serve(t, clienttest.Config{Factory: plugin(t, "testing:every_result"), Intercept: intercept})
	f := dial(t, s.Addr(), client.Options{ResultBuffer: 20, MaxPendingResults: 100})
	a, _ := f.NewAnalyzer(ctx, nil)
	feed(t, ctx, a, 20, "log")
	// 20 results wait now (a round trip: the server sent them before
	// its answer): Data waits.
	if _, err := f.GetInterface(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if err := a.Data(short, 0, 0, imp.DataStream, []byte("log")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Data with 20 results waiting: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Data(ctx, 0, 0, imp.DataStream, []byte("log")) }()
	for range 5 {
		<-a.Results()
	}
	if err := <-done; err != nil {
		t.Fatalf("Data after results were received: %v", err)
	}
	fail := dial(t, s.Addr(), client.Options{ResultBuffer: 20, WhenFull: client.WhenFullFail})
	b, _ := fail.NewAnalyzer(ctx, nil)
	feed(t, ctx, b, 20, "log")
	if _, err := fail.GetInterface(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Data(ctx, 0, 0, imp.DataStream, []byte("log")); err != client.ErrFull {
		t.Fatalf("Fail mode: %v", err)
	}

	// 200 results for one data: the analyzer overflows; another one on
	// the same connection still works.
	c, _ := f.NewAnalyzer(ctx, nil)
	if err := c.Data(ctx, 0, 0, imp.DataStream, []byte("flood")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "overflow", func() bool { return c.Err() != nil })
	var oe *client.OverflowError
	if !errors.As(c.Err(), &oe) || oe.Limit != 100 {
		t.Fatalf("end %v", c.Err())
	}
	rs, _ := collect(t, c)
	if len(rs) != 100 {
		t.Errorf("%d results before the overflow, want 100", len(rs))
	}
	d, _ := f.NewAnalyzer(ctx, nil)
	if err := d.Data(ctx, 0, 0, imp.DataStream, []byte("drop")); err != nil {
		t.Fatal(err)
	}
	if rs, end := collect(t, d); len(rs) != 1 || end != client.ErrFinished {
		t.Errorf("after the overflow: %s %v", jsonLines(t, rs), end)
	}
}

// A server that stops reading: Data waits once MaxQueued bytes are
// queued, until its context ends (or fails with ErrFull), so the queue
// stays within MaxQueued and one frame; it goes on when the server
// reads again.
func TestSendBackpressure(t *testing.T) {
	ctx := testCtx(t)
	release := make(chan struct{})
	intercept := func(c *conn.Conn, m conn.Message) (bool, error) {
		if d, ok := m.(*conn.Data); ok && strings.HasPrefix(string(d.Data), "stop") {
			<-release
		}
		return false, nil
	}
	s := serve(t, clienttest.Config{Factory: plugin(t, "testing:every_result"), Intercept: intercept})
	const maxQueued = 64 << 10
	chunk := append([]byte("stop "), make([]byte, 32<<10)...)
	f := dial(t, s.Addr(), client.Options{MaxQueued: maxQueued})
	ff := dial(t, s.Addr(), client.Options{MaxQueued: maxQueued, WhenFull: client.WhenFullFail})
	a, _ := f.NewAnalyzer(ctx, nil)
	b, _ := ff.NewAnalyzer(ctx, nil)
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	var err error
	for sent := 0; sent < 10000 && err == nil; sent++ {
		err = a.Data(short, 0, 0, imp.DataStream, chunk)
		if q := f.Stats().Queued; q > maxQueued+int64(len(chunk))+64 {
			t.Fatalf("%d bytes queued", q)
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Data never waited: %v", err)
	}
	err = nil
	for sent := 0; sent < 10000 && err == nil; sent++ {
		err = b.Data(ctx, 0, 0, imp.DataStream, chunk)
	}
	if err != client.ErrFull {
		t.Fatalf("Fail mode: %v", err)
	}
	close(release)
	for _, x := range []*client.Analyzer{a, b} {
		if err := x.Data(ctx, 0, 0, imp.DataStream, []byte("deny")); err != nil {
			t.Fatal(err)
		}
		if _, end := collect(t, x); end != client.ErrFinished {
			t.Errorf("end %v", end)
		}
	}
}

// 1,000 analyzers on one factory, fed from 100 goroutines: every result
// arrives at its analyzer, in order, on both wires.
func TestManyAnalyzersManyGoroutines(t *testing.T) {
	for _, wire := range wires {
		t.Run(wire.String(), func(t *testing.T) {
			ctx := testCtx(t)
			s, f := serveDial(t, "testing:every_result", wire)
			const analyzers, goroutines, chunks = 1000, 100, 5
			as := make([]*client.Analyzer, analyzers)
			for i := range as {
				a, err := f.NewAnalyzer(ctx, client.Meta(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1000 + i}, nil, nil).Context())
				if err != nil {
					t.Fatal(err)
				}
				as[i] = a
			}
			var wg sync.WaitGroup
			// room for every error the goroutines can report: at most one
			// per analyzer from each side, and one more per feeder
			errs := make(chan error, 2*analyzers+goroutines)
			for g := range goroutines {
				wg.Add(2)
				go func() { // feeds analyzers g, g+100, ...
					defer wg.Done()
					for c := range chunks {
						for i := g; i < analyzers; i += goroutines {
							if err := as[i].Data(ctx, imp.Dir(c%2), 0, imp.DataStream, []byte("log pass")); err != nil {
								errs <- err
								return
							}
						}
					}
					for i := g; i < analyzers; i += goroutines {
						if err := as[i].Data(ctx, 0, 0, imp.DataStream, []byte("deny")); err != nil {
							errs <- err
						}
					}
				}()
				go func() { // receives their results
					defer wg.Done()
					for i := g; i < analyzers; i += goroutines {
						rs, end := collect(t, as[i])
						if len(rs) != 2*chunks+1 || end != client.ErrFinished {
							errs <- fmt.Errorf("analyzer %d: %d results, end %v", as[i].ID(), len(rs), end)
							continue
						}
						var pos [2]int64
						for j, r := range rs[:2*chunks] {
							dir := imp.Dir(j / 2 % 2)
							if j%2 == 0 {
								pos[dir] += 8
							}
							want := imp.Log(dir, pos[dir]-8, 8, imp.LogInfo, "log message")
							if j%2 == 1 {
								want = imp.Pass(dir, pos[dir])
							}
							if r.String() != want.String() {
								errs <- fmt.Errorf("analyzer %d result %d: %v, want %v", as[i].ID(), j, r, want)
								break
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			eventually(t, "every analyzer deleted on the server", func() bool { return s.Analyzers() == 0 })
		})
	}
}

// Close of an analyzer deletes it on the server, drops its undelivered
// results and closes the channel at once; Close of the factory ends every
// analyzer with ErrClosed and leaves no goroutine behind.
func TestClose(t *testing.T) {
	ctx := testCtx(t)
	s := serve(t, clienttest.Config{Factory: plugin(t, "testing:every_result")})
	f, err := client.Dial(ctx, s.Addr(), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.NewAnalyzer(ctx, nil)
	feed(t, ctx, a, 40, "log") // more than the channel holds: a goroutine waits to deliver
	eventually(t, "results arrived", func() bool { return len(a.Results()) == 16 })
	a.Close()
	if rs, end := collect(t, a); end != client.ErrClosed || len(rs) > 16 {
		t.Errorf("after Close: %d results, %v", len(rs), end)
	}
	eventually(t, "deleted on the server", func() bool { return s.Analyzers() == 0 })
	b, _ := f.NewAnalyzer(ctx, nil)
	for range 40 {
		_ = b.Data(ctx, 0, 0, imp.DataStream, []byte("log"))
	}
	c, _ := f.NewAnalyzer(ctx, nil)
	closeFactory(t, f)
	for _, x := range []*client.Analyzer{b, c} {
		if _, end := collect(t, x); end != client.ErrClosed {
			t.Errorf("after the factory's Close: %v", end)
		}
	}
	for _, err := range []error{
		func() error { _, err := f.NewAnalyzer(ctx, nil); return err }(),
		func() error { _, err := f.GetInterface(ctx); return err }(),
		f.SetInterface(ctx, imp.Interface{}),
		c.Data(ctx, 0, 0, imp.DataStream, nil),
	} {
		if err != client.ErrClosed {
			t.Errorf("after Close: %v", err)
		}
	}
	if f.Stats().Open != 0 {
		t.Errorf("stats %+v", f.Stats())
	}
}

// Data refuses what cannot be sent, and data types a Perl server would
// drop silently unless they are allowed.
func TestDataArguments(t *testing.T) {
	ctx := testCtx(t)
	s := serve(t, clienttest.Config{Factory: plugin(t, "testing:every_result")})
	f := dial(t, s.Addr(), client.Options{DataTypes: []imp.DataType{-(80<<16 + 2)}, MaxFrameSize: 1 << 16})
	a, _ := f.NewAnalyzer(ctx, nil)
	var ae *client.ArgError
	var de *client.DataTypeError
	if err := a.Data(ctx, 2, 0, imp.DataStream, nil); !errors.As(err, &ae) || ae.Arg != "dir" {
		t.Errorf("dir 2: %v", err)
	}
	if err := a.Data(ctx, 0, -5, imp.DataStream, nil); !errors.As(err, &ae) || ae.Arg != "offset" {
		t.Errorf("offset -5: %v", err)
	}
	if err := a.Data(ctx, 0, 0, 77, []byte("x")); !errors.As(err, &de) || de.Type != 77 {
		t.Errorf("type 77: %v", err)
	}
	if err := a.Data(ctx, 0, 0, 1, make([]byte, 1<<17)); !errors.As(err, &ae) || ae.Arg != "data" {
		t.Errorf("data larger than a frame: %v", err)
	}
	if err := a.Data(ctx, 0, 0, -(80<<16 + 2), []byte("log")); err != nil {
		t.Errorf("allowed type: %v", err)
	}
	if r := <-a.Results(); r.Type != imp.ResultLog {
		t.Errorf("%v", r)
	}
}

// Options are checked, and the fail mode parses as Perl's option.
func TestOptions(t *testing.T) {
	var oe *client.OptionError
	for _, o := range []client.Options{{Wire: 7}, {Fail: 9}, {MaxQueued: -1}, {Wire: conn.Sereal, SerealProtocol: 9}} {
		if _, err := client.Dial(context.Background(), "127.0.0.1:1", o); !errors.As(err, &oe) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if _, err := client.Dial(context.Background(), "", client.Options{}); !errors.As(err, &oe) || oe.Option != "addr" {
		t.Errorf("empty addr: %v", err)
	}
	for s, want := range map[string]client.FailMode{"hard": client.FailHard, "Soft": client.FailSoft} {
		if m, err := client.ParseFailMode(s); err != nil || m != want || !strings.EqualFold(m.String(), s) {
			t.Errorf("ParseFailMode(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := client.ParseFailMode("medium"); !errors.As(err, &oe) {
		t.Errorf("medium: %v", err)
	}
}

// Meta writes addresses as imp-relay.pl does: IPv4 as IPv4 also when
// mapped into IPv6, IPv6 without brackets, ports as integers.
func TestMeta(t *testing.T) {
	m := client.Meta(
		&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.10"), Port: 40001},
		&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 3000},
		&net.UnixAddr{Name: "/run/x.sock", Net: "unix"},
	)
	m.App = "imp_proxy"
	got, err := conn.AppendJSON(nil, &conn.NewAnalyzer{ID: 1, Context: m.Context()})
	if err != nil {
		t.Fatal(err)
	}
	want := `["new_analyzer",1,{"meta":{"app":"imp_proxy","caddr":"192.0.2.10","cport":40001,"laddr":"2001:db8::1","lport":3000,"saddr":"/run/x.sock"}}]`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if m := client.Meta(nil, nil, nil); m.Context() == nil {
		t.Error("empty meta")
	}
}

// On the Sereal wire, delete_analyzer carries an id above 15 as a
// decimal string: Perl's Sereal::Decoder misreads a document that ends
// in an integer when its read ends right after the integer's tag. The
// Storable wire keeps Perl's integer.
func TestDeleteIDOnSereal(t *testing.T) {
	for _, wire := range wires {
		t.Run(wire.String(), func(t *testing.T) {
			ctx := testCtx(t)
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			f := dial(t, l.Addr().String(), client.Options{Wire: wire})
			nc, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			for i := range 17 {
				a, err := f.NewAnalyzer(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 || i == 16 {
					a.Close()
				}
			}
			w := conn.Options{Format: wire}.MustWire()
			r := w.NewReader(nc)
			var deletes [][]byte
			for len(deletes) < 2 {
				frame, err := r.ReadFrame()
				if err != nil {
					t.Fatal(err)
				}
				m, err := w.Decode(frame)
				if err != nil {
					t.Fatal(err)
				}
				if d, ok := m.(*conn.DeleteAnalyzer); ok {
					if want := []int64{1, 17}[len(deletes)]; d.ID != want {
						t.Fatalf("delete_analyzer(%d), want %d", d.ID, want)
					}
					deletes = append(deletes, slices.Clone(frame))
				}
			}
			want1, _ := w.Append(nil, &conn.DeleteAnalyzer{ID: 1})
			want17, _ := w.Append(nil, &conn.DeleteAnalyzer{ID: 17})
			if wire == conn.Sereal {
				want17, _ = w.Append(nil, &conn.Raw{Code: conn.OpDeleteAnalyzer, Args: []perl.Value{perl.Bytes("17")}})
				if !strings.HasSuffix(string(want17), "\x6217") {
					t.Fatalf("%x does not end in the string 17", want17)
				}
			}
			if !slices.Equal(deletes[0], want1) || !slices.Equal(deletes[1], want17) {
				t.Errorf("frames %x, %x, want %x, %x", deletes[0], deletes[1], want1, want17)
			}
		})
	}
}
