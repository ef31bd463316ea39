package server_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/perl"
	_ "github.com/goimp/imprpc/plugin/all"
	_ "github.com/goimp/imprpc/plugin/testplugin"
	"github.com/goimp/imprpc/server"
)

// plugins opens plugin specs as imprpc_server.pl's -M do.
func plugins(specs ...string) imp.Factory {
	GinkgoHelper()
	f, err := server.OpenPlugins(specs...)
	Expect(err).NotTo(HaveOccurred())
	return f
}

// denySecret is Net::IMP::Pattern denying "secret": its interface is
// [undef, [pass, deny]].
const denySecret = "Net::IMP::Pattern=string=secret&action=deny&actdata=found secret"

var (
	stream = imp.DataStream
	packet = imp.DataPacket
	rt     = func(ts ...imp.ResultType) []imp.ResultType { return ts }
	pass   = imp.ResultPass
	deny   = imp.ResultDeny
	fatal  = imp.ResultFatal
)

// inProcess runs the data through an analyzer of f in this process
// and returns its results as result RPCs of analyzer id.
func inProcess(f imp.Factory, meta *imp.Meta, id int64, ds ...*conn.Data) []conn.Message {
	GinkgoHelper()
	chunks := make([]imptest.Chunk, len(ds))
	for i, d := range ds {
		chunks[i] = imptest.Chunk{Dir: d.Dir, Offset: d.Offset, Type: d.Type, Data: d.Data}
	}
	rs, err := imptest.Run(f, meta, chunks...)
	Expect(err).NotTo(HaveOccurred())
	ms := make([]conn.Message, len(rs))
	for i, r := range rs {
		ms[i] = result(id, r)
	}
	return ms
}

// quietFor is how long a spec listens to show that nothing comes.
const quietFor = 300 * time.Millisecond

