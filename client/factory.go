package client

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

// Factory is the client side of one remote IMP plugin: one connection to
// an IMP RPC server, over which all its analyzers are multiplexed, as
// Net::IMP::Remote's factory. It is safe for use by many goroutines.
//
// When the connection breaks, its analyzers end with a
// *ConnectionLostError, and the next GetInterface, SetInterface or
// NewAnalyzer connects again (see Reconnect), sends the last interface
// set with SetInterface again, and numbers analyzers from 1 again, as
// Perl's client does.
type Factory struct {
	addr    string
	network string
	opts    Options
	stats   counters

	mu      sync.Mutex
	closed  bool
	cur     *session      // the live connection, nil when there is none
	dialing chan struct{} // closed when the attempt in progress ends
	lastErr *DialError    // the last failed attempt, nil after a success
	retryAt time.Time     // no attempt before this after a failure
	backoff time.Duration
	iface   *imp.Interface // the last interface set, sent on each new connection
	prev    *imp.Interface // the one set before it
	ifaceN  uint64         // counts SetInterface calls
	open    map[*Analyzer]struct{}

	wg sync.WaitGroup // every goroutine the factory started
}

// counters are the factory's statistics.
type counters struct {
	connects, dialFailures, unknown, stale atomic.Int64
}

// Stats are counters of a Factory since Dial.
type Stats struct {
	// Connected tells whether a connection to the server is open.
	Connected bool
	// Queued is the number of bytes waiting to be written to the
	// server.
	Queued int64
	// Connects is the number of connections made.
	Connects int64
	// DialFailures is the number of failed connection attempts.
	DialFailures int64
	// Open is the number of analyzers whose Results channel is not closed.
	Open int
	// UnknownResults counts results, exceptions and interface replies
	// for analyzers never made on the connection (or calls never made),
	// which are logged as warnings (Perl's client drops results for
	// unknown ids silently).
	UnknownResults int64
	// StaleResults counts results and exceptions for analyzers that had
	// ended (sent before the server saw their delete_analyzer).
	StaleResults int64
}

// Dial returns a Factory for the IMP RPC server at addr, connected to it:
// "host:port" or "[v6addr]:port" for TCP, a path containing "/" for a
// UNIX socket (as Net::IMP::Remote's addr). It fails with a *DialError
// when the server cannot be reached (unless Options.AllowUnreachable),
// with an *OptionError for invalid options, or with ctx's error.
func Dial(ctx context.Context, addr string, opts Options) (*Factory, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if addr == "" {
		return nil, &OptionError{Option: "addr", Msg: "no address given"}
	}
	f := &Factory{addr: addr, network: "tcp", opts: o, open: make(map[*Analyzer]struct{})}
	if strings.Contains(addr, "/") {
		f.network = "unix"
	}
	if _, err := f.session(ctx); err != nil {
		var de *DialError
		if errors.As(err, &de) && o.AllowUnreachable {
			return f, nil
		}
		return nil, err
	}
	return f, nil
}

// Addr returns the server's address as given to Dial.
func (f *Factory) Addr() string { return f.addr }

// Stats returns the factory's counters.
func (f *Factory) Stats() Stats {
	f.mu.Lock()
	open, cur := len(f.open), f.cur
	f.mu.Unlock()
	var queued int64
	if cur != nil {
		queued = cur.c.Queued()
	}
	return Stats{
		Connected:      cur != nil,
		Queued:         queued,
		Connects:       f.stats.connects.Load(),
		DialFailures:   f.stats.dialFailures.Load(),
		Open:           open,
		UnknownResults: f.stats.unknown.Load(),
		StaleResults:   f.stats.stale.Load(),
	}
}

// GetInterface asks the server which of the offered interfaces its
// plugin supports (all of its own when none are offered) and waits for
// the answer, the one call that does. It returns the supported
// interfaces; an *ExceptionError when the server answers with an
// exception (the connection is then closed, as Perl's client does); a
// *DialError when the server cannot be reached (Perl's returns an empty
// list); ctx's error. Other RPCs that arrive meanwhile are handled as
// always (Perl's client closes the connection on them).
func (f *Factory) GetInterface(ctx context.Context, offered ...imp.Interface) ([]imp.Interface, error) {
	s, err := f.session(ctx)
	if err != nil {
		return nil, err
	}
	w, err := s.getInterface(offered)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-w.ch:
		return r.ifs, r.err
	case <-ctx.Done():
		// The answer, when it comes, goes to w and is dropped.
		return nil, ctx.Err()
	}
}

