package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// The topics of the server's log records (attribute "topic"); the RPCs
// that package conn logs have the topic "rpc.<op>" (see Topic).
const (
	topicConn      = "server.conn"      // connections accepted and closed
	topicAnalyzer  = "server.analyzer"  // analyzers made, declined, failed, deleted
	topicInterface = "server.interface" // get_interface and set_interface
	topicClient    = "server.client"    // what the client did wrong or reported
	topicListen    = "server.listen"    // listeners
)

// session serves one connection: it is the conn.Handler, and holds the
// connection's analyzers and the factory in use.
type session struct {
	srv *Server
	log *slog.Logger
	c   atomic.Pointer[conn.Conn]

	ctx    context.Context // done when the connection ends
	cancel context.CancelFunc

	reg conn.Registry[*analyzer]

	// Owned by the reading goroutine (the Handler):
	factory *factoryRef   // the factory new analyzers are made by
	ctlTail chan struct{} // done when the last control operation is

	pendingIn   atomic.Int64 // bytes of data queued in analyzers
	sentEnd     atomic.Int64 // the highest stream position Send returned
	writtenHint atomic.Int64 // Written, as last read
	relieveMu   sync.Mutex   // one backpressure relief at a time

	reads     atomic.Uint64 // messages read, for the idle check
	idleReads uint64        // watchdog's: reads at idleSince
	idleSince int64         // watchdog's: when reads last changed

	draining atomic.Bool // Shutdown waits for the analyzers to go
}

func newSession(s *Server, log *slog.Logger) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{srv: s, log: log, ctx: ctx, cancel: cancel, factory: &factoryRef{f: s.Factory}, idleSince: now()}
}

// factoryRef is the factory of a connection, which a set_interface in
// progress (a Negotiator's, which may wait) provides later.
type factoryRef struct {
	ready chan struct{} // nil, or closed once f is set
	f     imp.Factory
}

// get waits for the factory.
func (r *factoryRef) get() imp.Factory {
	if r.ready != nil {
		<-r.ready
	}
	return r.f
}

// serve waits for the connection to end and cleans up after it.
func (ss *session) serve(c *conn.Conn) {
	<-c.Done()
	ss.cancel()
	for _, a := range ss.reg.Reset() {
		a.end(stateDeleted)
	}
	_ = c.Close(nil)
}

// close closes the connection with cause.
func (ss *session) close(cause error) {
	if c := ss.c.Load(); c != nil {
		_ = c.Close(cause)
	}
}

// closeIfDone closes a draining connection that has no analyzers and
// nothing left to write; it reports whether the connection is closed.
func (ss *session) closeIfDone() bool {
	c := ss.c.Load()
	if c == nil {
		return false
	}
	if c.Err() != nil {
		return true
	}
	if ss.reg.Len() > 0 || ss.pendingIn.Load() > 0 || c.Queued() > 0 {
		return false
	}
	ss.log.Debug("imprpc server: connection done while shutting down", "topic", topicConn)
	_ = c.Close(errServerClosing)
	return true
}

// HandleMessage handles one message of the client, on the connection's
// reading goroutine: it must not wait.
func (ss *session) HandleMessage(c *conn.Conn, m conn.Message) error {
	ss.reads.Add(1)
	switch m := m.(type) {
	case *conn.Data:
		ss.data(c, m)
	case *conn.NewAnalyzer:
		ss.newAnalyzer(c, m)
	case *conn.DeleteAnalyzer:
		if a, ok := ss.reg.Delete(m.ID); ok {
			a.end(stateDeleted)
			ss.log.Debug("imprpc server: analyzer deleted", "topic", topicAnalyzer, "id", m.ID)
		}
	case *conn.GetInterface:
		ss.getInterface(c, m)
	case *conn.SetInterface:
		ss.setInterface(c, m)
	case *conn.Exception:
		ss.log.Warn("imprpc server: exception from the client", "topic", topicClient, "id", m.ID, "msg", m.Text())
	default:
		// interface, result, set_version is not passed on; *conn.Raw
		// does not come here (see HandleFrameError).
		return ss.noHandler(m.Op())
	}
	return nil
}

// noHandler closes the connection on an op a client must not send, as
// Perl's server does ("no handler for return type X").
func (ss *session) noHandler(op conn.Op) error {
	ss.log.Warn("imprpc server: closing the connection: the client sent an op only a server sends", "topic", topicClient, "op", op.String())
	return &ClientError{Op: op, Msg: "no handler for return type " + strconv.Itoa(int(op))}
}

// ClientError is the cause with which the server closes a connection
// whose client sent what a client must not send.
type ClientError struct {
	// Op is the op received.
	Op conn.Op
	// Msg says what is wrong; for an op a client must not send it is
	// Perl's message "no handler for return type N".
	Msg string
}

// Error returns "server: client sent OP: " and the message.
func (e *ClientError) Error() string {
	return "server: client sent " + e.Op.String() + ": " + e.Msg
}

// HandleFrameError handles a frame that is not a valid message: an
// unknown op closes the connection as in Perl; a frame whose payload or
// arguments are bad is skipped with a warning, as Perl's server under
// the EV event loop loses such a frame and goes on.
func (ss *session) HandleFrameError(c *conn.Conn, err error) error {
	if ue, ok := errors.AsType[*conn.UnknownOpError](err); ok {
		ss.log.Warn("imprpc server: closing the connection: unknown op from the client", "topic", topicClient, "op", int(ue.Op), "err", err)
		return &ClientError{Op: ue.Op, Msg: "no handler for return type " + strconv.Itoa(int(ue.Op))}
	}
	ss.log.Warn("imprpc server: bad frame from the client skipped", "topic", topicClient, "err", err)
	return nil
}

