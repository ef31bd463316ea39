package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goimp/imprpc/imp"
)

// Role is the side of a connection: the data provider (client, Perl's
// side 0) or the IMP server (side 1).
type Role uint8

const (
	// RoleClient is the data provider's side.
	RoleClient Role = iota
	// RoleServer is the IMP RPC server's side; it sends set_version
	// first.
	RoleServer
)

// String returns "client" or "server".
func (r Role) String() string {
	if r == RoleServer {
		return "server"
	}
	return "client"
}

// DefaultWriteTimeout is the default of Config.WriteTimeout.
const DefaultWriteTimeout = 30 * time.Second

// maxSpareBuffer is the largest write buffer a Conn keeps for reuse.
const maxSpareBuffer = 4 << 20

// Config configures a Conn. The zero value is usable and means the
// defaults; DefaultConfig returns them spelled out.
type Config struct {
	// Wire selects the wire format and its limits (Options.MaxFrameSize
	// applies to frames read and written).
	Wire Options
	// WriteTimeout is how long a write to the network may go without
	// progress before the connection is closed: a peer that reads nothing
	// for that long is gone. 0 means DefaultWriteTimeout, a negative
	// value no limit.
	WriteTimeout time.Duration
	// AllowUnknown lets Send write ops, result types and log levels
	// that the protocol does not define even when the peer has not sent
	// them first (for tests and conformance tools: a Perl peer closes the
	// connection on an unknown op and reads unknown result types and log
	// levels as undef).
	AllowUnknown bool
	// Logger receives the connection's logs (debug: every frame; info:
	// the close); nil means none.
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() *Config {
	return &Config{Wire: Options{MaxFrameSize: DefaultMaxFrameSize}, WriteTimeout: DefaultWriteTimeout}
}

// Handler handles the messages a connection reads. HandleMessage is called
// by the connection's one reading goroutine, one message at a time, in the
// order the peer sent them. It must not block for long: while it runs,
// nothing is read, and a Perl peer whose send buffer fills closes the
// connection. Hand work to other goroutines and answer with Conn.Send,
// which never waits. A non-nil error, or a panic, closes the connection
// with that cause. set_version never reaches a Handler.
type Handler interface {
	HandleMessage(c *Conn, m Message) error
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(c *Conn, m Message) error

// HandleMessage calls f(c, m).
func (f HandlerFunc) HandleMessage(c *Conn, m Message) error { return f(c, m) }

// FrameErrorHandler may be implemented by a Handler to see the frames
// that were read whole but are not valid messages: *UnknownOpError,
// *ArgError, *PayloadError (see Recoverable). Returning nil skips the
// frame and reading goes on; an error closes the connection with it.
// Without it, such a frame closes the connection, as Perl's peers do
// with unknown ops.
type FrameErrorHandler interface {
	HandleFrameError(c *Conn, err error) error
}

var (
	// ErrClosed is matched (errors.Is) by the error of every operation
	// on a closed connection; errors.Unwrap gives the cause.
	ErrClosed = errors.New("conn: connection closed")
	// ErrPeerClosed is the cause when the peer closed the connection
	// between frames. It matches io.EOF.
	ErrPeerClosed = fmt.Errorf("conn: peer closed the connection: %w", io.EOF)
)

// ClosedError is the error of operations on a closed connection. It
// matches ErrClosed and unwraps to the cause.
type ClosedError struct {
	// Cause is why the connection closed: the reason given to Close
	// (nil for none), ErrPeerClosed, a *FrameError, *VersionError, a
	// network error, or a Handler's error.
	Cause error
}

// Error returns "conn: connection closed" and the cause.
func (e *ClosedError) Error() string {
	if e.Cause == nil {
		return ErrClosed.Error()
	}
	return ErrClosed.Error() + ": " + e.Cause.Error()
}

// Is reports whether target is ErrClosed.
func (e *ClosedError) Is(target error) bool { return target == ErrClosed }

// Unwrap returns the cause.
func (e *ClosedError) Unwrap() error { return e.Cause }

// Conn is one IMP RPC connection, full duplex over a net.Conn, used by
// servers and clients alike. One goroutine reads and decodes frames and
// hands the messages to the Handler in order; one goroutine writes: Send
// encodes a message at the end of a queue and returns at once, and the
// writer sends everything queued in one write, so that many small frames
// take one system call (a Sereal frame is never split across writes,
// which Perl's Sereal decoder needs). The queue has no limit of its own:
// callers apply backpressure with Queued, WaitQueued and WaitWritten, and
// the connection never stops reading meanwhile.
//
// The server side sends set_version(1) before anything else. Both sides
// accept set_version(1) from the peer wherever it comes, or never; any
// other version closes the connection with a *VersionError. set_version
// never reaches the Handler.
//
// Send refuses ops, result types and log levels the protocol does not
// define unless the peer sent them first (or Config.AllowUnknown is set).
// Data types are never checked: unknown ones are carried through.
//
// A Conn is safe for use by many goroutines. Close ends it; every
// operation then fails with a *ClosedError carrying the cause, and no
// goroutine of the Conn outlives Close (see Close for calls from a
// Handler).
type Conn struct {
	nc   net.Conn
	wire Wire
	role Role
	h    Handler
	cfg  Config
	log  *slog.Logger

	mu       sync.Mutex
	pending  []byte // frames queued and not yet taken by the writer
	spare    []byte // the writer's last buffer, for reuse
	queued   int64  // bytes queued since the start
	written  int64  // bytes written since the start
	waitCh   chan struct{}
	waiters  int
	closeErr error // *ClosedError once closed
	seen     map[seenKey]bool

	wake       chan struct{} // the writer's signal, capacity 1
	closing    chan struct{} // closed when the connection closes
	readerDone chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
	inHandler  atomic.Int32
	version    atomic.Int64 // version the peer announced, 0 if none
}

// seenKey is an unknown constant the peer sent.
type seenKey struct {
	what string // "op", "result type", "log level"
	code int64
}

// Client returns a connection for the data provider's side over nc,
// and starts its goroutines. A nil cfg means DefaultConfig.
func Client(nc net.Conn, h Handler, cfg *Config) (*Conn, error) {
	return newConn(nc, RoleClient, h, cfg)
}

// Server returns a connection for the IMP server's side over nc, queues
// set_version(1) as its first frame, and starts its goroutines. A nil cfg
// means DefaultConfig.
func Server(nc net.Conn, h Handler, cfg *Config) (*Conn, error) {
	return newConn(nc, RoleServer, h, cfg)
}

func newConn(nc net.Conn, role Role, h Handler, cfg *Config) (*Conn, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	if h == nil {
		return nil, errors.New("conn: nil Handler")
	}
	w, err := cfg.Wire.Wire()
	if err != nil {
		return nil, err
	}
	c := &Conn{
		nc:         nc,
		wire:       w,
		role:       role,
		h:          h,
		cfg:        *cfg,
		log:        cfg.Logger,
		waitCh:     make(chan struct{}),
		wake:       make(chan struct{}, 1),
		closing:    make(chan struct{}),
		readerDone: make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	if c.cfg.WriteTimeout == 0 {
		c.cfg.WriteTimeout = DefaultWriteTimeout
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if role == RoleServer {
		if _, err := c.Send(&SetVersion{Version: Version}); err != nil {
			return nil, err
		}
	}
	go c.readLoop()
	go c.writeLoop()
	return c, nil
}

// Role returns the connection's side.
func (c *Conn) Role() Role { return c.role }

// Wire returns the connection's wire.
func (c *Conn) Wire() Wire { return c.wire }

// NetConn returns the underlying network connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// PeerVersion returns the protocol version the peer announced with
// set_version, or 0 while it has announced none (a client's peer never
// does; a Perl server does so first).
func (c *Conn) PeerVersion() int { return int(c.version.Load()) }

// Send queues m to be written and returns at once, with the stream
// position just past m's frame: m has been handed to the network once
// Written reaches it. Messages are written in the order Send queued them,
// from any number of goroutines. Send fails with a *ClosedError once the
// connection is closed, with the encoder's error for a message that
// cannot be encoded (nothing is queued then), and with an
// *UnknownToPeerError for an unknown op, result type or log level the peer
// has not sent first. A Data message is queued without allocating.
func (c *Conn) Send(m Message) (end int64, err error) {
	if !c.cfg.AllowUnknown {
		if err := c.checkKnown(m); err != nil {
			return 0, err
		}
	}
	c.mu.Lock()
	if c.closeErr != nil {
		err = c.closeErr
		c.mu.Unlock()
		return 0, err
	}
	n := len(c.pending)
	if c.pending, err = c.wire.Append(c.pending, m); err != nil {
		c.mu.Unlock()
		return 0, err
	}
	c.queued += int64(len(c.pending) - n)
	end = c.queued
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.logMessage("send", m)
	}
	return end, nil
}

func (c *Conn) logMessage(what string, m Message) {
	j, err := AppendJSON(nil, m)
	if err != nil {
		j = []byte(m.Op().String())
	}
	const maxShown = 512
	if len(j) > maxShown {
		j = append(j[:maxShown:maxShown], "..."...)
	}
	c.log.Debug("imprpc "+what, "role", c.role.String(), "rpc", string(j))
}

// Queued returns the number of bytes queued by Send and not yet written.
func (c *Conn) Queued() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queued - c.written
}

// Written returns the number of bytes written to the network so far:
// every frame whose end position (from Send) is at most Written has been
// handed to the network.
func (c *Conn) Written() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.written
}

// WaitWritten waits until Written reaches pos, the connection closes (a
// *ClosedError) or ctx ends (its error).
func (c *Conn) WaitWritten(ctx context.Context, pos int64) error {
	return c.wait(ctx, func() bool { return c.written >= pos })
}

// WaitQueued waits until at most max bytes are queued, the connection
// closes or ctx ends: the backpressure of a sender that keeps the queue
// within a limit.
func (c *Conn) WaitQueued(ctx context.Context, max int64) error {
	return c.wait(ctx, func() bool { return c.queued-c.written <= max })
}

// Flush waits until everything queued before the call has been written.
func (c *Conn) Flush(ctx context.Context) error {
	c.mu.Lock()
	pos := c.queued
	c.mu.Unlock()
	return c.WaitWritten(ctx, pos)
}

// wait waits until ok (called with c.mu held) holds.
func (c *Conn) wait(ctx context.Context, ok func() bool) error {
	c.mu.Lock()
	for !ok() {
		if c.closeErr != nil {
			err := c.closeErr
			c.mu.Unlock()
			return err
		}
		ch := c.waitCh
		c.waiters++
		c.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-c.closing:
		case <-ctx.Done():
			err = ctx.Err()
		}
		c.mu.Lock()
		c.waiters--
		if err != nil {
			c.mu.Unlock()
			return err
		}
	}
	c.mu.Unlock()
	return nil
}

