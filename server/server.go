package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// Defaults of the Server's limits.
const (
	// DefaultMaxBuffered is the default of Server.MaxBuffered, raised
	// to twice the largest frame when that is more.
	DefaultMaxBuffered = 64 << 20
	// DefaultMaxAnalyzers is the default of Server.MaxAnalyzers.
	DefaultMaxAnalyzers = 100_000
	// DefaultCallTimeout is the default of Server.CallTimeout.
	DefaultCallTimeout = 10 * time.Second
	// DefaultUnixSocketMode is the default of Server.UnixSocketMode.
	DefaultUnixSocketMode os.FileMode = 0o600
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown
// or Close.
var ErrServerClosed = errors.New("server: server closed")

// Server serves an IMP plugin to IMP RPC clients. Its fields are its
// configuration: set them before Serve and do not change them afterwards.
// The zero value of every field but Factory is usable and means the
// default.
type Server struct {
	// Factory is the plugin: it makes an analyzer for each new_analyzer
	// of a client. Each connection starts with it; set_interface on a
	// connection replaces it for that connection only. OpenPlugins makes
	// one from command-line plugin specs as imprpc_server.pl does.
	Factory imp.Factory

	// Wire is the wire format (Storable by default, as Net::IMP::Remote)
	// and its limits: Wire.MaxFrameSize bounds every frame read and
	// written (conn.DefaultMaxFrameSize when 0).
	Wire conn.Options

	// MaxBuffered bounds the bytes held for one connection: data read
	// and not yet given to its analyzer, and results queued and not yet
	// written to the client. Past it, the analyzers holding the most are
	// failed with fatal (and logged) until the analyzers left hold at
	// most half of it; if results of failed analyzers alone keep the
	// connection above twice the limit (a client that does not read),
	// the connection is closed. 0 means DefaultMaxBuffered or twice
	// the largest frame, whichever is more; a negative value means no
	// limit.
	MaxBuffered int64

	// MaxAnalyzers bounds the analyzers of one connection; new_analyzer
	// beyond it gets an exception. 0 means DefaultMaxAnalyzers, a
	// negative value no limit.
	MaxAnalyzers int

	// CallTimeout is how long one call into the plugin (NewAnalyzer or
	// Data of an analyzer, or a Negotiator's GetInterface or
	// SetInterface) may take. An analyzer whose call takes longer is
	// failed with fatal; the call's goroutine is left to return when it
	// will. 0 means DefaultCallTimeout, a negative value no limit.
	CallTimeout time.Duration

	// IdleTimeout closes a connection that has no analyzers and has
	// received nothing for this long. 0 means never: a Perl data
	// provider keeps its connection open between inspected connections
	// (and reconnects on its next new_analyzer when it was closed).
	IdleTimeout time.Duration

	// WriteTimeout is how long a write to a client may make no progress
	// before the connection is closed (conn.Config.WriteTimeout: 0 means
	// conn.DefaultWriteTimeout, a negative value no limit).
	WriteTimeout time.Duration

	// UnixSocketMode is the permission of the UNIX sockets that Listen
	// and ListenAndServe create; 0 means DefaultUnixSocketMode (0600).
	UnixSocketMode os.FileMode

	// Logger receives the server's logs; nil means slog.Default().
	// Every RPC read and written is logged at debug level.
	Logger *slog.Logger

	mu        sync.Mutex
	listeners map[*net.Listener]struct{}
	sessions  map[*session]struct{}
	closing   bool          // Shutdown or Close was called
	quit      chan struct{} // closed with closing
	watchOnce sync.Once
	watchDone chan struct{}  // closed when the watchdog ends (nil if none)
	workers   sync.WaitGroup // analyzer worker goroutines
	sessWG    sync.WaitGroup // session teardown goroutines
	aborting  bool           // connections are being closed (Close, or Shutdown past its context); guarded by mu
	connSeq   atomic.Uint64  // numbers the connections in the logs
}

// logger returns the Logger or the default.
func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// limit returns the effective value of a limit field: v when positive,
// def for 0, and -1 (none) for a negative v.
func limit[T ~int | ~int64](v, def T) T {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return v
	}
	return def
}

// maxBuffered returns the effective buffer limit, -1 for none.
func (s *Server) maxBuffered() int64 {
	frame := int64(s.Wire.MaxFrameSize)
	if frame <= 0 {
		frame = conn.DefaultMaxFrameSize
	}
	return limit(s.MaxBuffered, max(DefaultMaxBuffered, 2*frame))
}

// maxAnalyzers returns the effective analyzer limit, -1 for none.
func (s *Server) maxAnalyzers() int { return limit(s.MaxAnalyzers, DefaultMaxAnalyzers) }

// callTimeout returns the effective call timeout, 0 for none.
func (s *Server) callTimeout() time.Duration { return max(0, limit(s.CallTimeout, DefaultCallTimeout)) }

// check validates the configuration before anything is served.
func (s *Server) check() error {
	if s.Factory == nil {
		return errors.New("server: no Factory")
	}
	if _, err := s.Wire.Wire(); err != nil {
		return fmt.Errorf("server: Wire: %w", err)
	}
	return nil
}

// init sets up the server's state once.
func (s *Server) init() {
	if s.quit == nil {
		s.quit = make(chan struct{})
		s.listeners = make(map[*net.Listener]struct{})
		s.sessions = make(map[*session]struct{})
	}
}

