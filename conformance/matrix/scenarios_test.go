package matrix_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/client"
	"github.com/goimp/imprpc/conformance/internal/imptext"
	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/perl"
)

// The scenarios: each runs in every cell (DescribeTable per cell, one
// Entry per scenario).

var (
	stream = imp.DataStream
	packet = imp.DataPacket
)

func chunk(dir imp.Dir, typ imp.DataType, s string) imptest.Chunk {
	return imptest.Chunk{Dir: dir, Type: typ, Data: []byte(s)}
}

// ends are the ends of data of both directions.
func ends(typ imp.DataType) []imptest.Chunk {
	return []imptest.Chunk{chunk(0, typ, ""), chunk(1, typ, "")}
}

// metaCtx is the context {meta => {...}} of a data provider, as the
// protocol description shows it: {caddr => ..., cport => 40001, laddr =>
// ..., lport => '3000'}. (With lport as an integer the Sereal document
// of new_analyzer ends in an integer, which imprpc_server.pl's
// Sereal::Decoder misreads when a read ends right after its tag: the
// connection is lost; see the suite's notes.)
func metaCtx() perl.Value { return contextOf(addrMeta()) }

// addrMeta is the meta hash of metaCtx.
func addrMeta() *perl.Hash {
	meta := perl.NewHash(4)
	meta.Set("caddr", perl.Bytes("192.0.2.10"))
	meta.Set("cport", perl.Int(40001))
	meta.Set("laddr", perl.Bytes("127.0.0.1"))
	meta.Set("lport", perl.Bytes("3000"))
	return meta
}

// contextOf returns the context {meta => meta}.
func contextOf(meta *perl.Hash) perl.Value {
	ctx := perl.NewHash(1)
	ctx.Set("meta", perl.HashRef(meta))
	return perl.HashRef(ctx)
}

// analyze runs the cases through one factory of the cell's client on
// the server of role, all analyzers at once, and requires each to get
// the results of the plugin in-process.
func analyze(c cell, role string, cases ...refCase) {
	GinkgoHelper()
	p := dial(c, role)
	if cases[0].set != nil {
		p.setInterface(*cases[0].set)
	}
	want := reference(cases...)
	hs := make([]int, len(cases))
	counts := map[int]int{}
	for i, rc := range cases {
		hs[i] = p.newAnalyzer(rc.ctx)
		counts[hs[i]] = want[i].atLeast(c, rc.chunks)
	}
	for step := 0; ; step++ {
		more := false
		for i, rc := range cases {
			if step < len(rc.chunks) {
				p.data(hs[i], rc.chunks[step])
				more = true
			}
		}
		if !more {
			break
		}
	}
	got := p.await(counts)
	for i := range cases {
		Expect(want[i].sameFor(c, p, hs[i], got[hs[i]], cases[i].chunks)).To(BeEmpty(), "analyzer %d of %d", i+1, len(cases))
	}
	Expect(p.stderr()).To(BeEmpty(), "what the Perl client printed on stderr")
}

// expectResults requires analyzer h to get the results of ref for the
// cell, the data having been chunks.
func expectResults(c cell, p provider, h int, ref inproc, chunks []imptest.Chunk) {
	GinkgoHelper()
	got := p.await(map[int]int{h: ref.atLeast(c, chunks)})[h]
	Expect(ref.sameFor(c, p, h, got, chunks)).To(BeEmpty())
}

// chunked cuts s into pieces of n bytes (all of it for n 0).
func chunked(dir imp.Dir, s string, n int) []imptest.Chunk {
	if n == 0 {
		return []imptest.Chunk{chunk(dir, stream, s)}
	}
	var cs []imptest.Chunk
	for len(s) > n {
		cs = append(cs, chunk(dir, stream, s[:n]))
		s = s[n:]
	}
	return append(cs, chunk(dir, stream, s))
}

