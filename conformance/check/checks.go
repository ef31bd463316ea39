package check

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
)

// unknownID is an analyzer id no check creates.
const unknownID = 4242

var checks = []Check{
	{Name: "handshake/set-version", run: (*runner).checkSetVersion,
		Doc: "On a new connection the server speaks first, with set_version. A server that sends nothing first is a warning: Perl's client accepts it, a Go server must not do it."},
	{Name: "handshake/version", run: (*runner).checkVersion,
		Doc: "The version in set_version is 1, the only one there is (Perl's client dies on another). Not applicable when no set_version came."},
	{Name: "interface/none", run: (*runner).checkInterfaceNone,
		Doc: "get_interface() offering nothing is answered by interface(...) with at least one interface: the plugin's own list."},
	{Name: "interface/one", run: (*runner).checkInterfaceOne,
		Doc: "get_interface offering one interface (the first data type of the plugin's list, any result type) is answered by interface(...) with that interface."},
	{Name: "interface/several", run: (*runner).checkInterfaceSeveral,
		Doc: "get_interface offering several interfaces (that type, stream and packet) is answered by interface(...) with the offered interfaces that match, at least one, in the order offered, each at most once."},
	{Name: "analyzer/new", run: (*runner).checkNewAnalyzer,
		Doc: "new_analyzer(1, {meta => {...}}) and data(1, 0, 0, type, \"x\") give no exception and the connection stays open; any results are accepted."},
	{Name: "analyzer/unknown", run: (*runner).checkUnknown,
		Doc: "data for an analyzer id never created is answered by exception(id, \"no analyzer <id>\"); another text is a warning."},
	{Name: "analyzer/duplicate", run: (*runner).checkDuplicate,
		Doc: "new_analyzer for an id in use is answered by exception(id, \"analyzer exists already\"); another text is a warning."},
	{Name: "analyzer/delete", run: (*runner).checkDelete,
		Doc: "delete_analyzer gets no reply and the analyzer gives no result after it: data for the id afterwards is answered by exception(id, \"no analyzer <id>\")."},
	{Name: "data/end", run: (*runner).checkEnd,
		Doc: "Data, then end of data (empty data) in both directions give no exception and the connection stays open."},
	{Name: "analyzers/many", run: (*runner).checkMany,
		Doc: "500 analyzers (Options.Analyzers) created at once, each given data, then deleted: no exception, the connection stays open, and no results after the deletes."},
	{Name: "framing/batched", run: (*runner).checkBatched,
		Doc: "Three get_interface frames in one write are answered by three interface replies."},
	{Name: "framing/split", run: (*runner).checkSplit,
		Doc: "A data frame written in pieces is read whole. On the Sereal wire a failure is a warning: Perl's Sereal::Decoder misreads documents split after some tags, which no sender can rule out."},
	{Name: "framing/large", run: (*runner).checkLarge,
		Doc: "A data frame of 1 MiB is accepted: no exception, the connection stays open."},
	{Name: "framing/oversized", run: (*runner).checkOversized,
		Doc: "A frame announcing 4 GiB (Storable) or 1 TiB of string (Sereal), then get_interface: the server closes the connection or answers exception(0, ...); waiting for the bytes announced is a warning (Perl's server does). get_interface on a new connection must be answered afterwards."},
	{Name: "disconnect/mid-frame", run: (*runner).checkMidFrame,
		Doc: "A client that sends an analyzer, data and half a frame and then disconnects does not harm the server: get_interface on a new connection is answered."},
	{Name: "framing/garbage", run: (*runner).checkGarbage,
		Doc: "Bytes that are no valid frame (Storable: a frame whose payload is no Storable image; Sereal: no Sereal document), then get_interface: the server closes the connection, answers exception(0, ...), or skips the bad bytes and answers get_interface; neither answering nor closing is a warning (Perl's Sereal reader swallows what it cannot decode). get_interface on a new connection must be answered afterwards."},
}