// wakeWaiters lets every waiter check again; c.mu is held.
func (c *Conn) wakeWaiters() {
	if c.waiters > 0 {
		close(c.waitCh)
		c.waitCh = make(chan struct{})
	}
}

// Done returns a channel that is closed when the connection closes.
func (c *Conn) Done() <-chan struct{} { return c.closing }

// Err returns nil while the connection is open, and the *ClosedError with
// the cause once it is closed.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// Close closes the connection with reason as the cause (nil for none):
// it closes the network connection, drops what is queued and not yet
// written (use Flush first to send it), makes every waiting and later
// call fail with a *ClosedError, and waits for the connection's
// goroutines to end. Called while a Handler runs (from the Handler or
// another goroutine), it does not wait for the reading goroutine, which
// ends when the Handler returns. Closing again does nothing; Close always
// returns nil.
func (c *Conn) Close(reason error) error {
	c.shut(reason)
	<-c.writerDone
	if c.inHandler.Load() == 0 {
		<-c.readerDone
	}
	return nil
}

// shut closes the connection with cause, once.
func (c *Conn) shut(cause error) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closeErr = &ClosedError{Cause: cause}
		c.wakeWaiters()
		c.mu.Unlock()
		close(c.closing)
		_ = c.nc.Close()
		level := slog.LevelInfo
		if cause == nil || errors.Is(cause, ErrPeerClosed) {
			level = slog.LevelDebug
		}
		c.log.Log(context.Background(), level, "imprpc connection closed", "role", c.role.String(), "cause", cause)
	})
}