// SetInterface tells the server which interface the data provider will
// use, without waiting for an answer: a server that cannot serve it
// answers with exception(0, "set_interface: unsupported interface"),
// which ends the connection and its analyzers with an *ExceptionError.
// The interface is remembered and sent again on every new connection;
// one the server refused is forgotten (the one set before it is sent
// instead).
// When the server cannot be reached, SetInterface returns nil, as Perl's
// reports success; new analyzers show the failure.
func (f *Factory) SetInterface(ctx context.Context, want imp.Interface) error {
	want.Results = slices.Clone(want.Results)
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return ErrClosed
	}
	f.prev, f.iface = f.iface, &want
	f.ifaceN++
	f.mu.Unlock()
	s, err := f.session(ctx)
	var de *DialError
	switch {
	case errors.As(err, &de):
		return nil
	case err != nil:
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sendInterface(s)
}

// refused forgets the last interface set when s, which the server
// closes with exception(0, "set_interface: unsupported interface"), was
// the connection it was sent on: the next connection gets the one set
// before it (or none), where Perl's client sends the refused one again,
// to be refused again.
func (f *Factory) refused(s *session) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.iface != nil && s.ifaceGen == f.ifaceN {
		f.iface, f.prev = f.prev, nil
		f.ifaceN++
	}
}

// sendInterface sends the last interface set to s unless it has it; f.mu
// is held.
func (f *Factory) sendInterface(s *session) error {
	if f.iface == nil || s.ifaceGen == f.ifaceN {
		return nil
	}
	s.ifaceGen = f.ifaceN
	_, err := s.c.Send(&conn.SetInterface{Interface: *f.iface})
	var ce *conn.ClosedError
	if errors.As(err, &ce) {
		return nil // the next connection gets it
	}
	return err
}

// NewAnalyzer makes an analyzer on the server for one inspected
// connection, described by impContext: {meta => {...}} as Perl data
// providers send it (Meta(...).Context() makes it from the connection's
// addresses; any Perl value is sent as it is, but Perl plugins accept no
// top-level key other than meta, see imp.ParseContext). It does not wait for the server; it waits only to connect when
// there is no connection (see Reconnect).
//
// When the server cannot be reached, NewAnalyzer still returns an
// analyzer, with the results of Options.Fail and the *DialError as its
// end reason, as Perl's client does. It returns an error only for a
// closed factory, a context that cannot be encoded, or when ctx is done
// while connecting.
func (f *Factory) NewAnalyzer(ctx context.Context, impContext perl.Value) (*Analyzer, error) {
	s, err := f.session(ctx)
	var de *DialError
	if errors.As(err, &de) {
		a := newAnalyzer(f, nil)
		if err := f.track(a); err != nil {
			return nil, err
		}
		a.failWith(de)
		return a, nil
	}
	if err != nil {
		return nil, err
	}
	a := newAnalyzer(f, s)
	if err := f.track(a); err != nil {
		return nil, err
	}
	id, err := s.add(a)
	if err != nil {
		a.halt(err)
		return nil, err
	}
	a.id = id
	if _, err := s.c.Send(&conn.NewAnalyzer{ID: id, Context: impContext}); err != nil {
		s.reg.Delete(id)
		var ce *conn.ClosedError
		if !errors.As(err, &ce) {
			a.halt(err)
			return nil, err
		}
		a.end(s.reasonFor(ce.Cause))
	}
	return a, nil
}

// track adds a to the factory's open analyzers.
func (f *Factory) track(a *Analyzer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	f.open[a] = struct{}{}
	return nil
}

// forget removes an analyzer whose channel is closed.
func (f *Factory) forget(a *Analyzer) {
	f.mu.Lock()
	delete(f.open, a)
	f.mu.Unlock()
}