// withSession runs fn on a new connection; a connection that cannot be
// made fails the check.
func (r *runner) withSession(fn func(*session) Result) Result {
	s, err := r.dial()
	if err != nil {
		return fail("a connection to "+r.addr, err.Error())
	}
	defer s.close()
	return fn(s)
}

// settled waits for the server to have handled what was sent (barrier)
// and requires that it sent no exception for ids (nor for the whole
// connection) and kept the connection open; results are not judged.
func (r *runner) settled(s *session, expected string, ids ...int64) Result {
	before, err := s.barrier()
	for _, id := range ids {
		if e := exceptionFor(before, id); e != nil {
			return fail(expected, describe(e))
		}
	}
	if err != nil {
		return fail(expected, r.describeErr(err)+" before the interface reply to get_interface")
	}
	return pass("")
}

func (r *runner) checkSetVersion() Result {
	return r.withSession(func(s *session) Result {
		const want = "set_version(1) as the server's first frame"
		h := r.hello
		switch {
		case h.first != nil:
			return pass("")
		case h.other != nil:
			return fail(want, describe(h.other))
		case h.err != nil:
			return fail(want, r.describeErr(h.err))
		}
		return warn(fmt.Sprintf("no set_version within %s: Perl's client accepts a server that never sends it, a Go server must send it first", r.opts.Quiet))
	})
}

func (r *runner) checkVersion() Result {
	h := r.hello
	if h == nil || h.first == nil {
		return notApplicable("the server sent no set_version")
	}
	if h.first.Version != conn.Version {
		return fail("set_version(1)", describe(h.first))
	}
	return pass("")
}

// getInterface sends get_interface(offered...) and requires the next
// message to be its interface reply.
func (r *runner) getInterface(s *session, want string, offered ...imp.Interface) ([]imp.Interface, *Result) {
	if err := s.send(&conn.GetInterface{Interfaces: offered}); err != nil {
		res := fail(want, "write: "+err.Error())
		return nil, &res
	}
	m, err := s.next(r.opts.Timeout)
	if err != nil {
		res := fail(want, r.describeErr(err))
		return nil, &res
	}
	in, ok := m.(*conn.Interface)
	if !ok {
		res := fail(want, describe(m))
		return nil, &res
	}
	return in.Interfaces, nil
}

func (r *runner) checkInterfaceNone() Result {
	return r.withSession(func(s *session) Result {
		const want = "interface(...) with the plugin's interfaces"
		ifs, res := r.getInterface(s, want)
		if res != nil {
			return *res
		}
		if len(ifs) == 0 {
			return fail(want, "interface() with none")
		}
		r.own = ifs
		for _, in := range ifs {
			if !in.AnyData {
				r.dataType = in.DataType
				break
			}
		}
		return pass("")
	})
}

// echoes checks a reply to get_interface(offered...): at least one
// interface, each of an offered data type, in offered order, each offered
// one at most once.
func echoes(offered, got []imp.Interface) string {
	if len(got) == 0 {
		return "interface() with none"
	}
	next := 0
	for _, g := range got {
		i := next
		for i < len(offered) && (g.AnyData || offered[i].DataType != g.DataType) {
			i++
		}
		if i == len(offered) {
			return fmt.Sprintf("%s, where %s is not offered or out of order", describe(&conn.Interface{Interfaces: got}), g)
		}
		next = i + 1
	}
	return ""
}

// offerReply offers interfaces of the given data types (any result type)
// and requires echoes of them.
func (r *runner) offerReply(types ...imp.DataType) Result {
	return r.withSession(func(s *session) Result {
		offered := make([]imp.Interface, len(types))
		for i, t := range types {
			offered[i] = imp.Interface{DataType: t}
		}
		want := fmt.Sprintf("interface(...) with the matching ones of %s, in that order",
			describe(&conn.GetInterface{Interfaces: offered}))
		ifs, res := r.getInterface(s, want, offered...)
		if res != nil {
			return *res
		}
		if bad := echoes(offered, ifs); bad != "" {
			return fail(want, bad)
		}
		return pass("")
	})
}