// data gives data to its analyzer.
func (ss *session) data(c *conn.Conn, d *conn.Data) {
	a, ok := ss.reg.Get(d.ID)
	if !ok {
		ss.log.Debug("imprpc server: data for an unknown analyzer", "topic", topicClient, "id", d.ID)
		_, _ = c.Send(conn.NewException(d.ID, "no analyzer "+strconv.FormatInt(d.ID, 10)))
		return
	}
	if a.enqueue(d) {
		ss.checkBuffered(c)
	}
}

// newAnalyzer registers the analyzer at once (so that its data is taken
// in order) and has its worker make it.
func (ss *session) newAnalyzer(c *conn.Conn, m *conn.NewAnalyzer) {
	if m.ID == 0 {
		ss.log.Warn("imprpc server: new_analyzer with id 0 refused", "topic", topicClient)
		_, _ = c.Send(conn.NewException(0, "new_analyzer: analyzer id 0 is not allowed"))
		return
	}
	if _, used := ss.reg.Get(m.ID); used {
		_, _ = c.Send(conn.NewException(m.ID, "analyzer exists already"))
		return
	}
	if limit := ss.srv.maxAnalyzers(); limit > 0 && ss.reg.Len() >= limit {
		ss.log.Warn("imprpc server: new_analyzer refused: too many analyzers", "topic", topicAnalyzer, "id", m.ID, "limit", limit)
		_, _ = c.Send(conn.NewException(m.ID, fmt.Sprintf("new_analyzer: too many analyzers on this connection (limit %d)", limit)))
		return
	}
	a := newAnalyzer(ss, c, m.ID)
	meta, err := imp.ParseContext(m.Context)
	if err != nil {
		// Perl's plugin dies here without a word; answer instead, and
		// ignore the analyzer's data until the client deletes it.
		ss.reg.AddID(m.ID, a)
		msg := err.Error()
		if ce, ok := errors.AsType[*imp.ContextError](err); ok {
			msg = "new_analyzer: context: " + ce.Msg
		}
		a.endWith(stateFailed, conn.NewException(m.ID, msg))
		ss.log.Warn("imprpc server: new_analyzer refused: bad context", "topic", topicClient, "id", m.ID, "err", err)
		return
	}
	a.meta, a.fref = meta, ss.factory
	ss.reg.AddID(m.ID, a)
	a.start()
}

// control runs op in order with the control operations before it: at
// once when nothing is pending and wait is false, else on a goroutine
// after the previous one.
func (ss *session) control(wait bool, op func()) {
	prev := ss.ctlTail
	if prev != nil {
		select {
		case <-prev:
			prev = nil
		default:
		}
	}
	if prev == nil && !wait {
		ss.ctlTail = nil
		op()
		return
	}
	done := make(chan struct{})
	ss.ctlTail = done
	go func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		op()
	}()
}

// mayWait reports whether asking f about interfaces may wait: only a
// Negotiator decides by itself.
func mayWait(r *factoryRef) bool {
	if r.ready != nil {
		return true
	}
	_, ok := r.f.(imp.Negotiator)
	return ok
}

// callCtx returns the context for a call into the plugin that may wait.
func (ss *session) callCtx() (context.Context, context.CancelFunc) {
	if d := ss.srv.callTimeout(); d > 0 {
		return context.WithTimeout(ss.ctx, d)
	}
	return context.WithCancel(ss.ctx)
}

// getInterface answers get_interface with the interfaces of the factory
// in use.
func (ss *session) getInterface(c *conn.Conn, m *conn.GetInterface) {
	ref := ss.factory
	ss.control(mayWait(ref), func() {
		ctx, cancel := ss.callCtx()
		defer cancel()
		ifs, err := imp.GetInterface(ctx, ref.get(), m.Interfaces)
		if err != nil {
			ss.log.Warn("imprpc server: get_interface failed", "topic", topicInterface, "err", err)
			_, _ = c.Send(conn.NewException(0, "get_interface: "+err.Error()))
			return
		}
		ss.log.Debug("imprpc server: get_interface", "topic", topicInterface, "offered", len(m.Interfaces), "answered", len(ifs))
		if _, err := c.Send(&conn.Interface{Interfaces: ifs}); err != nil && !errors.Is(err, conn.ErrClosed) {
			ss.log.Error("imprpc server: cannot send the interfaces", "topic", topicInterface, "err", err)
		}
	})
}

// setInterface replaces the factory in use by the one for the interface,
// or keeps it and answers with an exception.
func (ss *session) setInterface(c *conn.Conn, m *conn.SetInterface) {
	prev := ss.factory
	next := &factoryRef{f: prev.f}
	wait := mayWait(prev)
	if wait {
		next.ready = make(chan struct{})
	}
	ss.factory = next
	ss.control(wait, func() {
		if wait {
			defer close(next.ready)
		}
		ctx, cancel := ss.callCtx()
		defer cancel()
		f, err := imp.SetInterface(ctx, prev.get(), m.Interface)
		if err != nil {
			next.f = prev.get()
			msg := "set_interface: unsupported interface" // Perl's message
			if !errors.Is(err, imp.ErrUnsupportedInterface) {
				msg = "set_interface: " + err.Error()
			}
			ss.log.Info("imprpc server: set_interface refused", "topic", topicInterface, "interface", m.Interface.String(), "err", err)
			_, _ = c.Send(conn.NewException(0, msg))
			return
		}
		next.f = f
		ss.log.Debug("imprpc server: set_interface", "topic", topicInterface, "interface", m.Interface.String())
	})
}