// Close closes the connection and ends every analyzer with ErrClosed
// (results not yet received are dropped), and waits for every goroutine
// of the factory. Later calls fail with ErrClosed. Close always returns
// nil.
func (f *Factory) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		f.wg.Wait()
		return nil
	}
	f.closed = true
	s := f.cur
	open := make([]*Analyzer, 0, len(f.open))
	for a := range f.open {
		open = append(open, a)
	}
	f.mu.Unlock()
	if s != nil {
		s.c.Close(ErrClosed)
	}
	for _, a := range open {
		a.halt(ErrClosed)
	}
	f.wg.Wait()
	return nil
}

// session returns the live connection, connecting when there is none and
// no backoff is running.
func (f *Factory) session(ctx context.Context) (*session, error) {
	f.mu.Lock()
	for {
		switch {
		case f.closed:
			f.mu.Unlock()
			return nil, ErrClosed
		case f.cur != nil:
			s := f.cur
			f.mu.Unlock()
			return s, nil
		case f.dialing != nil:
			ch := f.dialing
			f.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			f.mu.Lock()
			continue
		case f.lastErr != nil && time.Now().Before(f.retryAt):
			err := f.lastErr
			f.mu.Unlock()
			return nil, err
		}
		ch := make(chan struct{})
		f.dialing = ch
		f.mu.Unlock()
		s, err := f.connect(ctx)
		f.mu.Lock()
		f.dialing = nil
		close(ch)
		if err != nil {
			if ctx.Err() != nil {
				f.mu.Unlock()
				return nil, ctx.Err()
			}
			var de *DialError
			if errors.As(err, &de) {
				f.failed(de)
			}
			f.mu.Unlock()
			return nil, err
		}
		if f.closed {
			f.mu.Unlock()
			s.c.Close(ErrClosed)
			return nil, ErrClosed
		}
		f.cur = s
		f.lastErr, f.backoff = nil, 0
		f.stats.connects.Add(1)
		if err := f.sendInterface(s); err != nil {
			f.opts.Logger.Warn("imprpc client: cannot send the interface again", "addr", f.addr, "error", err)
		}
		f.wg.Add(1)
		go s.watch()
		f.mu.Unlock()
		return s, nil
	}
}

// failed records a failed connection attempt and starts its backoff;
// f.mu is held.
func (f *Factory) failed(err *DialError) {
	f.stats.dialFailures.Add(1)
	f.lastErr = err
	r := f.opts.Reconnect
	if r.MinBackoff < 0 {
		f.backoff = 0
	} else if f.backoff == 0 {
		f.backoff = r.MinBackoff
	} else {
		f.backoff = min(2*f.backoff, r.MaxBackoff)
	}
	f.retryAt = time.Now().Add(f.backoff)
	f.opts.Logger.Warn("imprpc client: cannot connect", "addr", f.addr, "error", err.Text, "retry_in", f.backoff)
}

// connect makes a connection to the server.
func (f *Factory) connect(ctx context.Context) (*session, error) {
	dctx, cancel := context.WithTimeout(ctx, f.opts.DialTimeout)
	defer cancel()
	nc, err := f.opts.Dialer.DialContext(dctx, f.network, f.addr)
	if err != nil {
		return nil, &DialError{Addr: f.addr, Text: strerror(err), Err: err}
	}
	s := &session{f: f, ready: make(chan struct{})}
	c, err := conn.Client(nc, s, f.opts.connConfig())
	if err != nil {
		nc.Close()
		return nil, err
	}
	s.c = c
	close(s.ready)
	return s, nil
}

// detach forgets s as the live connection.
func (f *Factory) detach(s *session) {
	f.mu.Lock()
	if f.cur == s {
		f.cur = nil
	}
	f.mu.Unlock()
}

// typeKnown reports whether Data may send data of type t.
func (f *Factory) typeKnown(t imp.DataType) bool {
	if t == imp.DataStream || t == imp.DataPacket || slices.Contains(f.opts.DataTypes, t) {
		return true
	}
	return slices.Contains(imp.DataTypes(), t)
}