func (r *runner) checkInterfaceOne() Result { return r.offerReply(r.dataType) }

func (r *runner) checkInterfaceSeveral() Result {
	types := []imp.DataType{r.dataType}
	for _, t := range []imp.DataType{imp.DataStream, imp.DataPacket} {
		if t != r.dataType {
			types = append(types, t)
		}
	}
	return r.offerReply(types...)
}

func (r *runner) checkNewAnalyzer() Result {
	return r.withSession(func(s *session) Result {
		if err := s.send(newAnalyzer(1), r.data(1, imp.FromClient, []byte("x"))); err != nil {
			return fail("to send new_analyzer and data", err.Error())
		}
		return r.settled(s, "no exception for analyzer 1 and the connection open", 1)
	})
}

// expectNoAnalyzer sends data for id and requires exception(id, "no
// analyzer <id>") and no result of id before it.
func (r *runner) expectNoAnalyzer(s *session, id int64, after string) Result {
	want := fmt.Sprintf("exception(%d, \"no analyzer %d\")%s", id, id, after)
	if err := s.send(r.data(id, imp.FromClient, []byte("x"))); err != nil {
		return fail(want, "write: "+err.Error())
	}
	before, m, err := s.until(func(m conn.Message) bool {
		e, ok := m.(*conn.Exception)
		return ok && (e.ID == id || e.ID == 0)
	})
	if rs := resultsFor(before, id); len(rs) > 0 {
		return fail(want, describeAll(rs))
	}
	if err != nil {
		return fail(want, describeAll(before)+", then "+r.describeErr(err))
	}
	e := m.(*conn.Exception)
	if e.ID != id {
		return fail(want, describe(e))
	}
	if text := fmt.Sprintf("no analyzer %d", id); e.Text() != text {
		return warn(fmt.Sprintf("exception(%d, %q) where Perl's server says %q", id, e.Text(), text))
	}
	return pass("")
}

func (r *runner) checkUnknown() Result {
	return r.withSession(func(s *session) Result {
		return r.expectNoAnalyzer(s, unknownID, "")
	})
}

func (r *runner) checkDuplicate() Result {
	return r.withSession(func(s *session) Result {
		const want = `exception(1, "analyzer exists already")`
		if err := s.send(newAnalyzer(1), newAnalyzer(1)); err != nil {
			return fail(want, "write: "+err.Error())
		}
		before, err := s.barrier()
		e := exceptionFor(before, 1)
		switch {
		case e != nil && e.ID != 1:
			return fail(want, describe(e))
		case e == nil && err != nil:
			return fail(want, r.describeErr(err))
		case e == nil:
			return fail(want, describeAll(before)+" before the interface reply to get_interface")
		case e.Text() != "analyzer exists already":
			return warn(fmt.Sprintf("exception(1, %q) where Perl's server says \"analyzer exists already\"", e.Text()))
		}
		return pass("")
	})
}

func (r *runner) checkDelete() Result {
	return r.withSession(func(s *session) Result {
		if err := s.send(newAnalyzer(1), r.data(1, imp.FromClient, []byte("x")), &conn.DeleteAnalyzer{ID: 1}); err != nil {
			return fail("to send new_analyzer, data and delete_analyzer", err.Error())
		}
		if res := r.settled(s, "no reply to delete_analyzer(1) and the connection open", 1); res.Status != Pass {
			return res
		}
		return r.expectNoAnalyzer(s, 1, " for data after delete_analyzer(1), and no result of 1 after it")
	})
}

func (r *runner) checkEnd() Result {
	return r.withSession(func(s *session) Result {
		err := s.send(newAnalyzer(1), r.data(1, imp.FromClient, []byte("x")),
			r.data(1, imp.FromClient, nil), r.data(1, imp.FromServer, nil))
		if err != nil {
			return fail("to send data and end of data", err.Error())
		}
		return r.settled(s, "no exception for analyzer 1 after end of data in both directions, and the connection open", 1)
	})
}