// closed reports whether the connection is closing.
func (c *Conn) closed() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

func (c *Conn) readLoop() {
	defer close(c.readerDone)
	r := c.wire.NewReader(c.nc)
	for {
		off := r.Offset()
		m, err := r.ReadMessage()
		if err != nil {
			if c.closed() {
				return
			}
			if Recoverable(err) {
				if err = c.frameError(err); err == nil {
					continue
				}
			} else if err == io.EOF {
				err = ErrPeerClosed
			}
			c.shut(err)
			return
		}
		if v, ok := m.(*SetVersion); ok {
			if v.Version != Version {
				c.shut(&VersionError{Offset: off, Version: v.Version})
				return
			}
			c.version.Store(v.Version)
			continue
		}
		c.noteUnknown(m)
		if c.log.Enabled(context.Background(), slog.LevelDebug) {
			c.logMessage("recv", m)
		}
		if err = c.handle(m); err != nil {
			c.shut(err)
			return
		}
	}
}

// frameError gives a recoverable frame error to the Handler, if it wants
// them; a nil result skips the frame.
func (c *Conn) frameError(err error) error {
	var ue *UnknownOpError
	if errors.As(err, &ue) {
		c.markSeen("op", int64(ue.Op))
	}
	fh, ok := c.h.(FrameErrorHandler)
	if !ok {
		return err
	}
	c.inHandler.Add(1)
	defer c.inHandler.Add(-1)
	return fh.HandleFrameError(c, err)
}