// Serve accepts connections on l and serves each in goroutines of its
// own, until l fails or the server is shut down or closed; it then
// returns ErrServerClosed (or the error of l), having closed l. Serve may
// run for several listeners at once.
func (s *Server) Serve(l net.Listener) error {
	if err := s.check(); err != nil {
		l.Close()
		return err
	}
	s.mu.Lock()
	s.init()
	if s.closing {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[&l] = struct{}{}
	s.mu.Unlock()
	s.startWatchdog()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, &l)
		s.mu.Unlock()
		l.Close()
	}()

	log := s.logger()
	var delay time.Duration // after a failed Accept, as net/http does
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			log.Warn("imprpc server: accept failed; retrying", "topic", topicListen, "addr", l.Addr().String(), "err", err, "retry_in", delay)
			select {
			case <-time.After(delay):
			case <-s.quit:
				return ErrServerClosed
			}
			continue
		}
		delay = 0
		s.serveConn(nc, l.Addr())
	}
}

// ListenAndServe listens on addr (see Listen) and serves it.
func (s *Server) ListenAndServe(addr string) error {
	if err := s.check(); err != nil {
		return err
	}
	l, err := s.Listen(addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// serveConn starts serving one connection accepted on local.
func (s *Server) serveConn(nc net.Conn, local net.Addr) {
	log := s.logger().With("conn", s.connSeq.Add(1), "remote", remoteName(nc, local))
	ss := newSession(s, log)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.sessions[ss] = struct{}{}
	s.sessWG.Add(1)
	s.mu.Unlock()

	c, err := conn.Server(newReadAhead(nc), ss, &conn.Config{Wire: s.Wire, WriteTimeout: s.WriteTimeout, Logger: log})
	if err != nil { // the options were checked: this is not expected
		log.Error("imprpc server: cannot serve the connection", "topic", topicConn, "err", err)
		nc.Close()
		s.dropSession(ss)
		s.sessWG.Done()
		return
	}
	// Close and an expired Shutdown close the connections of the sessions
	// they see; one whose conn is stored after they looked closes itself.
	s.mu.Lock()
	ss.c.Store(c)
	abort := s.aborting
	s.mu.Unlock()
	if abort {
		ss.close(errServerClosing)
	}
	log.Debug("imprpc server: connection accepted", "topic", topicConn)
	go func() {
		defer s.sessWG.Done()
		ss.serve(c)
		s.dropSession(ss)
	}()
}

func (s *Server) dropSession(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss)
	s.mu.Unlock()
}

// remoteName names the peer of nc for logs: its address, or, for a UNIX
// client, which has no name of its own, the socket it connected to.
func remoteName(nc net.Conn, local net.Addr) string {
	if a := nc.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.String()
	}
	return local.Network() + ":" + local.String()
}

// snapshot returns the current sessions.
func (s *Server) snapshot() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.sessions))
}

// stopAccepting marks the server closing and closes its listeners; it
// returns the first error of closing them.
func (s *Server) stopAccepting() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if !s.closing {
		s.closing = true
		close(s.quit)
	}
	var first error
	for l := range s.listeners {
		if err := (*l).Close(); err != nil && first == nil && !errors.Is(err, net.ErrClosed) {
			first = err
		}
		delete(s.listeners, l)
	}
	return first
}

// Close closes the listeners and every connection at once: analyzers are
// stopped (their contexts are done) and results not yet written are lost.
// It does not wait for plugin calls in progress to return (Shutdown does).
// Serve returns ErrServerClosed.
func (s *Server) Close() error {
	err := s.stopAccepting()
	s.closeSessions()
	s.sessWG.Wait()
	s.waitWatchdog()
	return err
}

// closeSessions closes every connection, also those still being set up.
func (s *Server) closeSessions() {
	s.mu.Lock()
	s.aborting = true
	s.mu.Unlock()
	for _, ss := range s.snapshot() {
		ss.close(errServerClosing)
	}
}

// errServerClosing is the cause of connections closed by Close or at the
// end of Shutdown.
var errServerClosing = errors.New("server: server closed")

// Shutdown shuts the server down gracefully: it closes the listeners,
// then waits until the clients have deleted their analyzers, closing each
// connection as soon as it has none left and everything queued for it is
// written; analyzers can still be made meanwhile, since a Perl client
// would otherwise wait in vain for their results. When ctx ends first,
// Shutdown closes the connections left (as Close does) and returns ctx's
// error. Either way it then waits for the analyzers' plugin calls to
// return (for those that ignore their context: until ctx ends). Serve
// returns ErrServerClosed.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.stopAccepting()
	for _, ss := range s.snapshot() {
		ss.draining.Store(true)
	}
	const maxPoll = 100 * time.Millisecond
	poll := time.Millisecond
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		left := 0
		for _, ss := range s.snapshot() {
			ss.draining.Store(true)
			if !ss.closeIfDone() {
				left++
			}
		}
		if left == 0 {
			break
		}
		select {
		case <-ctx.Done():
			s.closeSessions()
			s.sessWG.Wait()
			s.waitWatchdog()
			s.waitWorkers(ctx)
			return ctx.Err()
		case <-timer.C:
			poll = min(2*poll, maxPoll)
			timer.Reset(poll)
		}
	}
	s.sessWG.Wait()
	s.waitWatchdog()
	if werr := s.waitWorkers(ctx); werr != nil {
		return werr
	}
	return err
}

// waitWorkers waits for the analyzer goroutines until ctx ends.
func (s *Server) waitWorkers(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
