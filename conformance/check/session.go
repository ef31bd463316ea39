package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// session is one connection to the server under test. A goroutine reads
// frames all the time (a Perl server whose send buffer fills closes the
// connection) into an unbounded queue that the check consumes.
type session struct {
	r    *runner
	nc   net.Conn
	mu   sync.Mutex
	q    []conn.Message
	err  error         // why reading stopped, once it has
	sig  chan struct{} // a message or the end arrived
	done chan struct{} // the reading goroutine has ended
	// raw makes next return set_version too (it skips it otherwise).
	raw bool
}

// hello is what came first on a connection.
type hello struct {
	first *conn.SetVersion
	other conn.Message // a message other than set_version, first
	err   error        // the connection ended or broke first
}

// dial connects to the server. On the first connection of a run it
// waits up to Quiet for set_version and records what came first (see
// hello); later set_version frames are skipped by next.
func (r *runner) dial() (*session, error) {
	network := "tcp"
	if strings.Contains(r.addr, "/") {
		network = "unix"
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, r.addr)
	if err != nil {
		return nil, err
	}
	s := &session{r: r, nc: nc, sig: make(chan struct{}, 1), done: make(chan struct{})}
	go s.read()
	if r.hello == nil {
		r.hello = &hello{}
		s.mu.Lock()
		s.raw = true
		s.mu.Unlock()
		m, err := s.next(r.opts.Quiet)
		s.mu.Lock()
		s.raw = false
		s.mu.Unlock()
		switch sv, ok := m.(*conn.SetVersion); {
		case ok:
			r.hello.first = sv
		case err == nil:
			r.hello.other = m
			s.unread(m)
		case err != errSilent:
			r.hello.err = err
		}
	}
	return s, nil
}

func (s *session) read() {
	defer close(s.done)
	rd := s.r.wire.NewReader(s.nc)
	for {
		m, err := rd.ReadMessage()
		s.mu.Lock()
		if err != nil {
			s.err = err
		} else {
			s.q = append(s.q, m)
		}
		s.mu.Unlock()
		select {
		case s.sig <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// close closes the connection and waits for the reading goroutine.
func (s *session) close() {
	s.nc.Close()
	<-s.done
}

// unread puts m back at the head of the queue.
func (s *session) unread(m conn.Message) {
	s.mu.Lock()
	s.q = append([]conn.Message{m}, s.q...)
	s.mu.Unlock()
}

// next returns the next message other than set_version, waiting up to d:
// errSilent when none came, the read error (io.EOF when the server
// closed) when the connection ended.
func (s *session) next(d time.Duration) (conn.Message, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		s.mu.Lock()
		if len(s.q) > 0 {
			m := s.q[0]
			s.q[0] = nil
			s.q = s.q[1:]
			_, skip := m.(*conn.SetVersion)
			skip = skip && !s.raw
			s.mu.Unlock()
			if !skip {
				return m, nil
			}
			continue
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-s.sig:
		case <-t.C:
			return nil, errSilent
		case <-s.r.ctx.Done():
			return nil, s.r.ctx.Err()
		}
	}
}

// send writes the frames of ms in one write.
func (s *session) send(ms ...conn.Message) error {
	var b []byte
	for _, m := range ms {
		var err error
		if b, err = s.r.wire.Append(b, m); err != nil {
			return err
		}
	}
	return s.write(b)
}

// write writes b as it is.
func (s *session) write(b []byte) error {
	s.nc.SetWriteDeadline(time.Now().Add(s.r.opts.Timeout))
	_, err := s.nc.Write(b)
	return err
}

// until reads messages until one satisfies want, waiting up to Timeout
// for each, and returns the messages before it and the one found.
func (s *session) until(want func(conn.Message) bool) (before []conn.Message, found conn.Message, err error) {
	for {
		m, err := s.next(s.r.opts.Timeout)
		if err != nil {
			return before, nil, err
		}
		if want(m) {
			return before, m, nil
		}
		before = append(before, m)
	}
}

// barrier sends get_interface() and waits for its interface reply: a
// server reads frames in order, so whatever it sent for the frames before
// has come by then. It returns the messages that came before the reply.
func (s *session) barrier() ([]conn.Message, error) {
	if err := s.send(&conn.GetInterface{}); err != nil {
		return nil, err
	}
	before, _, err := s.until(func(m conn.Message) bool {
		_, ok := m.(*conn.Interface)
		return ok
	})
	return before, err
}

// newAnalyzer returns new_analyzer(id, {meta => {...}}) with the context
// Perl's data providers send.
func newAnalyzer(id int64) *conn.NewAnalyzer {
	meta := imp.Meta{ClientAddr: "192.0.2.1", ClientPort: 40001, ListenAddr: "192.0.2.2", ListenPort: 3000}
	return &conn.NewAnalyzer{ID: id, Context: meta.Context()}
}

// data returns data(id, dir, 0, type, b) with the runner's data type.
func (r *runner) data(id int64, dir imp.Dir, b []byte) *conn.Data {
	return &conn.Data{ID: id, Dir: dir, Type: r.dataType, Data: b}
}

// describe shows a message as "imprpc frames" does, shortened.
func describe(m conn.Message) string {
	b, err := conn.AppendJSON(nil, m)
	if err != nil {
		return fmt.Sprintf("%s (%v)", m.Op(), err)
	}
	const max = 160
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// describeAll shows messages, "nothing" for none.
func describeAll(ms []conn.Message) string {
	if len(ms) == 0 {
		return "nothing"
	}
	const max = 4
	parts := make([]string, 0, max+1)
	for i, m := range ms {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(ms)-max))
			break
		}
		parts = append(parts, describe(m))
	}
	return strings.Join(parts, ", ")
}

// describeErr shows why a wait ended without the message expected.
func (r *runner) describeErr(err error) string {
	switch {
	case err == errSilent:
		return fmt.Sprintf("nothing within %s", r.opts.Timeout)
	case errors.Is(err, io.EOF):
		return "the connection closed"
	}
	return "the connection broke: " + err.Error()
}

// exceptionFor returns the first exception among ms for id (or for the
// whole connection, id 0).
func exceptionFor(ms []conn.Message, id int64) *conn.Exception {
	for _, m := range ms {
		if e, ok := m.(*conn.Exception); ok && (e.ID == id || e.ID == 0) {
			return e
		}
	}
	return nil
}

// resultsFor returns the results among ms for id.
func resultsFor(ms []conn.Message, id int64) []conn.Message {
	var rs []conn.Message
	for _, m := range ms {
		if res, ok := m.(*conn.Result); ok && res.ID == id {
			rs = append(rs, m)
		}
	}
	return rs
}
