package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

// checkNoLeak fails the test if goroutines of this package are still
// running when it ends (after the test's own cleanups).
func checkNoLeak(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			buf := make([]byte, 1<<20)
			stacks := string(buf[:runtime.Stack(buf, true)])
			leaked := ""
			for _, g := range strings.Split(stacks, "\n\n") {
				if strings.Contains(g, "conn.(*Conn).") {
					leaked = g
					break
				}
			}
			if leaked == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("goroutine left running:\n%s", leaked)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// recorder is a Handler that keeps what it gets.
type recorder struct {
	mu   sync.Mutex
	msgs []Message
	errs []error
	got  chan struct{} // gets a value per message, if not nil
}

func (r *recorder) HandleMessage(c *Conn, m Message) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	if r.got != nil {
		r.got <- struct{}{}
	}
	return nil
}

func (r *recorder) messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.msgs...)
}

// pair returns a server and a client Conn connected by a network
// connection of kind "pipe" or "tcp".
func pair(t *testing.T, kind string, cfg *Config, sh, ch Handler) (srv, cli *Conn) {
	t.Helper()
	var a, b net.Conn
	switch kind {
	case "pipe":
		a, b = net.Pipe()
	case "tcp":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Skipf("no loopback TCP: %v", err)
		}
		defer l.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			c, _ := l.Accept()
			accepted <- c
		}()
		if b, err = net.Dial("tcp", l.Addr().String()); err != nil {
			t.Fatal(err)
		}
		if a = <-accepted; a == nil {
			t.Fatal("accept failed")
		}
	}
	var err error
	if srv, err = Server(a, sh, cfg); err != nil {
		t.Fatal(err)
	}
	if cli, err = Client(b, ch, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close(nil)
		cli.Close(nil)
	})
	return srv, cli
}

// Many goroutines on both sides exchange tens of thousands of frames over
// net.Pipe and loopback TCP: each side receives every frame once, and the
// frames of each sending goroutine in the order it sent them.
func TestConnExchange(t *testing.T) {
	for _, kind := range []string{"pipe", "tcp"} {
		for _, f := range []Format{Storable, Sereal} {
			t.Run(kind+"/"+f.String(), func(t *testing.T) {
				checkNoLeak(t)
				const senders, perSender = 16, 2000
				type seq struct{ next [senders]int64 }
				var mu sync.Mutex
				var srvSeen, cliSeen seq
				var failures []string
				fail := func(s string) {
					mu.Lock()
					failures = append(failures, s)
					mu.Unlock()
				}
				all := make(chan struct{}, 2*senders*perSender)
				srvH := HandlerFunc(func(c *Conn, m Message) error {
					d, ok := m.(*Data)
					if !ok {
						fail(fmt.Sprintf("server got %T", m))
						return nil
					}
					if want := fmt.Sprintf("payload %d/%d", d.ID, d.Offset); string(d.Data) != want {
						fail(fmt.Sprintf("server got %q, want %q", d.Data, want))
					}
					mu.Lock()
					if srvSeen.next[d.ID] != d.Offset {
						failures = append(failures, fmt.Sprintf("server: sender %d: got %d, want %d", d.ID, d.Offset, srvSeen.next[d.ID]))
					}
					srvSeen.next[d.ID] = d.Offset + 1
					mu.Unlock()
					all <- struct{}{}
					return nil
				})
				cliH := HandlerFunc(func(c *Conn, m Message) error {
					r, ok := m.(*Result)
					if !ok {
						fail(fmt.Sprintf("client got %T", m))
						return nil
					}
					off, _ := r.Result.Offset()
					mu.Lock()
					if cliSeen.next[r.ID] != off {
						failures = append(failures, fmt.Sprintf("client: sender %d: got %d, want %d", r.ID, off, cliSeen.next[r.ID]))
					}
					cliSeen.next[r.ID] = off + 1
					mu.Unlock()
					all <- struct{}{}
					return nil
				})
				srv, cli := pair(t, kind, &Config{Wire: Options{Format: f}}, srvH, cliH)
				var wg sync.WaitGroup
				for g := 0; g < senders; g++ {
					wg.Add(2)
					go func() {
						defer wg.Done()
						d := &Data{ID: int64(g), Type: imp.DataStream}
						for i := 0; i < perSender; i++ {
							d.Offset = int64(i)
							d.Data = fmt.Appendf(d.Data[:0], "payload %d/%d", g, i)
							if _, err := cli.Send(d); err != nil {
								fail(err.Error())
								return
							}
						}
					}()
					go func() {
						defer wg.Done()
						for i := 0; i < perSender; i++ {
							if _, err := srv.Send(&Result{ID: int64(g), Result: imp.Pass(0, int64(i))}); err != nil {
								fail(err.Error())
								return
							}
						}
					}()
				}
				wg.Wait()
				timeout := time.After(time.Minute)
				for i := 0; i < 2*senders*perSender; i++ {
					select {
					case <-all:
					case <-timeout:
						t.Fatalf("only %d of %d frames arrived", i, 2*senders*perSender)
					}
				}
				for g := 0; g < senders; g++ {
					if srvSeen.next[g] != perSender || cliSeen.next[g] != perSender {
						t.Errorf("sender %d: server saw %d, client saw %d", g, srvSeen.next[g], cliSeen.next[g])
					}
				}
				for _, f := range failures[:min(len(failures), 10)] {
					t.Error(f)
				}
				if cli.PeerVersion() != 1 || srv.PeerVersion() != 0 {
					t.Errorf("peer versions: client saw %d, server saw %d", cli.PeerVersion(), srv.PeerVersion())
				}
				if err := cli.Close(nil); err != nil {
					t.Fatal(err)
				}
				if _, err := cli.Send(&DeleteAnalyzer{ID: 1}); !errors.Is(err, ErrClosed) {
					t.Errorf("Send after Close: %v", err)
				}
				select {
				case <-srv.Done():
				case <-time.After(10 * time.Second):
					t.Fatal("server side did not see the close")
				}
				if err := srv.Err(); !errors.Is(err, ErrClosed) || !errors.Is(err, io.EOF) {
					t.Errorf("server side: %v, want closed by the peer", err)
				}
			})
		}
	}
}