// interleave alternates the chunks of two directions, then ends both.
func interleave(a, b []imptest.Chunk) []imptest.Chunk {
	var out []imptest.Chunk
	for len(a) > 0 || len(b) > 0 {
		if len(a) > 0 {
			out, a = append(out, a[0]), a[1:]
		}
		if len(b) > 0 {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(out, ends(stream)...)
}

// streamCases are the same two streams cut in several ways, each one
// analyzer: whole, byte by byte, and in pieces that split the patterns.
func streamCases(role, differs, fromClient, fromServer string) []refCase {
	var cs []refCase
	for _, n := range []int{0, 1, 4, 7, 13} {
		cs = append(cs, refCase{specs: roleSpecs[role], differs: differs, ctx: metaCtx(),
			chunks: interleave(chunked(0, fromClient, n), chunked(1, fromServer, n))})
	}
	return cs
}

// utf8Context is a context as data providers send it, with UTF-8 and
// byte values, numbers as integers and strings, and a nested hash.
func utf8Context() perl.Value {
	meta := addrMeta()
	meta.Set("app", perl.String("imp_proxy ☺ café"))
	meta.Set("user", perl.Bytes("caf\xe9"))
	nested := perl.NewHash(0)
	nested.Set("a", perl.Int(1))
	nested.Set("b", perl.String("ünïcödé"))
	meta.Set("nested", perl.HashRef(nested))
	return contextOf(meta)
}

// ---- the raw Go wire, for what no client API sends ---------------------------

type rawConn struct {
	c   *conn.Conn
	got chan conn.Message
}

// dialRaw connects conn.Client, the wire layer of package client, which
// can send what package client never does (an id of its choice).
func dialRaw(addr string, w conn.Format) *rawConn {
	GinkgoHelper()
	nc, err := net.Dial("tcp", addr)
	Expect(err).NotTo(HaveOccurred())
	r := &rawConn{got: make(chan conn.Message, 100)}
	r.c, err = conn.Client(nc, conn.HandlerFunc(func(_ *conn.Conn, m conn.Message) error {
		r.got <- m
		return nil
	}), &conn.Config{Wire: conn.Options{Format: w}})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { r.c.Close(nil) })
	return r
}

func (r *rawConn) send(ms ...conn.Message) {
	GinkgoHelper()
	for _, m := range ms {
		_, err := r.c.Send(m)
		Expect(err).NotTo(HaveOccurred())
	}
}

// next returns the next message from the server (as "imprpc frames"
// shows it).
func (r *rawConn) next() string {
	GinkgoHelper()
	var m conn.Message
	Eventually(r.got, 20*time.Second).Should(Receive(&m))
	b, err := conn.AppendJSON(nil, m)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

func jsonOf(m conn.Message) string {
	GinkgoHelper()
	b, err := conn.AppendJSON(nil, m)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

func rawData(id int64, s string) *conn.Data {
	return &conn.Data{ID: id, Dir: 0, Type: stream, Data: []byte(s)}
}

// ---- the scenarios -------------------------------------------------------------

// scenario is what one Entry runs in a cell.
type scenario func(c cell)

// cascadeDiffers is why Perl's Net::IMP::Cascade gives other results
// than ours for data a part replaces (docs/conformance.md, "cascade").
const cascadeDiffers = "Net::IMP::Cascade feeds a part that replaced the end of what it held an empty placeholder, " +
	"which the part takes for the end of data (docs/conformance.md, cascade: Perl's bugs); " +
	"each cell gives what its server's cascade gives in-process"

var ownInterface = []string{"[undef, [pass,replace]]"}

func getInterface(offered ...imp.Interface) scenario {
	return func(c cell) {
		want := interfaceReference(roleSpecs[rolePattern], offered...)
		p := dial(c, rolePattern)
		Expect(p.getInterface(offered...)).To(Equal(want))
		Expect(p.stderr()).To(BeEmpty())
	}
}

var scenarios = []TableEntry{
	Entry("handshake: the client takes set_version(1), and its first analyzer gets the plugin's results", scenario(func(c cell) {
		analyze(c, rolePattern, refCase{specs: roleSpecs[rolePattern], ctx: metaCtx(),
			chunks: append([]imptest.Chunk{chunk(0, stream, "hello secret world")}, ends(stream)...)})
	})),

	Entry("get_interface with none offered: the plugin's own list, [undef, [pass,replace]]", scenario(func(c cell) {
		Expect(interfaceReference(roleSpecs[rolePattern])).To(Equal(ownInterface))
		getInterface()(c)
	})),
	Entry("get_interface with one offered interface: echoed as offered", scenario(
		getInterface(imp.Interface{DataType: stream, Results: []imp.ResultType{imp.ResultPass, imp.ResultReplace, imp.ResultFatal}}))),
	Entry("get_interface with several, undef data type and undef result list among them: Net::IMP::Base's matches in order", scenario(
		getInterface(
			imp.Interface{DataType: packet, Results: []imp.ResultType{imp.ResultPass}},
			imp.Interface{AnyData: true},
			imp.Interface{DataType: stream},
			imp.Interface{DataType: stream, Results: []imp.ResultType{imp.ResultDeny, imp.ResultReplace, imp.ResultPass, imp.ResultFatal}},
			imp.Interface{DataType: packet, Results: []imp.ResultType{}}))),

	Entry("set_interface accepted: the analyzer's results are the plugin's after the same set_interface", scenario(func(c cell) {
		set := imp.Interface{DataType: stream, Results: []imp.ResultType{imp.ResultPass, imp.ResultReplace, imp.ResultFatal}}
		analyze(c, rolePattern, refCase{specs: roleSpecs[rolePattern], set: &set, ctx: metaCtx(),
			chunks: append([]imptest.Chunk{chunk(0, stream, "a secret"), chunk(1, stream, "no")}, ends(stream)...)})
	})),
	Entry(`set_interface refused: exception(0, "set_interface: unsupported interface") ends the connection`, scenario(func(c cell) {
		// The analyzer is made first: exception(0) ends it whenever it
		// comes (an analyzer made after it would be on a new connection).
		p := dial(c, rolePattern)
		h := p.newAnalyzer(metaCtx())
		p.setInterface(imp.Interface{DataType: stream, Results: []imp.ResultType{imp.ResultPass}})
		switch p := p.(type) {
		case *goProvider:
			var ee *client.ExceptionError
			Expect(errors.As(p.end(h), &ee)).To(BeTrue(), "the analyzer ends with the exception")
			Expect(*ee).To(Equal(client.ExceptionError{ID: 0, Message: "set_interface: unsupported interface"}))
		case *perlProvider:
			// It prints the exception, closes the connection, and then
			// dies in its read callback on the connection it closed (EV
			// ignores the error): a bug of Net::IMP::Remote 0.010, the
			// same with either server.
			Expect(p.awaitStderr(2)).To(Equal([]string{
				"[Net::IMP::Remote::Connection=HASH(ADDR)] error: global exception: set_interface: unsupported interface",
				`EV: error in callback (ignoring): Can't call method "buf2rpc" on an undefined value at Connection.pm line 217.`,
			}))
		}
	})),

	Entry("new_analyzer with a context as data providers send it ({meta => {...}}, UTF-8 values): the plugin sees it whole", scenario(func(c cell) {
		analyze(c, roleEcho, refCase{specs: roleSpecs[roleEcho], ctx: utf8Context()})
	})),

	Entry("stream data in both directions, chunked five ways, with end of data: Net::IMP::Pattern's results", scenario(func(c cell) {
		analyze(c, rolePattern, streamCases(rolePattern, "",
			"GET /secret/file HTTP/1.0\r\nX-Token: secret\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\nsecrets: secret, secret")...)
	})),
	Entry("stream data through a cascade of two plugins that replace nothing, chunked five ways: Net::IMP::Cascade's results, the same in Perl and Go", scenario(func(c cell) {
		analyze(c, roleCascade, streamCases(roleCascade, "", "a plan, not evil at all", "the reply, not evil either")...)
	})),
	Entry("stream data through a cascade of two plugins, one replacing, chunked five ways: each server's cascade in-process (documented difference)", scenario(func(c cell) {
		analyze(c, roleCascade, streamCases(roleCascade, cascadeDiffers, "a secret plan, not evil at all", "the secret reply")...)
	})),
	Entry("packet data in both directions, with end of data: the results of each packet", scenario(func(c cell) {
		analyze(c, roleEvery, refCase{specs: roleSpecs[roleEvery], ctx: metaCtx(), chunks: append([]imptest.Chunk{
			chunk(0, packet, "log prepass"), chunk(1, packet, "log:notice acctfield"), chunk(0, packet, "pass"), chunk(1, packet, "port_open pass")},
			ends(packet)...)})
	})),
	Entry("every result type with every argument shape (one analyzer per word, both directions)", scenario(func(c cell) {
		var cases []refCase
		for _, w := range imptext.EveryResultWords(c.wire) {
			for dir := imp.Dir(0); dir <= 1; dir++ {
				cases = append(cases, refCase{specs: roleSpecs[roleEvery], ctx: metaCtx(), chunks: []imptest.Chunk{chunk(dir, stream, w)}})
			}
		}
		analyze(c, roleEvery, cases...)
	})),
	Entry("an unknown data type: the Go server carries it to the plugin; Perl's loses the frame silently and goes on (documented)", scenario(unknownDataType)),

	Entry("data of a type the plugin's interface does not name (stream data for a packet plugin): Go's server answers with an exception, Perl's gives it to the plugin", scenario(typeNotInInterface)),
	Entry(`data for an unknown analyzer: exception(id, "no analyzer <id>")`, scenario(func(c cell) {
		if c.client == perlSide {
			notApplicable("Net::IMP::Remote sends data only for analyzers it made")
		}
		r := dialRaw(c.endpoint(rolePattern).addr, c.wire)
		r.send(rawData(99, "x"))
		Expect(r.next()).To(Equal(jsonOf(conn.NewException(99, "no analyzer 99"))))
	})),
	Entry(`new_analyzer for an id in use: exception(id, "analyzer exists already"), the first analyzer goes on`, scenario(func(c cell) {
		if c.client == perlSide {
			notApplicable("Net::IMP::Remote never reuses an id in use")
		}
		r := dialRaw(c.endpoint(roleEvery).addr, c.wire)
		r.send(&conn.NewAnalyzer{ID: 1, Context: metaCtx()}, &conn.NewAnalyzer{ID: 1, Context: metaCtx()})
		Expect(r.next()).To(Equal(jsonOf(conn.NewException(1, "analyzer exists already"))))
		r.send(rawData(1, "log"))
		Expect(r.next()).To(Equal(jsonOf(&conn.Result{ID: 1, Result: imp.Log(0, 0, 3, imp.LogInfo, "log message")})))
	})),
	Entry("an analyzer the server refuses to make (a context key the plugin does not know) ends with an exception: Go's server at once, Perl's for the data after; Perl's client refuses to send it (documented)", scenario(refusedAnalyzer)),
	Entry("a declined analyzer: pass(0, -1) and pass(1, -1), its later data ignored", scenario(func(c cell) {
		ref := reference(refCase{specs: roleSpecs[roleDecline], ctx: metaCtx()})[0]
		Expect(ref.declined).To(BeTrue(), "the plugin declines in-process")
		want := []string{resultText(imp.Pass(0, imp.MaxOffset)), resultText(imp.Pass(1, imp.MaxOffset))}
		p := dial(c, roleDecline)
		h := p.newAnalyzer(metaCtx())
		Expect(imptext.DiffResults(p.await(map[int]int{h: 2})[h], want)).To(BeEmpty())
		switch p := p.(type) {
		case *goProvider:
			Expect(p.end(h)).To(MatchError(client.ErrDeclined))
		case *perlProvider:
			p.data(h, chunk(0, stream, "ignored"))
			p.quiet(300*time.Millisecond, h)
		}
		Expect(p.stderr()).To(BeEmpty())
	})),
	Entry("delete_analyzer: the analyzer is gone (nothing more for it), the connection's other analyzers go on", scenario(deleteAnalyzer)),
	Entry("500 analyzers at once on one connection: each gets its own results", scenario(func(c cell) {
		var cases []refCase
		for i := range 500 {
			cases = append(cases, refCase{specs: roleSpecs[rolePattern], ctx: metaCtx(), chunks: append([]imptest.Chunk{
				chunk(0, stream, fmt.Sprintf("analyzer %d: secret", i)), chunk(1, stream, "secretly")}, ends(stream)...)})
		}
		analyze(c, rolePattern, cases...)
	})),
	Entry("the server goes away mid-stream: Go's analyzers end with a *ConnectionLostError, Perl's get nothing more (documented)", scenario(serverGoesAway)),
	Entry("a Sereal frame split right after the tag of the integer that ends it: Go's server reads it, imprpc_server.pl's Sereal::Decoder misreads it and the connection's frames are lost", scenario(splitAfterIntegerTag)),
	Entry("a client goes away mid-frame: the server drops that connection and serves the others", scenario(clientGoesAwayMidFrame)),
}

var _ = Describe("The interop matrix", func() {
	for _, c := range cells() {
		var labels Labels
		if c.live() {
			labels = Label("live")
		}
		Describe(c.String(), labels, func() {
			if c.live() {
				BeforeEach(needLive)
			}
			DescribeTable("scenario", func(s scenario) { s(c) }, scenarios)
		})
	}
})

// unknownDataType sends data of a type neither side defines.
func unknownDataType(c cell) {
	e := c.endpoint(roleEvery)
	p := dial(c, roleEvery)
	h := p.newAnalyzer(metaCtx())
	var mark int
	if e.stderr != nil {
		mark = e.stderr.mark()
	}
	p.data(h, chunk(0, unknownType, "log"))
	if c.server == goSide {
		// The protocol: "A receiver must carry unknown data types through
		// unchanged"; the plugin's interface takes any data type.
		want := runGo(refCase{specs: roleSpecs[roleEvery], chunks: []imptest.Chunk{chunk(0, unknownType, "log")}})
		Expect(want.results).To(HaveLen(1))
		Expect(imptext.DiffResults(p.await(map[int]int{h: 1})[h], want.results)).To(BeEmpty())
	} else {
		// Perl's server dies reading the frame ("cannot map N to known
		// data type"): the frame is lost with a warning on its stderr, no
		// exception is sent, and the connection goes on
		// (imprpc-protocol.md, "What the Perl server does").
		p.quiet(500*time.Millisecond, h)
		Eventually(e.stderr.since(mark), 10*time.Second).Should(ContainSubstring(fmt.Sprintf("cannot map %d to known data type", int64(unknownType))))
		probe := p.newAnalyzer(metaCtx())
		p.data(probe, chunk(0, stream, "log"))
		chunks := []imptest.Chunk{chunk(0, stream, "log")}
		expectResults(c, p, probe, reference(refCase{specs: roleSpecs[roleEvery], ctx: metaCtx(), chunks: chunks})[0], chunks)
	}
	Expect(p.stderr()).To(BeEmpty(), "nothing reaches the Perl client's stderr")
}

// deleteAnalyzer deletes one analyzer mid-stream through the client's
// API and, where the client can send it (Go's wire layer), shows on the
// wire that the server forgot it.
func deleteAnalyzer(c cell) {
	p := dial(c, roleEvery)
	gone, stays := p.newAnalyzer(metaCtx()), p.newAnalyzer(metaCtx())
	p.data(gone, chunk(0, stream, "log"))
	p.await(map[int]int{gone: 1})
	p.closeAnalyzer(gone)
	p.data(stays, chunk(0, stream, "log"))
	p.data(stays, chunk(0, stream, "log:warning"))
	chunks := []imptest.Chunk{chunk(0, stream, "log"), chunk(0, stream, "log:warning")}
	expectResults(c, p, stays, reference(refCase{specs: roleSpecs[roleEvery], ctx: metaCtx(), chunks: chunks})[0], chunks)
	Expect(p.stderr()).To(BeEmpty())
	if c.client == goSide {
		r := dialRaw(c.endpoint(roleEvery).addr, c.wire)
		r.send(&conn.NewAnalyzer{ID: 7, Context: metaCtx()}, rawData(7, "log"))
		Expect(r.next()).To(Equal(jsonOf(&conn.Result{ID: 7, Result: imp.Log(0, 0, 3, imp.LogInfo, "log message")})))
		r.send(&conn.DeleteAnalyzer{ID: 7}, rawData(7, "log"))
		Expect(r.next()).To(Equal(jsonOf(conn.NewException(7, "no analyzer 7"))))
	}
}

// serverGoesAway stops the server while an analyzer is mid-stream.
func serverGoesAway(c cell) {
	e := c.endpoint(roleDrop)
	p := dial(c, roleDrop)
	h := p.newAnalyzer(metaCtx())
	first := chunk(0, stream, "here is a sec")
	want := reference(refCase{specs: roleSpecs[roleDrop], ctx: metaCtx(), chunks: []imptest.Chunk{first}})[0]
	p.data(h, first)
	expectResults(c, p, h, want, []imptest.Chunk{first})
	e.drop()
	DeferCleanup(e.restart)
	switch p := p.(type) {
	case *goProvider:
		// docs/conformance.md: every analyzer of the connection ends with
		// a *ConnectionLostError (Perl's wait forever).
		err := p.end(h)
		var lost *client.ConnectionLostError
		Expect(errors.As(err, &lost)).To(BeTrue(), "ends with %v", err)
		Expect(err).To(MatchError(client.ErrConnectionLost))
	case *perlProvider:
		// imprpc-protocol.md: open analyzers get nothing, data written to
		// them is dropped silently.
		p.quiet(300*time.Millisecond, h)
		p.data(h, chunk(0, stream, "ret"))
		p.quiet(300*time.Millisecond, h)
		Expect(p.stderr()).To(BeEmpty())
	}
}

// clientGoesAwayMidFrame has another connection of the cell's client
// side write whole frames and half a frame, then close, while an
// analyzer of the cell's client is mid-stream.
func clientGoesAwayMidFrame(c cell) {
	e := c.endpoint(rolePattern)
	p := dial(c, rolePattern)
	h := p.newAnalyzer(metaCtx())
	chunks := append([]imptest.Chunk{chunk(0, stream, "before the "), chunk(0, stream, "secret, after")}, ends(stream)...)
	want := reference(refCase{specs: roleSpecs[rolePattern], ctx: metaCtx(), chunks: chunks})[0]
	p.data(h, chunks[0])

	wire := conn.Options{Format: c.wire}.MustWire()
	whole, err := wire.Append(nil, &conn.NewAnalyzer{ID: 1, Context: metaCtx()})
	Expect(err).NotTo(HaveOccurred())
	part, err := wire.Append(nil, rawData(1, strings.Repeat("secret ", 100)))
	Expect(err).NotTo(HaveOccurred())
	half := append(whole, part[:len(part)/2]...)
	var mark int
	if e.stderr != nil {
		mark = e.stderr.mark()
	}
	// The cell's client side writes the bytes and closes its socket.
	raw := dialRawPeer(c, e.addr)
	raw.write(half)
	raw.close()

	for _, ch := range chunks[1:] {
		p.data(h, ch)
	}
	expectResults(c, p, h, want, chunks)
	Expect(p.stderr()).To(BeEmpty())
	if e.stderr != nil {
		// Perl's server reports the connection it dropped: the end of
		// the stream inside a frame, or a reset when the peer closed with
		// set_version unread.
		Eventually(e.stderr.since(mark), 10*time.Second).Should(MatchRegexp(`error: (eof inside operation|failed to read: Connection reset by peer)`))
	}
	// And the server takes new connections.
	q := dial(c, rolePattern)
	Expect(q.getInterface()).To(Equal(ownInterface))
}

// refusedAnalyzer makes an analyzer with a context Net::IMP::Base
// refuses (a top-level key other than meta). Go's server answers
// exception(id, ...) naming the key at once; Perl's plugin dies inside
// new_analyzer, no reply, and the data after it is answered with
// exception(id, "no analyzer <id>") (imprpc-protocol.md, "What the Perl
// server does"; docs/conformance.md for the frames it reads together
// with the one that died, which wait for more bytes: the data is sent
// again until the exception comes). Perl's client cannot send such a
// context: it dies itself.
func refusedAnalyzer(c cell) {
	bad := perl.NewHash(2)
	bad.Set("meta", perl.HashRef(perl.NewHash(0)))
	bad.Set("foo", perl.Int(1))
	p := dial(c, roleEvery)
	if pp, ok := p.(*perlProvider); ok {
		// Net::IMP::Remote's analyzer is a Net::IMP::Base one too: its
		// own new_analyzer dies on the key, and nothing is sent.
		_, err := pp.c.NewAnalyzer(testCtx(), perl.HashRef(bad))
		var se *perlproc.ScriptError
		Expect(errors.As(err, &se)).To(BeTrue(), "new_analyzer returned %v", err)
		Expect(se.Message).To(HavePrefix("Attempt to access disallowed key 'foo' in a restricted hash at "))
		Expect(pp.stderr()).To(BeEmpty())
		return
	}
	gp := p.(*goProvider)
	var (
		h   int
		end error
	)
	for attempt := 1; ; attempt++ {
		// A frame imprpc_server.pl reads while it is still accepting the
		// connection is handled inside its accept callback, where a
		// plugin that dies takes the connection with it
		// (docs/conformance.md): the analyzer is made after an answer
		// and a quiet moment, and again on a new connection when the
		// connection was lost all the same.
		Expect(gp.getInterface()).NotTo(BeEmpty())
		Consistently(func() bool { return gp.f.Stats().Connected }, time.Duration(attempt)*100*time.Millisecond).Should(BeTrue())
		h = gp.newAnalyzer(perl.HashRef(bad))
		Eventually(func() error {
			gp.data(h, chunk(0, stream, "pass"))
			return gp.analyzer(h).a.Err()
		}, 10*time.Second, 50*time.Millisecond).ShouldNot(Succeed())
		end = gp.end(h)
		if c.server == goSide || !errors.Is(end, client.ErrConnectionLost) || attempt == 5 {
			break
		}
		By("the connection was lost: the frame came while the server was accepting it; again")
	}
	id := gp.analyzer(h).a.ID()
	want := fmt.Sprintf("no analyzer %d", id)
	if c.server == goSide {
		want = `new_analyzer: context: unknown key "foo" (only "meta" is allowed)`
	}
	var ee *client.ExceptionError
	Expect(errors.As(end, &ee)).To(BeTrue(), "the analyzer ends with %v", end)
	Expect(*ee).To(Equal(client.ExceptionError{ID: id, Message: want}))
	Expect(gp.analyzer(h).snapshot()).To(BeEmpty())
}

// typeNotInInterface gives stream data to a plugin whose one interface
// is for packets.
func typeNotInInterface(c cell) {
	p := dial(c, rolePackets)
	h := p.newAnalyzer(metaCtx())
	chunks := []imptest.Chunk{chunk(0, stream, "log")}
	p.data(h, chunks[0])
	if c.server == perlSide {
		// Net::IMP::Base does not look at the data type: the plugin
		// analyzes the data as in-process.
		expectResults(c, p, h, reference(refCase{specs: roleSpecs[rolePackets], ctx: metaCtx(), chunks: chunks})[0], chunks)
		Expect(p.stderr()).To(BeEmpty())
		return
	}
	const msg = "data: data type imp.data.stream is not supported by the plugin"
	switch p := p.(type) {
	case *goProvider:
		var ee *client.ExceptionError
		Expect(errors.As(p.end(h), &ee)).To(BeTrue())
		Expect(*ee).To(Equal(client.ExceptionError{ID: 1, Message: msg}))
	case *perlProvider:
		Expect(p.awaitStderr(1)).To(Equal([]string{fmt.Sprintf("[%d] %s", h, msg)}))
		Expect(p.results[h]).To(BeEmpty())
	}
}

// ---- raw peers: bytes as written, on each client's side ----------------------

// rawPeer is a connection that writes bytes as they are: a Go net.Conn
// for the Go-client cells, rpc-client.pl's own socket for the Perl ones.
// Messages from the server are returned as "imprpc frames" shows them.
type rawPeer interface {
	write(b []byte)
	// recv returns the next n messages (fewer when the server closed the
	// connection or 20 seconds passed).
	recv(n int) []string
	// quiet returns what came within d.
	quiet(d time.Duration) []string
	close()
}

func dialRawPeer(c cell, addr string) rawPeer {
	GinkgoHelper()
	var p rawPeer
	if c.client == goSide {
		nc, err := net.Dial("tcp", addr)
		Expect(err).NotTo(HaveOccurred())
		gp := &goRawPeer{nc: nc, got: make(chan string, 100)}
		go gp.read(conn.Options{Format: c.wire}.MustWire().NewReader(nc))
		p = gp
	} else {
		var r struct {
			Conn int `json:"conn"`
		}
		perlCall(map[string]any{"op": "connect", "addr": addr, "wire": c.wire.String()}, &r)
		p = &perlRawPeer{id: r.Conn}
	}
	DeferCleanup(p.close)
	return p
}

type goRawPeer struct {
	nc  net.Conn
	got chan string
}

func (p *goRawPeer) read(r *conn.Reader) {
	defer close(p.got)
	for {
		m, err := r.ReadMessage()
		if err != nil {
			return
		}
		b, err := conn.AppendJSON(nil, m)
		if err != nil {
			b = []byte(err.Error())
		}
		p.got <- string(b)
	}
}

func (p *goRawPeer) write(b []byte) {
	GinkgoHelper()
	_, err := p.nc.Write(b)
	Expect(err).NotTo(HaveOccurred())
}

func (p *goRawPeer) recv(n int) []string {
	var out []string
	timeout := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case m, ok := <-p.got:
			if !ok {
				return out
			}
			out = append(out, m)
		case <-timeout:
			return out
		}
	}
	return out
}

func (p *goRawPeer) quiet(d time.Duration) []string {
	var out []string
	Consistently(func() []string {
		select {
		case m, ok := <-p.got:
			if ok {
				out = append(out, m)
			}
		default:
		}
		return nil
	}, d, 5*time.Millisecond).Should(BeEmpty())
	return out
}

func (p *goRawPeer) close() { p.nc.Close() }

type perlRawPeer struct {
	id     int
	closed bool
}

func (p *perlRawPeer) write(b []byte) {
	GinkgoHelper()
	perlCall(map[string]any{"op": "send_hex", "conn": p.id, "hex": hex.EncodeToString(b)}, nil)
}

func (p *perlRawPeer) read(req map[string]any) []string {
	GinkgoHelper()
	var r struct {
		RPCs []string `json:"rpcs"`
	}
	req["conn"] = p.id
	perlCall(req, &r)
	out := []string{}
	for _, t := range r.RPCs {
		a := taggedArray(t)
		op, ok := imp.ToInt(a.Elems[0])
		Expect(ok).To(BeTrue(), "op of %s", t)
		m, err := conn.ParseMessage(conn.Op(op), a.Elems[1:])
		Expect(err).NotTo(HaveOccurred(), "RPC %s", t)
		out = append(out, jsonOf(m))
	}
	return out
}

func (p *perlRawPeer) recv(n int) []string {
	return p.read(map[string]any{"op": "recv", "count": n})
}

func (p *perlRawPeer) quiet(d time.Duration) []string {
	return p.read(map[string]any{"op": "quiet", "seconds": d.Seconds()})
}

func (p *perlRawPeer) close() {
	if !p.closed {
		p.closed = true
		_ = perlClient.Call(context.Background(), map[string]any{"op": "close", "conn": p.id}, nil)
	}
}

// splitAfterIntegerTag writes a new_analyzer whose Sereal document ends
// in an integer (lport => 3000, as imp.Meta.Context writes ports) in two
// writes, the first ending right after the integer's tag, then data for
// the analyzer.
func splitAfterIntegerTag(c cell) {
	if c.wire != conn.Sereal {
		notApplicable("a Storable frame carries its length before the document; the misread is Sereal::Decoder's")
	}
	e := c.endpoint(roleSplit)
	// imprpc_server.pl never recovers: the read callback of the
	// connection dies at every turn of its event loop, also after the
	// peer closed, and keeps a core busy. The server is restarted.
	DeferCleanup(func() {
		e.drop()
		e.restart()
	})
	ctx := (&imp.Meta{ClientAddr: "192.0.2.10", ClientPort: 40001, ListenAddr: "127.0.0.1", ListenPort: 3000}).Context()
	wire := conn.Options{Format: c.wire}.MustWire()
	frame, err := wire.Append(nil, &conn.NewAnalyzer{ID: 1, Context: ctx})
	Expect(err).NotTo(HaveOccurred())
	// The document ends in VARINT 3000: the tag 0x20, then b8 17.
	Expect(frame[len(frame)-3:]).To(Equal([]byte{0x20, 0xb8, 0x17}))
	data, err := wire.Append(nil, rawData(1, "log"))
	Expect(err).NotTo(HaveOccurred())

	p := dialRawPeer(c, e.addr)
	Expect(p.recv(1)).To(Equal([]string{jsonOf(&conn.SetVersion{Version: 1})}))
	var mark int
	if e.stderr != nil {
		mark = e.stderr.mark()
	}
	p.write(frame[:len(frame)-2])
	// A moment for the server to read the first part on its own.
	Expect(p.quiet(300 * time.Millisecond)).To(BeEmpty())
	p.write(append(frame[len(frame)-2:len(frame):len(frame)], data...))
	if c.server == goSide {
		Expect(p.recv(1)).To(Equal([]string{jsonOf(&conn.Result{ID: 1, Result: imp.Log(0, 0, 3, imp.LogInfo, "log message")})}))
		return
	}
	Expect(p.quiet(500 * time.Millisecond)).To(BeEmpty())
	Eventually(e.stderr.since(mark), 10*time.Second).Should(ContainSubstring("Offset outside string"))
}
