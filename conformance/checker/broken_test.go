package checker_test

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// flaw is what a broken server of the suite gets wrong.
type flaw string

const (
	noFlaw               flaw = "none"
	wrongVersion         flaw = "sends set_version(2)"
	noVersion            flaw = "sends no set_version"
	wrongInterfaceReply  flaw = "answers get_interface with its own list, reversed"
	closeOnNewAnalyzer   flaw = "closes the connection on new_analyzer"
	noUnknownException   flaw = "sends no exception for an unknown analyzer"
	noDuplicateException flaw = "sends no exception for a duplicate analyzer"
	resultsAfterDelete   flaw = "ignores delete_analyzer and goes on giving results"
)

var flaws = []flaw{noFlaw, wrongVersion, noVersion, wrongInterfaceReply, closeOnNewAnalyzer,
	noUnknownException, noDuplicateException, resultsAfterDelete}

// brokenOwn is the plugin interface list of the broken servers.
var brokenOwn = []imp.Interface{
	{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass, imp.ResultDeny, imp.ResultFatal}},
	{DataType: imp.DataPacket, Results: []imp.ResultType{imp.ResultPass}},
}

// broken is a small IMP RPC server, one goroutine per connection reading
// frames and answering them in order, that behaves as the protocol says
// except for its flaw. Its "plugin" answers each chunk of data with
// pass(dir, -1).
type broken struct {
	flaw flaw
	wire conn.Wire
	l    net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	open map[net.Conn]bool
}

// brokenServers are the broken servers by flaw and wire.
var brokenServers = map[flaw]map[conn.Format]*broken{}

// startBroken starts a broken server for each flaw on each wire.
func startBroken() {
	for _, f := range flaws {
		brokenServers[f] = map[conn.Format]*broken{}
		for _, w := range wires {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			b := &broken{flaw: f, wire: conn.Options{Format: w}.MustWire(), l: l, open: map[net.Conn]bool{}}
			b.wg.Add(1)
			go b.serve()
			brokenServers[f][w] = b
		}
	}
}

// stopBroken closes every broken server and its connections, and waits
// for their goroutines.
func stopBroken() {
	for _, byWire := range brokenServers {
		for _, b := range byWire {
			b.l.Close()
			b.mu.Lock()
			for c := range b.open {
				c.Close()
			}
			b.mu.Unlock()
			b.wg.Wait()
		}
	}
}

func (b *broken) serve() {
	defer b.wg.Done()
	for {
		c, err := b.l.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		b.open[c] = true
		b.mu.Unlock()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.handle(c)
			c.Close()
			b.mu.Lock()
			delete(b.open, c)
			b.mu.Unlock()
		}()
	}
}

// handle serves one connection until it ends or the flaw ends it.
func (b *broken) handle(c net.Conn) {
	send := func(m conn.Message) error {
		buf, err := b.wire.Append(nil, m)
		if err != nil {
			return err
		}
		_, err = c.Write(buf)
		return err
	}
	switch b.flaw {
	case wrongVersion:
		send(&conn.SetVersion{Version: 2})
	case noVersion:
	default:
		send(&conn.SetVersion{Version: conn.Version})
	}
	analyzers := map[int64]bool{}
	rd := b.wire.NewReader(c)
	for {
		m, err := rd.ReadMessage()
		if conn.Recoverable(err) {
			continue // a bad frame is skipped, as Perl's server does
		}
		if err != nil {
			return
		}
		if err := b.answer(m, analyzers, send); err != nil {
			return
		}
	}
}

// errClose ends a connection on purpose.
var errClose = errors.New("closing on purpose")

// answer answers one message.
func (b *broken) answer(m conn.Message, analyzers map[int64]bool, send func(conn.Message) error) error {
	switch m := m.(type) {
	case *conn.GetInterface:
		reply := &conn.Interface{Interfaces: brokenOwn}
		switch {
		case len(m.Interfaces) > 0 && b.flaw == wrongInterfaceReply:
			reply.Interfaces = []imp.Interface{brokenOwn[1], brokenOwn[0]}
		case len(m.Interfaces) > 0:
			reply.Interfaces = imp.MatchInterfaces(brokenOwn, m.Interfaces)
		}
		return send(reply)
	case *conn.NewAnalyzer:
		if b.flaw == closeOnNewAnalyzer {
			return errClose
		}
		if analyzers[m.ID] {
			if b.flaw == noDuplicateException {
				return nil
			}
			return send(conn.NewException(m.ID, "analyzer exists already"))
		}
		analyzers[m.ID] = true
	case *conn.Data:
		if !analyzers[m.ID] {
			if b.flaw == noUnknownException {
				return nil
			}
			return send(conn.NewException(m.ID, "no analyzer "+strconv.FormatInt(m.ID, 10)))
		}
		if len(m.Data) > 0 {
			return send(&conn.Result{ID: m.ID, Result: imp.Pass(m.Dir, -1)})
		}
	case *conn.DeleteAnalyzer:
		if b.flaw != resultsAfterDelete {
			delete(analyzers, m.ID)
		}
	case *conn.SetInterface, *conn.Exception:
	default:
		return fmt.Errorf("no handler for %s", m.Op())
	}
	return nil
}
