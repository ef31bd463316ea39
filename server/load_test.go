package server_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/server"
)

// The load client of the benchmarks: it drives an IMP RPC server (ours
// or Perl's) with data RPCs through one or more connections, one analyzer
// each, keeping up to a window of RPCs in flight, and counts the results.
// Every plugin the benchmarks use answers each data RPC with exactly one
// result, so a result frees one place in the window. It writes frames
// encoded once, as many in one write as the window allows, and reads the
// results with a conn.Reader: the same work as the plain echo's client
// (below), so that neither client is what is measured.

// loadSpec describes a load.
type loadSpec struct {
	addr    string
	wire    conn.Options
	conns   int
	size    int  // bytes of data per RPC
	total   int  // data RPCs over all connections
	window  int  // RPCs in flight per connection
	latency bool // record the round trip of each RPC (use window 1)
	payload []byte
}

// loadResult is what a load measured.
type loadResult struct {
	elapsed time.Duration
	rtts    []time.Duration // with latency
}

// windowFor returns the RPCs in flight for a size: 256, but at most 8 MiB
// of data.
func windowFor(size int) int { return max(1, min(256, (8<<20)/size)) }

// session is one connection of a load: what it sends first, the frame it
// repeats, and how it reads one reply.
type session struct {
	nc    net.Conn
	first []byte
	frame []byte
	reply func() error
}

// runLoad runs a load against an IMP RPC server.
func runLoad(ctx context.Context, ls loadSpec) (loadResult, error) {
	w, err := ls.wire.Wire()
	if err != nil {
		return loadResult{}, err
	}
	frame, err := w.Append(nil, &conn.Data{ID: 1, Type: imp.DataStream, Data: ls.payload})
	if err != nil {
		return loadResult{}, err
	}
	return run(ctx, ls, func(i int, nc net.Conn) (session, error) {
		meta := &imp.Meta{ClientAddr: "192.0.2.1", ClientPort: 40000 + i, ServerAddr: "192.0.2.2", ServerPort: 80}
		first, err := w.Append(nil, &conn.NewAnalyzer{ID: 1, Context: meta.Context()})
		if err != nil {
			return session{}, err
		}
		r := w.NewReader(nc)
		return session{nc: nc, first: first, frame: frame, reply: func() error { return readResult(r) }}, nil
	})
}

// readResult reads the next result; set_version is skipped, anything but
// a result other than deny or fatal is an error.
func readResult(r *conn.Reader) error {
	for {
		m, err := r.ReadMessage()
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *conn.SetVersion:
			continue
		case *conn.Result:
			if t := m.Result.Type; t == imp.ResultFatal || t == imp.ResultDeny {
				return errors.New("unexpected " + m.Result.String())
			}
			return nil
		case *conn.Exception:
			return errors.New("unexpected exception: " + m.Text())
		default:
			return fmt.Errorf("unexpected %s", m.Op())
		}
	}
}

// run dials the connections, makes their sessions and drives them at once.
func run(ctx context.Context, ls loadSpec, newSession func(int, net.Conn) (session, error)) (loadResult, error) {
	per := make([]int, ls.conns)
	for i := range ls.total {
		per[i%ls.conns]++
	}
	sessions := make([]session, ls.conns)
	for i := range sessions {
		nc, err := dial(ls.addr)
		if err != nil {
			return loadResult{}, err
		}
		defer nc.Close()
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
		}
		if sessions[i], err = newSession(i, nc); err != nil {
			return loadResult{}, err
		}
		if _, err := nc.Write(sessions[i].first); err != nil {
			return loadResult{}, err
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, ls.conns)
	rtts := make([][]time.Duration, ls.conns)
	for i, s := range sessions {
		wg.Go(func() { rtts[i], errs[i] = s.drive(ctx, per[i], ls.window, ls.latency) })
	}
	wg.Wait()
	res := loadResult{elapsed: time.Since(start)}
	for i := range sessions {
		if errs[i] != nil {
			return res, errs[i]
		}
		res.rtts = append(res.rtts, rtts[i]...)
	}
	return res, nil
}

// drive sends n frames, window by window (as many frames in one write as
// there are free places), and reads the replies.
func (s session) drive(ctx context.Context, n, window int, latency bool) ([]time.Duration, error) {
	slots := make(chan struct{}, window)
	var sent []time.Time
	var rtts []time.Duration
	if latency {
		sent = make([]time.Time, n)
		rtts = make([]time.Duration, 0, n)
	}
	readErr := make(chan error, 1)
	go func() {
		for i := range n {
			if err := s.reply(); err != nil {
				readErr <- fmt.Errorf("reply %d: %w", i, err)
				return
			}
			if latency {
				rtts = append(rtts, time.Since(sent[i]))
			}
			<-slots
		}
		readErr <- nil
	}()
	stop := context.AfterFunc(ctx, func() { s.nc.Close() })
	defer stop()
	var buf []byte
	for i := 0; i < n; {
		select {
		case slots <- struct{}{}:
		case err := <-readErr:
			return nil, err
		}
		buf = append(buf[:0], s.frame...)
		k := 1
	more:
		for i+k < n {
			select {
			case slots <- struct{}{}:
				buf = append(buf, s.frame...)
				k++
			default:
				break more
			}
		}
		if latency {
			sent[i] = time.Now()
		}
		if _, err := s.nc.Write(buf); err != nil {
			return nil, err
		}
		i += k
	}
	return rtts, <-readErr
}

// dial connects to a TCP address or a UNIX socket path.
func dial(addr string) (net.Conn, error) {
	network := "tcp"
	if server.IsUnixAddr(addr) {
		network = "unix"
	}
	return net.DialTimeout(network, addr, 10*time.Second)
}

// percentile returns the p-th percentile (0..100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// The plain frame echo, the limit the benchmarks are compared with:
// length-prefixed frames (a 4-byte length, then the payload) answered with
// a 16-byte frame each, no codec, no plugin, writes coalesced on both
// sides.

// echoServer serves the plain echo on l until l is closed.
func echoServer(l net.Listener) {
	for {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		go echoConn(nc)
	}
}

func echoConn(nc net.Conn) {
	defer nc.Close()
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	r := bufio.NewReaderSize(nc, 64<<10)
	w := bufio.NewWriterSize(nc, 64<<10)
	var hdr [4]byte
	reply := make([]byte, 16)
	binary.LittleEndian.PutUint32(reply, 12)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		if _, err := r.Discard(int(binary.LittleEndian.Uint32(hdr[:]))); err != nil {
			return
		}
		if _, err := w.Write(reply); err != nil {
			return
		}
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}

// runEcho drives the plain echo as runLoad drives a server.
func runEcho(ctx context.Context, ls loadSpec) (loadResult, error) {
	frame := binary.LittleEndian.AppendUint32(nil, uint32(len(ls.payload)))
	frame = append(frame, ls.payload...)
	return run(ctx, ls, func(_ int, nc net.Conn) (session, error) {
		r := bufio.NewReaderSize(nc, 64<<10)
		var reply [16]byte
		return session{nc: nc, frame: frame, reply: func() error {
			_, err := io.ReadFull(r, reply[:])
			return err
		}}, nil
	})
}