// scriptedPeer is the other end of a Conn, driven by the test with raw
// frames.
func scriptedPeer(t *testing.T, role Role, h Handler, cfg *Config) (*Conn, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	var c *Conn
	var err error
	if role == RoleServer {
		c, err = Server(a, h, cfg)
	} else {
		c, err = Client(a, h, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Close()
		c.Close(nil)
	})
	return c, b
}

func frames(t *testing.T, w Wire, msgs ...Message) []byte {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = w.Append(b, m); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func waitDone(t *testing.T, c *Conn) error {
	t.Helper()
	select {
	case <-c.Done():
		return c.Err()
	case <-time.After(10 * time.Second):
		t.Fatal("connection did not close")
	}
	return nil
}

// The server's first frame is set_version(1); the client passes on what
// follows and never the set_version.
func TestHandshake(t *testing.T) {
	checkNoLeak(t)
	w := Options{}.MustWire()
	t.Run("server greets first", func(t *testing.T) {
		_, peer := scriptedPeer(t, RoleServer, &recorder{}, nil)
		m, err := w.NewReader(peer).ReadMessage()
		if v, ok := m.(*SetVersion); err != nil || !ok || v.Version != 1 {
			t.Fatalf("first frame %#v, %v", m, err)
		}
	})
	for _, tt := range []struct {
		name string
		in   []Message
	}{
		{"set_version first", []Message{&SetVersion{Version: 1}, &Interface{}, NewException(0, "x")}},
		{"no set_version", []Message{&Interface{}, NewException(0, "x")}},
		{"set_version in the middle, twice", []Message{&Interface{}, &SetVersion{Version: 1}, &SetVersion{Version: 1}, NewException(0, "x")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{got: make(chan struct{}, 10)}
			c, peer := scriptedPeer(t, RoleClient, rec, nil)
			go peer.Write(frames(t, w, tt.in...))
			for range 2 {
				select {
				case <-rec.got:
				case <-time.After(10 * time.Second):
					t.Fatal("messages did not arrive")
				}
			}
			got := rec.messages()
			if _, ok := got[0].(*Interface); !ok {
				t.Errorf("first message %T", got[0])
			}
			if _, ok := got[1].(*Exception); !ok || len(got) != 2 {
				t.Errorf("messages %#v", got)
			}
			if c.Err() != nil {
				t.Errorf("closed: %v", c.Err())
			}
		})
	}
	t.Run("wrong version", func(t *testing.T) {
		rec := &recorder{}
		c, peer := scriptedPeer(t, RoleClient, rec, nil)
		go peer.Write(frames(t, w, &SetVersion{Version: 2}, &Interface{}))
		err := waitDone(t, c)
		var ve *VersionError
		if !errors.As(err, &ve) || ve.Version != 2 || !strings.Contains(err.Error(), "wrong version 2, can do 1 only") {
			t.Errorf("close cause %v", err)
		}
		if len(rec.messages()) != 0 {
			t.Errorf("messages after a wrong version: %v", rec.messages())
		}
	})
}

// Unknown ops close the connection unless the Handler takes frame errors;
// an unknown op, result type or log level is sent back only after the peer
// sent it.
func TestUnknownConstants(t *testing.T) {
	checkNoLeak(t)
	w := Options{}.MustWire()
	unknownOp := &Raw{Code: 0x4999, Args: []perl.Value{perl.Int(1)}}
	t.Run("unknown op closes", func(t *testing.T) {
		c, peer := scriptedPeer(t, RoleServer, &recorder{}, nil)
		go io.Copy(io.Discard, peer)
		go peer.Write(frames(t, w, unknownOp))
		var ue *UnknownOpError
		if err := waitDone(t, c); !errors.As(err, &ue) || ue.Op != 0x4999 {
			t.Errorf("close cause %v", err)
		}
	})
	t.Run("frame error handler", func(t *testing.T) {
		h := &frameErrs{recorder: recorder{got: make(chan struct{}, 10)}}
		c, peer := scriptedPeer(t, RoleServer, h, nil)
		go io.Copy(io.Discard, peer)
		if _, err := c.Send(unknownOp); err == nil {
			t.Error("unknown op sent before the peer sent it")
		}
		res := &Result{ID: 1, Result: imp.Result{Type: 0x9999}}
		logRes := &Result{ID: 1, Result: imp.Log(0, 0, 0, 9, "x")}
		for _, m := range []Message{res, logRes, &Interface{Interfaces: []imp.Interface{{DataType: -1, Results: []imp.ResultType{0x7777}}}}} {
			var ue *UnknownToPeerError
			if _, err := c.Send(m); !errors.As(err, &ue) {
				t.Errorf("Send(%v): %v, want refused", m, err)
			}
		}
		go peer.Write(frames(t, w, unknownOp, res, logRes, &Interface{Interfaces: []imp.Interface{{DataType: -1, Results: []imp.ResultType{0x7777}}}}))
		for range 3 {
			select {
			case <-h.got:
			case <-time.After(10 * time.Second):
				t.Fatal("messages did not arrive")
			}
		}
		if len(h.errs) != 1 {
			t.Fatalf("frame errors %v", h.errs)
		}
		for _, m := range []Message{unknownOp, res, logRes, &Interface{Interfaces: []imp.Interface{{DataType: -1, Results: []imp.ResultType{0x7777}}}}} {
			if _, err := c.Send(m); err != nil {
				t.Errorf("Send(%v) after the peer sent it: %v", m, err)
			}
		}
	})
}

type frameErrs struct {
	recorder
}

func (h *frameErrs) HandleFrameError(c *Conn, err error) error {
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
	return nil
}

// countingConn counts the writes to a net.Conn and can hold them.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes int
	gate   chan struct{} // a write waits for a value, if not nil
}

