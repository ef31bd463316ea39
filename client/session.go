package client

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// session is one connection of a Factory to the server, with the
// analyzers made on it (ids from 1, as Perl numbers them per connection)
// and the get_interface calls waiting for their answers. Its Handler runs
// on the connection's reading goroutine and never waits, so the server's
// frames are read at all times.
type session struct {
	f     *Factory
	c     *conn.Conn
	ready chan struct{} // closed once c is set
	reg   conn.Registry[*Analyzer]
	maxID atomic.Int64 // highest id allocated on this connection

	ifaceGen uint64 // the Factory's interface generation sent here; f.mu held

	wmu     sync.Mutex
	waiters []*waiter // get_interface calls in the order sent
	ended   bool      // waiters have been failed; wmu held
	reason  error     // why it ended, once ended; wmu held
}

// waiter is a get_interface call waiting for its answer.
type waiter struct {
	ch chan ifaceReply // capacity 1
}

type ifaceReply struct {
	ifs []imp.Interface
	err error
}

// HandleMessage dispatches a message from the server.
func (s *session) HandleMessage(_ *conn.Conn, m conn.Message) error {
	<-s.ready
	switch m := m.(type) {
	case *conn.Result:
		s.result(m)
	case *conn.Exception:
		return s.exception(m)
	case *conn.Interface:
		s.iface(m.Interfaces)
	default:
		// Perl's client closes the connection too ("no handler for
		// return type X").
		return fmt.Errorf("client: the server sent %s, which only a client sends", m.Op())
	}
	return nil
}

func (s *session) result(m *conn.Result) {
	a, ok := s.reg.Get(m.ID)
	if !ok {
		s.unknown(m.ID, "result", m.Result.String())
		return
	}
	if end := a.deliver(m.Result); end != nil {
		s.remove(a)
	}
}

func (s *session) exception(m *conn.Exception) error {
	msg := m.Text()
	if m.ID == 0 {
		if msg == unsupportedInterface {
			s.f.refused(s)
		}
		return &ExceptionError{ID: 0, Message: msg}
	}
	a, ok := s.reg.Delete(m.ID)
	if !ok {
		s.unknown(m.ID, "exception", msg)
		return nil
	}
	a.end(&ExceptionError{ID: m.ID, Message: msg})
	// Perl's client deletes the analyzer on the server too.
	s.sendDelete(m.ID)
	return nil
}

// sendDelete sends delete_analyzer(id).
func (s *session) sendDelete(id int64) {
	_, _ = s.c.Send(&conn.DeleteAnalyzer{ID: id})
}

// unsupportedInterface is the message of the exception with which
// servers refuse a set_interface.
const unsupportedInterface = "set_interface: unsupported interface"

// unknown reports a result or exception for an id with no analyzer: one
// that has ended (results the server sent before it saw the
// delete_analyzer) at debug level, one never made on this connection as
// a warning.
func (s *session) unknown(id int64, what, text string) {
	f := s.f
	if id > 0 && id <= s.maxID.Load() {
		f.stats.stale.Add(1)
		f.opts.Logger.Debug("imprpc client: "+what+" for an analyzer that has ended", "addr", f.addr, "id", id, what, text)
		return
	}
	f.stats.unknown.Add(1)
	f.opts.Logger.Warn("imprpc client: "+what+" for an unknown analyzer", "addr", f.addr, "id", id, what, text)
}

func (s *session) iface(ifs []imp.Interface) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if len(s.waiters) == 0 {
		s.f.stats.unknown.Add(1)
		s.f.opts.Logger.Warn("imprpc client: interface reply nobody asked for", "addr", s.f.addr)
		return
	}
	w := s.waiters[0]
	s.waiters[0] = nil
	s.waiters = s.waiters[1:]
	w.ch <- ifaceReply{ifs: ifs}
}

// add registers a new analyzer and returns its id.
func (s *session) add(a *Analyzer) (int64, error) {
	id, err := s.reg.Add(a)
	if err != nil {
		return 0, err
	}
	for {
		cur := s.maxID.Load()
		if id <= cur || s.maxID.CompareAndSwap(cur, id) {
			break
		}
	}
	return id, nil
}

// remove forgets a and deletes it on the server, once.
func (s *session) remove(a *Analyzer) {
	if b, ok := s.reg.Get(a.id); !ok || b != a {
		return
	}
	if _, ok := s.reg.Delete(a.id); ok {
		s.sendDelete(a.id)
	}
}

// getInterface sends get_interface and returns the waiter of its answer.
func (s *session) getInterface(offered []imp.Interface) (*waiter, error) {
	w := &waiter{ch: make(chan ifaceReply, 1)}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.ended {
		return nil, s.reason
	}
	if _, err := s.c.Send(&conn.GetInterface{Interfaces: offered}); err != nil {
		var ce *conn.ClosedError
		if errors.As(err, &ce) {
			return nil, s.reasonFor(ce.Cause)
		}
		return nil, err
	}
	s.waiters = append(s.waiters, w)
	return w, nil
}

// reasonFor returns the end reason of the analyzers of a connection that
// closed with cause.
func (s *session) reasonFor(cause error) error {
	var ee *ExceptionError
	switch {
	case errors.As(cause, &ee):
		return ee
	case errors.Is(cause, ErrClosed):
		return ErrClosed
	}
	return &ConnectionLostError{Cause: cause}
}

// watch waits for the connection to close, then ends its analyzers and
// get_interface calls.
func (s *session) watch() {
	defer s.f.wg.Done()
	<-s.c.Done()
	s.c.Close(nil) // waits for the connection's goroutines
	var cause error
	var ce *conn.ClosedError
	if errors.As(s.c.Err(), &ce) {
		cause = ce.Cause
	}
	reason := s.reasonFor(cause)
	if !errors.Is(reason, ErrClosed) {
		s.f.opts.Logger.Warn("imprpc client: connection ended", "addr", s.f.addr, "reason", reason)
	}
	s.f.detach(s)
	s.wmu.Lock()
	s.reason = reason
	s.ended = true
	for _, w := range s.waiters {
		w.ch <- ifaceReply{err: reason}
	}
	s.waiters = nil
	s.wmu.Unlock()
	for _, a := range s.reg.Reset() {
		a.end(reason)
	}
}