func (c *Conn) writeLoop() {
	defer close(c.writerDone)
	for {
		select {
		case <-c.wake:
		case <-c.closing:
			return
		}
		for {
			c.mu.Lock()
			buf := c.pending
			if len(buf) == 0 || c.closeErr != nil {
				c.mu.Unlock()
				break
			}
			c.pending, c.spare = c.spare[:0], nil
			c.mu.Unlock()

			err := c.write(buf)
			c.mu.Lock()
			if cap(buf) <= maxSpareBuffer {
				c.spare = buf[:0]
			}
			c.mu.Unlock()
			if err != nil {
				if !c.closed() {
					c.shut(fmt.Errorf("conn: write: %w", err))
				}
				return
			}
		}
	}
}

// write writes buf, counting what was written as it goes. A write that
// makes no progress for WriteTimeout fails; one that makes some goes on.
func (c *Conn) write(buf []byte) error {
	for len(buf) > 0 {
		if c.cfg.WriteTimeout > 0 {
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
		}
		n, err := c.nc.Write(buf)
		buf = buf[n:]
		c.mu.Lock()
		c.written += int64(n)
		c.wakeWaiters()
		c.mu.Unlock()
		if err != nil && (n == 0 || !errors.Is(err, os.ErrDeadlineExceeded)) {
			return err
		}
	}
	return nil
}

// handle gives m to the Handler; a panic in it closes the connection.
func (c *Conn) handle(m Message) (err error) {
	c.inHandler.Add(1)
	defer func() {
		c.inHandler.Add(-1)
		if p := recover(); p != nil {
			c.log.Error("imprpc handler panicked", "role", c.role.String(), "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("conn: handler panicked: %v", p)
		}
	}()
	return c.h.HandleMessage(c, m)
}

// noteUnknown records the unknown result types and log levels a message
// from the peer holds, which Send may then send back.
func (c *Conn) noteUnknown(m Message) {
	switch m := m.(type) {
	case *Result:
		if !m.Result.Type.Known() {
			c.markSeen("result type", int64(m.Result.Type))
		} else if l, ok := logLevel(m.Result); ok && !l.Known() {
			c.markSeen("log level", int64(l))
		}
	case *Interface:
		c.noteInterfaces(m.Interfaces)
	case *GetInterface:
		c.noteInterfaces(m.Interfaces)
	case *SetInterface:
		c.noteInterfaces([]imp.Interface{m.Interface})
	}
}

func (c *Conn) noteInterfaces(ifs []imp.Interface) {
	for _, f := range ifs {
		for _, t := range f.Results {
			if !t.Known() {
				c.markSeen("result type", int64(t))
			}
		}
	}
}

func (c *Conn) markSeen(what string, code int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = make(map[seenKey]bool)
	}
	c.seen[seenKey{what, code}] = true
}

// checkKnown refuses unknown constants the peer has not sent first.
func (c *Conn) checkKnown(m Message) error {
	switch m := m.(type) {
	case *Data:
		return nil
	case *Result:
		if !m.Result.Type.Known() {
			return c.needSeen("result type", int64(m.Result.Type))
		}
		if l, ok := logLevel(m.Result); ok && !l.Known() {
			return c.needSeen("log level", int64(l))
		}
	case *Interface:
		return c.checkInterfaces(m.Interfaces)
	case *GetInterface:
		return c.checkInterfaces(m.Interfaces)
	case *SetInterface:
		return c.checkInterfaces([]imp.Interface{m.Interface})
	case *Raw:
		if !m.Code.Known() {
			return c.needSeen("op", int64(m.Code))
		}
	}
	return nil
}

func (c *Conn) checkInterfaces(ifs []imp.Interface) error {
	for _, f := range ifs {
		for _, t := range f.Results {
			if !t.Known() {
				if err := c.needSeen("result type", int64(t)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (c *Conn) needSeen(what string, code int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[seenKey{what, code}] {
		return nil
	}
	return &UnknownToPeerError{What: what, Code: code}
}

// logLevel returns the level of a log result.
func logLevel(r imp.Result) (imp.LogLevel, bool) {
	if r.Type != imp.ResultLog {
		return 0, false
	}
	return r.Level()
}