var _ = Describe("Each connection behaves as with Perl's imprpc_server.pl", func() {
	for _, t := range targets {
		Context(t.String(), func() {
			BeforeEach(needPerl)

			It("sends set_version(1) first, before the client sends anything", func() {
				pc := dialPerl(startServer(t, plugins(denySecret)), t)
				pc.handshake()
			})

			DescribeTable("answers get_interface by Net::IMP::Base's rules, echoing the offered interfaces that match",
				func(offered, want []imp.Interface) {
					_, pc := connected(t, plugins(denySecret))
					pc.send(0, &conn.GetInterface{Interfaces: offered})
					got, _ := pc.recv(1)
					expectRPCs(got, &conn.Interface{Interfaces: want})
				},
				Entry("nothing offered: the plugin's own list", nil,
					[]imp.Interface{{AnyData: true, Results: rt(pass, deny)}}),
				Entry("[stream, [pass, deny, fatal]] is echoed", []imp.Interface{{DataType: stream, Results: rt(pass, deny, fatal)}},
					[]imp.Interface{{DataType: stream, Results: rt(pass, deny, fatal)}}),
				Entry("an offer without fatal does not match", []imp.Interface{{DataType: stream, Results: rt(pass, deny)}},
					[]imp.Interface{}),
				Entry("an offer without deny, which the plugin emits, does not match", []imp.Interface{{DataType: stream, Results: rt(pass, fatal)}},
					[]imp.Interface{}),
				Entry("[stream] without a result list takes any result and is echoed as it came", []imp.Interface{{DataType: stream}},
					[]imp.Interface{{DataType: stream}}),
				Entry("an undef data type matches a plugin for any type", []imp.Interface{{AnyData: true, Results: rt(pass, deny, fatal, imp.ResultLog)}},
					[]imp.Interface{{AnyData: true, Results: rt(pass, deny, fatal, imp.ResultLog)}}),
				Entry("of several offers, those that match, in the order offered",
					[]imp.Interface{{DataType: packet, Results: rt(pass, deny, fatal)}, {DataType: stream, Results: rt(pass)}, {DataType: stream, Results: rt(pass, deny, fatal, imp.ResultPause)}},
					[]imp.Interface{{DataType: packet, Results: rt(pass, deny, fatal)}, {DataType: stream, Results: rt(pass, deny, fatal, imp.ResultPause)}}),
			)

			It("refuses an unsupported set_interface with exception(0, ...) and keeps the interface set before", func() {
				ts, pc := connected(t, plugins("testing:every_result=results=pass,pause"))
				pc.send(0,
					&conn.SetInterface{Interface: imp.Interface{DataType: stream, Results: rt(pass, fatal)}},         // accepted: drops pause
					&conn.SetInterface{Interface: imp.Interface{DataType: packet, Results: rt(deny, imp.ResultLog)}}, // refused
					newAnalyzer(1), data(1, 0, "pause pass"))
				got, _ := pc.recv(2)
				expectRPCs(got, conn.NewException(0, "set_interface: unsupported interface"), result(1, imp.Pass(0, 10)))
				Expect(pc.quiet(quietFor)).To(BeEmpty(), "pause was dropped by the interface set first")

				By("without set_interface, the plugin's pause goes out")
				pc2 := dialPerl(ts, t)
				pc2.handshake()
				pc2.send(0, newAnalyzer(1), data(1, 0, "pause pass"))
				got, _ = pc2.recv(2)
				expectRPCs(got, result(1, imp.Pause(0)), result(1, imp.Pass(0, 10)))
			})

			It("answers new_analyzer with an id in use with exception(id, \"analyzer exists already\"), keeping the first", func() {
				_, pc := connected(t, newProbe())
				pc.send(0, newAnalyzer(1), newAnalyzer(1), data(1, 0, "abc"))
				got, _ := pc.recv(2)
				expectRPCs(got, conn.NewException(1, "analyzer exists already"), result(1, imp.Pass(0, 3)))
			})

			It("passes both directions of a declined analyzer and ignores its later data", func() {
				_, pc := connected(t, newProbe())
				pc.send(0, &conn.NewAnalyzer{ID: 1, Context: metaCtx(&imp.Meta{App: "decline"})}, data(1, 0, "abc"), data(1, 1, "def"), newAnalyzer(2), data(2, 0, "ghi"))
				got, _ := pc.recv(3)
				ids := byID(got)
				expectRPCs(ids[1], result(1, imp.Pass(0, imp.MaxOffset)), result(1, imp.Pass(1, imp.MaxOffset)))
				expectRPCs(ids[2], result(2, imp.Pass(0, 3)))
				Expect(pc.quiet(quietFor)).To(BeEmpty())
			})

			It("answers data for an unknown analyzer with exception(id, \"no analyzer <id>\")", func() {
				_, pc := connected(t, newProbe())
				pc.send(0, data(7, 0, "abc"), newAnalyzer(1), &conn.DeleteAnalyzer{ID: 1}, data(1, 0, "abc"))
				got, _ := pc.recv(2)
				expectRPCs(got, conn.NewException(7, "no analyzer 7"), conn.NewException(1, "no analyzer 1"))
			})

			It("sends nothing for delete_analyzer, and no result of the analyzer after it", func() {
				p := newProbe()
				_, pc := connected(t, p)
				pc.send(0, &conn.NewAnalyzer{ID: 1, Context: metaCtx(&imp.Meta{ClientAddr: "one"})}, data(1, 0, "later"))
				Eventually(p.seen, 5*time.Second).Should(Receive(Equal("one")), "the analyzer got its data")
				pc.send(0, &conn.DeleteAnalyzer{ID: 1})
				Eventually(p.gone, 5*time.Second).Should(Receive(Equal("one")), "the analyzer's context is done")
				close(p.release) // the plugin emits its result now
				Eventually(p.emitted, 5*time.Second).Should(Receive(Equal("one")))
				pc.send(0, &conn.GetInterface{})
				got, _ := pc.recv(1)
				expectRPCs(got, &conn.Interface{Interfaces: p.Interfaces()})
				Expect(pc.quiet(quietFor)).To(BeEmpty())
			})

			It("logs an exception from the client and goes on", func() {
				ts, pc := connected(t, newProbe())
				pc.send(0, conn.NewException(3, "trouble in the client"), &conn.GetInterface{})
				got, _ := pc.recv(1)
				expectRPCs(got, &conn.Interface{Interfaces: newProbe().Interfaces()})
				Expect(ts.logs.find("exception from the client", "id", "3", "msg", "trouble in the client")).To(HaveLen(1))
			})

			DescribeTable("closes the connection, with the reason logged, on an op only a server sends or an unknown op",
				func(m conn.Message, op string) {
					ts, pc := connected(t, newProbe())
					pc.send(0, m, &conn.GetInterface{})
					Expect(pc.waitClosed()).To(BeEmpty())
					Eventually(ts.logs.logged("closing the connection", "op", op)).Should(Equal(1))
					Eventually(ts.logs.logged("connection closed", "cause", "no handler for return type")).Should(Equal(1))
				},
				Entry("interface", &conn.Interface{Interfaces: []imp.Interface{{DataType: stream}}}, "interface"),
				Entry("result", result(1, imp.Pass(0, 1)), "result"),
				Entry("an unknown op 0x4999", &conn.Raw{Code: 0x4999, Args: []perl.Value{perl.Int(1)}}, "18841"),
			)

			It("differs from Perl: new_analyzer with id 0 gets exception(0, ...) (Perl makes an analyzer whose results carry id 0)", func() {
				_, pc := connected(t, newProbe())
				pc.send(0, newAnalyzer(0), data(0, 0, "abc"))
				got, _ := pc.recv(2)
				expectRPCs(got, conn.NewException(0, "new_analyzer: analyzer id 0 is not allowed"), conn.NewException(0, "no analyzer 0"))
			})

			It("differs from Perl: data of a type the plugin does not support gets exception(id, ...), and the analyzer's data is ignored until it is deleted", func() {
				_, pc := connected(t, plugins("testing:every_result=dtype=1"))
				pc.send(0, newAnalyzer(1), data(1, 0, "pass"), data(1, 0, "pass"))
				got, _ := pc.recv(1)
				expectRPCs(got, conn.NewException(1, "data: data type imp.data.stream is not supported by the plugin"))
				Expect(pc.quiet(quietFor)).To(BeEmpty())
				pc.send(0, &conn.DeleteAnalyzer{ID: 1}, newAnalyzer(1), &conn.Data{ID: 1, Type: packet, Data: []byte("pass")})
				got, _ = pc.recv(1)
				expectRPCs(got, result(1, imp.Pass(0, 4)))
			})

			It("differs from Perl: a context key other than meta gets exception(id, ...) naming it (Perl's plugin dies silently)", func() {
				_, pc := connected(t, plugins(denySecret))
				ctx := perl.NewHash(2)
				ctx.Set("meta", perl.HashRef(perl.NewHash(0)))
				ctx.Set("cb", perl.Bytes("x"))
				pc.send(0, &conn.NewAnalyzer{ID: 1, Context: perl.HashRef(ctx)}, data(1, 0, "secret"))
				got, _ := pc.recv(1)
				expectRPCs(got, conn.NewException(1, `new_analyzer: context: unknown key "cb" (only "meta" is allowed)`))
				Expect(pc.quiet(quietFor)).To(BeEmpty())
			})

			It("differs from Perl: a plugin that cannot make the analyzer gets exception(id, ...) (Perl's dies silently)", func() {
				_, pc := connected(t, newProbe())
				pc.send(0, &conn.NewAnalyzer{ID: 5, Context: metaCtx(&imp.Meta{App: "error"})})
				got, _ := pc.recv(1)
				expectRPCs(got, conn.NewException(5, "new_analyzer: probe refuses"))
			})

			It("skips a frame it cannot read (data without its arguments), logged, and serves the frames behind it at once (Perl loses it too, but holds what follows until more bytes arrive)", func() {
				ts, pc := connected(t, newProbe())
				bad := &conn.Raw{Code: conn.OpData, Args: []perl.Value{perl.Int(1)}}
				pc.send(0, newAnalyzer(1), bad, data(1, 0, "abc"), &conn.GetInterface{})
				got, _ := pc.recv(2)
				Expect(show(got...)).To(ConsistOf(show(result(1, imp.Pass(0, 3)), &conn.Interface{Interfaces: newProbe().Interfaces()})))
				Expect(ts.logs.find("bad frame from the client skipped")).To(HaveLen(1))
			})

			It("gives data of a type nobody defined to a plugin that takes any type (Perl's reader dies on it and loses the frame)", func() {
				_, pc := connected(t, newProbe())
				odd := &conn.Raw{Code: conn.OpData, Args: []perl.Value{perl.Int(1), perl.Int(0), perl.Int(0), perl.Int(7777), perl.Bytes("xy")}}
				pc.send(0, newAnalyzer(1), odd, data(1, 0, "abc"))
				got, _ := pc.recv(2)
				expectRPCs(got, result(1, imp.Pass(0, 2)), result(1, imp.Pass(0, 5)))
			})

			It("reads frames however the client's writes split them", func() {
				_, pc := connected(t, plugins(denySecret))
				ds := []*conn.Data{data(1, 0, "some secret data"), data(1, 1, "and more"), data(1, 0, ""), data(1, 1, "")}
				want := inProcess(plugins(denySecret), nil, 1, ds...)
				Expect(want).To(HaveLen(5))
				pc.send(1, newAnalyzer(1), ds[0], ds[1], ds[2], ds[3])
				got, _ := pc.recv(len(want))
				expectRPCs(got, want...)
			})
		})
	}
})
