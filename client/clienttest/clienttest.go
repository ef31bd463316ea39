// Package clienttest runs a small IMP RPC server for tests of IMP RPC
// clients: it serves an imp.Factory the way Perl's imprpc_server.pl does
// (one analyzer per new_analyzer, results sent as the plugin emits them,
// Perl's exceptions for duplicate and unknown analyzers, a declined
// analyzer answered with pass(0, -1) and pass(1, -1)), and lets a test
// break it the ways servers break: intercept or hold any message, drop
// every connection, stop accepting.
//
// It runs plugins on the connection's reading goroutine, one message at
// a time, and has none of a real server's limits: it is for tests only.
package clienttest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// Server is a running test server. Its methods are safe for concurrent
// use.
type Server struct {
	l   net.Listener
	cfg Config

	mu     sync.Mutex
	conns  map[*conn.Conn]*peer
	closed bool
	accept int

	wg sync.WaitGroup
}

// Config configures a Server.
type Config struct {
	// Factory is the plugin served. nil serves one that declines every
	// analyzer.
	Factory imp.Factory
	// Wire is the wire format and its limits.
	Wire conn.Options
	// Intercept, if set, sees every message from a client before the
	// server handles it, on the connection's reading goroutine (so
	// blocking in it stops the server from reading). It returns true
	// when it has handled the message itself, and may return an error to
	// close the connection.
	Intercept func(c *conn.Conn, m conn.Message) (handled bool, err error)
	// AllowUnknown lets the server send ops and result types the
	// protocol does not define (conn.Config).
	AllowUnknown bool
}

// Listen starts a server on network ("tcp", "unix") and address; an
// address "127.0.0.1:0" picks a free port (see Addr).
func Listen(network, address string, cfg Config) (*Server, error) {
	l, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	return Serve(l, cfg), nil
}

// Serve starts a server on l, which it closes when the server is closed.
func Serve(l net.Listener, cfg Config) *Server {
	if cfg.Factory == nil {
		cfg.Factory = imp.NewFactory([]imp.Interface{{AnyData: true, Results: []imp.ResultType{imp.ResultPass}}},
			func(context.Context, *imp.Meta, imp.Sink) (imp.Analyzer, error) { return nil, nil })
	}
	s := &Server{l: l, cfg: cfg, conns: make(map[*conn.Conn]*peer)}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

// Addr returns the address the server listens on, in the form a client
// dials ("127.0.0.1:34567", or the socket's path).
func (s *Server) Addr() string { return s.l.Addr().String() }

// Accepted returns the number of connections accepted so far.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accept
}

// Conns returns the open connections.
func (s *Server) Conns() []*conn.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := make([]*conn.Conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	return cs
}

// Analyzers returns the number of analyzers open on all connections.
func (s *Server) Analyzers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.conns {
		n += p.reg.Len()
	}
	return n
}

// DropConns closes every open connection at once, as a server that dies
// does, and waits until they are closed.
func (s *Server) DropConns() {
	for _, c := range s.Conns() {
		c.Close(errors.New("clienttest: dropped"))
	}
}

// Close stops accepting, closes every connection and waits for the
// server's goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.l.Close()
	s.DropConns()
	s.wg.Wait()
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.accept++
		p := &peer{s: s, factory: s.cfg.Factory}
		c, err := conn.Server(nc, p, &conn.Config{Wire: s.cfg.Wire, AllowUnknown: s.cfg.AllowUnknown})
		if err != nil {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.conns[c] = p
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			<-c.Done()
			c.Close(nil)
			for _, a := range p.reg.Reset() {
				a.cancel()
			}
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// peer is the server's side of one connection.
type peer struct {
	s       *Server
	factory imp.Factory
	reg     conn.Registry[*analyzer]
}

// analyzer is one analyzer of a connection; a nil an is a declined one.
type analyzer struct {
	an     imp.Analyzer
	cancel context.CancelFunc
}

// HandleMessage serves a message as Perl's Net::IMP::Remote::Server.
func (p *peer) HandleMessage(c *conn.Conn, m conn.Message) error {
	if p.s.cfg.Intercept != nil {
		handled, err := p.s.cfg.Intercept(c, m)
		if handled || err != nil {
			return err
		}
	}
	ctx := context.Background()
	switch m := m.(type) {
	case *conn.GetInterface:
		ifs, err := imp.GetInterface(ctx, p.factory, m.Interfaces)
		if err != nil {
			_, err = c.Send(conn.NewException(0, err.Error()))
			return err
		}
		_, err = c.Send(&conn.Interface{Interfaces: ifs})
		return err
	case *conn.SetInterface:
		f, err := imp.SetInterface(ctx, p.factory, m.Interface)
		if err != nil {
			_, err = c.Send(conn.NewException(0, "set_interface: unsupported interface"))
			return err
		}
		p.factory = f
	case *conn.NewAnalyzer:
		return p.newAnalyzer(c, m)
	case *conn.DeleteAnalyzer:
		if a, ok := p.reg.Delete(m.ID); ok {
			a.cancel()
		}
	case *conn.Data:
		a, ok := p.reg.Get(m.ID)
		if !ok {
			_, err := c.Send(conn.NewException(m.ID, fmt.Sprintf("no analyzer %d", m.ID)))
			return err
		}
		if a.an != nil {
			a.an.Data(m.Dir, m.Offset, m.Type, m.Data)
		}
	case *conn.Exception:
		// Perl's server prints it; nothing else happens.
	default:
		return fmt.Errorf("no handler for return type %s", m.Op())
	}
	return nil
}

func (p *peer) newAnalyzer(c *conn.Conn, m *conn.NewAnalyzer) error {
	if _, ok := p.reg.Get(m.ID); ok {
		_, err := c.Send(conn.NewException(m.ID, "analyzer exists already"))
		return err
	}
	meta, err := imp.ParseContext(m.Context)
	if err != nil {
		return nil // a Perl plugin dies here, and nothing is sent
	}
	ctx, cancel := context.WithCancel(context.Background())
	id := m.ID
	sink := imp.SinkFunc(func(r imp.Result) {
		if ctx.Err() == nil {
			_, _ = c.Send(&conn.Result{ID: id, Result: r})
		}
	})
	an, err := p.factory.NewAnalyzer(ctx, meta, sink)
	if err != nil {
		cancel()
		return nil
	}
	p.reg.AddID(id, &analyzer{an: an, cancel: cancel})
	if an == nil {
		for _, d := range []imp.Dir{imp.FromClient, imp.FromServer} {
			if _, err := c.Send(&conn.Result{ID: id, Result: imp.Pass(d, imp.MaxOffset)}); err != nil {
				return err
			}
		}
	}
	return nil
}