func (r *runner) checkMany() Result {
	return r.withSession(func(s *session) Result {
		n := int64(r.opts.Analyzers)
		ids := make([]int64, 0, n)
		var create, del []conn.Message
		for id := int64(1); id <= n; id++ {
			ids = append(ids, id)
			create = append(create, newAnalyzer(id), r.data(id, imp.FromClient, []byte("x")))
			del = append(del, &conn.DeleteAnalyzer{ID: id})
		}
		if err := s.send(create...); err != nil {
			return fail(fmt.Sprintf("to send %d analyzers", n), err.Error())
		}
		want := fmt.Sprintf("no exception for %d analyzers with data, and the connection open", n)
		if res := r.settled(s, want, ids...); res.Status != Pass {
			return res
		}
		if err := s.send(del...); err != nil {
			return fail(fmt.Sprintf("to delete %d analyzers", n), err.Error())
		}
		if res := r.settled(s, "no reply to the delete_analyzer of each, and the connection open", ids...); res.Status != Pass {
			return res
		}
		// Every delete was read before that reply to get_interface: no
		// result may come after it, before the reply to another one.
		late, err := s.barrier()
		var rs []conn.Message
		for _, id := range ids {
			rs = append(rs, resultsFor(late, id)...)
		}
		if len(rs) > 0 {
			return fail("no result after delete_analyzer", describeAll(rs))
		}
		if err != nil {
			return fail("the connection open after the deletes", r.describeErr(err))
		}
		return pass("")
	})
}

func (r *runner) checkBatched() Result {
	return r.withSession(func(s *session) Result {
		const n = 3
		want := fmt.Sprintf("%d interface replies to %d get_interface frames in one write", n, n)
		ms := make([]conn.Message, n)
		for i := range ms {
			ms[i] = &conn.GetInterface{}
		}
		if err := s.send(ms...); err != nil {
			return fail(want, "write: "+err.Error())
		}
		for i := range n {
			m, err := s.next(r.opts.Timeout)
			if err != nil {
				return fail(want, fmt.Sprintf("%d replies, then %s", i, r.describeErr(err)))
			}
			if _, ok := m.(*conn.Interface); !ok {
				return fail(want, fmt.Sprintf("%d replies, then %s", i, describe(m)))
			}
		}
		return pass("")
	})
}

// pieceGap is the pause between the pieces of a split frame, so that the
// server reads them one by one.
const pieceGap = 5 * time.Millisecond

func (r *runner) checkSplit() Result {
	return r.withSession(func(s *session) Result {
		payload := []byte("split-frame-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789-end")
		frame, err := r.wire.Append(nil, r.data(1, imp.FromClient, payload))
		if err != nil {
			return fail("a data frame", err.Error())
		}
		at := bytes.Index(frame, payload)
		// Storable: the header byte by byte, then the payload in pieces
		// cutting through its Storable image and through the data.
		// Sereal: within the magic, then within the data string only
		// (see the check's Doc).
		cuts := []int{1, 2, 3, 4, 5, 6, at + 10, at + 40}
		if r.opts.Wire == conn.Sereal {
			cuts = []int{2, at + 10, at + 40}
		}
		if err := s.send(newAnalyzer(1)); err != nil {
			return fail("to send new_analyzer", err.Error())
		}
		res := pass("")
		prev := 0
		for _, c := range append(cuts, len(frame)) {
			if err := s.write(frame[prev:c]); err != nil {
				res = fail("the pieces of a data frame written", err.Error())
				break
			}
			prev = c
			time.Sleep(pieceGap)
		}
		if res.Status == Pass {
			res = r.settled(s, "the data frame read whole: no exception for analyzer 1, the connection open", 1)
		}
		if res.Status == Fail && r.opts.Wire == conn.Sereal {
			return warn(fmt.Sprintf("expected %s; got %s: Perl's Sereal::Decoder misreads documents that arrive in pieces", res.Expected, res.Got))
		}
		return res
	})
}