func (c *countingConn) Write(b []byte) (int, error) {
	if c.gate != nil {
		<-c.gate
	}
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// Small frames queued while a write is under way go out together in the
// next write, and WaitQueued, WaitWritten and Flush follow the writer.
func TestWriteCoalescingAndBackpressure(t *testing.T) {
	checkNoLeak(t)
	a, b := net.Pipe()
	cc := &countingConn{Conn: a, gate: make(chan struct{})}
	c, err := Client(cc, &recorder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(nil)
	defer b.Close()
	var got bytes.Buffer
	readDone := make(chan struct{})
	go func() {
		io.Copy(&got, b)
		close(readDone)
	}()

	d := &Data{ID: 1, Type: imp.DataStream, Data: []byte("0123456789")}
	first, err := c.Send(d) // the writer takes it and waits at the gate
	if err != nil {
		t.Fatal(err)
	}
	var end int64
	for i := 0; i < 999; i++ {
		d.Offset = int64(i + 1)
		if end, err = c.Send(d); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	if err := c.WaitQueued(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitQueued with a stuck writer: %v", err)
	}
	cancel()
	if q := c.Queued(); q != end {
		t.Errorf("Queued() = %d, want %d", q, end)
	}
	close(cc.gate) // let every write through
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitWritten(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitQueued(ctx, 0); err != nil || c.Written() != end {
		t.Fatalf("after Flush: %v, written %d of %d", err, c.Written(), end)
	}
	cc.mu.Lock()
	writes := cc.writes
	cc.mu.Unlock()
	if writes > 3 {
		t.Errorf("1000 small frames took %d writes", writes)
	}
	c.Close(nil)
	<-readDone
	r := c.Wire().NewReader(&got)
	for i := 0; i < 1000; i++ {
		m, err := r.ReadMessage()
		if err != nil || m.(*Data).Offset != int64(i) {
			t.Fatalf("frame %d: %v %v", i, m, err)
		}
	}
}

// Every waiting call sees the close and its cause; Close from inside a
// Handler does not deadlock.
func TestCloseCause(t *testing.T) {
	checkNoLeak(t)
	a, b := net.Pipe()
	defer b.Close()
	c, err := Client(a, &recorder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := c.Send(&DeleteAnalyzer{ID: 1}) // nobody reads b: stays queued
	waitErr := make(chan error, 2)
	go func() { waitErr <- c.WaitWritten(context.Background(), pos) }()
	go func() { waitErr <- c.WaitQueued(context.Background(), 0) }()
	reason := errors.New("shutting down")
	c.Close(reason)
	for range 2 {
		err := <-waitErr
		var ce *ClosedError
		if !errors.Is(err, ErrClosed) || !errors.Is(err, reason) || !errors.As(err, &ce) || ce.Cause != reason {
			t.Errorf("waiter got %v", err)
		}
	}
	if err := c.Err(); err.Error() != "conn: connection closed: shutting down" {
		t.Errorf("Err() = %v", err)
	}

	// A Handler that closes its connection.
	w := Options{}.MustWire()
	handlerErr := errors.New("handler gave up")
	c2, peer := scriptedPeer(t, RoleClient, HandlerFunc(func(c *Conn, m Message) error {
		if _, ok := m.(*Exception); ok {
			return handlerErr
		}
		return c.Close(errors.New("closed in handler"))
	}), nil)
	go peer.Write(frames(t, w, &Interface{}))
	if err := waitDone(t, c2); !strings.Contains(err.Error(), "closed in handler") {
		t.Errorf("cause %v", err)
	}
	c3, peer3 := scriptedPeer(t, RoleClient, HandlerFunc(func(c *Conn, m Message) error { return handlerErr }), nil)
	go peer3.Write(frames(t, w, NewException(1, "x")))
	if err := waitDone(t, c3); !errors.Is(err, handlerErr) {
		t.Errorf("cause %v", err)
	}
}

// Queuing a data frame allocates nothing once the queue's buffers have
// grown.
func TestSendDataAllocs(t *testing.T) {
	checkNoLeak(t)
	for _, f := range []Format{Storable, Sereal} {
		a, b := net.Pipe()
		go io.Copy(io.Discard, b)
		c, err := Client(a, &recorder{}, &Config{Wire: Options{Format: f}})
		if err != nil {
			t.Fatal(err)
		}
		d := &Data{ID: 12345, Dir: 1, Offset: 1 << 33, Type: imp.DataStream, Data: make([]byte, 1024)}
		ctx := context.Background()
		for range 3 {
			for range 2000 {
				c.Send(d)
			}
			c.Flush(ctx)
		}
		allocs := testing.AllocsPerRun(1000, func() {
			d.Offset++
			if _, err := c.Send(d); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per data frame", f, allocs)
		}
		c.Close(nil)
		b.Close()
	}
}

// A Handler that panics closes its connection, not the program; a peer
// that stops reading for WriteTimeout closes it too.
func TestHandlerPanicAndWriteTimeout(t *testing.T) {
	checkNoLeak(t)
	w := Options{}.MustWire()
	c, peer := scriptedPeer(t, RoleClient, HandlerFunc(func(c *Conn, m Message) error { panic("plugin bug") }), nil)
	go peer.Write(frames(t, w, &Interface{}))
	if err := waitDone(t, c); !strings.Contains(err.Error(), "handler panicked: plugin bug") {
		t.Errorf("cause %v", err)
	}

	c2, _ := scriptedPeer(t, RoleClient, &recorder{}, &Config{WriteTimeout: 50 * time.Millisecond})
	if _, err := c2.Send(&DeleteAnalyzer{ID: 1}); err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, c2); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("cause %v", err)
	}
}