func (r *runner) checkLarge() Result {
	return r.withSession(func(s *session) Result {
		big := bytes.Repeat([]byte("x"), 1<<20)
		if err := s.send(newAnalyzer(1), r.data(1, imp.FromClient, big)); err != nil {
			return fail("to send 1 MiB of data", err.Error())
		}
		return r.settled(s, "no exception for analyzer 1 after 1 MiB of data, and the connection open", 1)
	})
}

// refused sends bad (what a normal client never sends, described by
// what), then get_interface, and judges the reply: the connection closed,
// exception(0, ...), or the bad frame skipped and get_interface answered
// are right; silence is a warning (loose says why); anything else fails.
// get_interface on a new connection must be answered afterwards.
func (r *runner) refused(bad []byte, what, loose string) Result {
	res := r.withSession(func(s *session) Result {
		if err := s.write(bad); err != nil {
			// The server may close before taking it all.
			return pass("closed while it was written")
		}
		time.Sleep(pieceGap)
		if err := s.send(&conn.GetInterface{}); err != nil {
			return pass("closed")
		}
		m, err := s.next(r.opts.Quiet)
		switch {
		case err == errSilent:
			return warn(fmt.Sprintf("neither answered nor closed within %s after %s (%s)", r.opts.Quiet, what, loose))
		case err != nil:
			return pass("closed")
		}
		switch m := m.(type) {
		case *conn.Exception:
			if m.ID == 0 {
				return pass("exception(0, ...)")
			}
		case *conn.Interface:
			return pass("skipped, and went on")
		}
		return fail("the connection closed, exception(0, ...), or the bad bytes skipped, after "+what, describe(m))
	})
	if res.Status == Fail {
		return res
	}
	if alive := r.alive("after " + what); alive.Status != Pass {
		return alive
	}
	return res
}

// alive requires a new connection to work: get_interface answered.
func (r *runner) alive(when string) Result {
	return r.withSession(func(s *session) Result {
		want := "a new connection whose get_interface is answered " + when
		if _, res := r.getInterface(s, want); res != nil {
			return *res
		}
		return pass("")
	})
}

func (r *runner) checkOversized() Result {
	var bad []byte
	if r.opts.Wire == conn.Sereal {
		// A Sereal v3 document: magic, version 3, no header suffix, then
		// a binary string announcing 1 TiB.
		bad = append([]byte("=\xF3rl\x03\x00\x26"), binary.AppendUvarint(nil, 1<<40)...)
	} else {
		bad = binary.LittleEndian.AppendUint16(nil, uint16(conn.OpData))
		bad = binary.LittleEndian.AppendUint32(bad, 0xFFFFFFF0)
	}
	bad = append(bad, "0123456789abcdef"...)
	return r.refused(bad, "a frame announcing more than any limit", "Perl's server waits for the bytes announced")
}

func (r *runner) checkMidFrame() Result {
	half, err := r.wire.Append(nil, r.data(1, imp.FromClient, bytes.Repeat([]byte("y"), 200)))
	if err != nil {
		return fail("a data frame", err.Error())
	}
	half = half[:len(half)/2]
	// The client goes away whatever happens meanwhile: write errors
	// (a server that closed first) do not matter.
	if s, err := r.dial(); err == nil {
		_ = s.send(newAnalyzer(1), r.data(1, imp.FromClient, []byte("x")))
		_ = s.write(half)
		s.close()
	}
	return r.alive("after a client disconnected mid-frame")
}

func (r *runner) checkGarbage() Result {
	var bad []byte
	if r.opts.Wire == conn.Sereal {
		bad = []byte("GARBAGE, NOT A SEREAL DOCUMENT\n")
	} else {
		// A get_interface frame whose payload is no Storable image.
		bad = binary.LittleEndian.AppendUint16(nil, uint16(conn.OpGetInterface))
		bad = binary.LittleEndian.AppendUint32(bad, 8)
		bad = append(bad, "GARBAGE!"...)
	}
	return r.refused(bad, "bytes that are no frame", "Perl's Sereal reader swallows what it cannot decode and waits")
}
