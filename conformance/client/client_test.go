package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/client"
	"github.com/goimp/imprpc/client/clienttest"
	"github.com/goimp/imprpc/conformance/internal/harness"
	"github.com/goimp/imprpc/conformance/internal/live"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
)

// dial connects to a target's server of role, closed after the spec.
func dial(t *target, role string, opts client.Options) *client.Factory {
	GinkgoHelper()
	opts.Wire = t.wire
	f, err := client.Dial(testCtx(), t.roles[role].addr, opts)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(f.Close)
	return f
}

// collect receives the results of a until its channel closes.
func collect(a *client.Analyzer) ([]imp.Result, error) {
	GinkgoHelper()
	rs, end, ok := clienttest.Collect(a, 30*time.Second)
	Expect(ok).To(BeTrue(), "analyzer %d did not end; results so far %s", a.ID(), resultsJSON(rs))
	return rs, end
}

// resultsJSON shows results as imprpc analyze prints them.
func resultsJSON(rs []imp.Result) string {
	s, err := clienttest.ResultsJSON(rs)
	Expect(err).NotTo(HaveOccurred())
	return s
}

// overWire returns results as a peer receives them over wire w.
func overWire(w conn.Format, rs []imp.Result) []imp.Result {
	out, err := clienttest.OverWire(w, rs)
	Expect(err).NotTo(HaveOccurred())
	return out
}

// expectResults compares results as Perl values.
func expectResults(got, want []imp.Result) {
	GinkgoHelper()
	Expect(clienttest.SameResults(got, want)).To(BeTrue(), "results\n%s\nwant\n%s", resultsJSON(got), resultsJSON(want))
}

// twin runs the Go testing:every_result (the twin of the Perl plugin) in
// step with a remote analyzer, to know what each word gives, and makes
// the data that gives it on a target: the word itself, or for the
// stand-in's script plugin the results as tagged JSON.
type twin struct {
	kind kind
	an   imp.Analyzer
	rec  imptest.Recorder
}

func newTwin(k kind) *twin {
	fs, err := imp.Open("testing:every_result")
	Expect(err).NotTo(HaveOccurred())
	tw := &twin{kind: k}
	tw.an, err = fs[0].NewAnalyzer(context.Background(), &imp.Meta{}, &tw.rec)
	Expect(err).NotTo(HaveOccurred())
	return tw
}

// step returns the data to send for words in dir and the results it
// gives.
func (tw *twin) step(dir imp.Dir, words string) ([]byte, []imp.Result) {
	tw.rec.Reset()
	tw.an.Data(dir, 0, imp.DataStream, []byte(words))
	want := tw.rec.Results()
	if tw.kind != standIn {
		return []byte(words), want
	}
	list := perl.NewArray()
	for _, r := range want {
		list.Elems = append(list.Elems, perl.ArrayRef(append([]perl.Value{perl.Int(r.Type)}, r.Args...)...))
	}
	data, err := taggedjson.Marshal(list)
	Expect(err).NotTo(HaveOccurred())
	return data, want
}

// forEach runs scenario on every target of kind k, on both wires.
func forEach(k kind, scenario func(t *target)) {
	for _, t := range targetsOf(k) {
		By(t.String())
		scenario(t)
	}
}

// entries are the Entry rows of the tables that every kind of server
// runs.
func entries() []TableEntry {
	return []TableEntry{
		Entry("the Go server", goServer),
		Entry("the Perl stand-in (Perl's Storable and Sereal)", standIn),
		Entry("the real imprpc_server.pl", Label("live"), perlServer),
	}
}

var _ = Describe("The Go client", func() {
	DescribeTable("gets the answer to get_interface as the server sent it: its plugin's own list, or the offered interfaces Net::IMP::Base's rules match",
		func(k kind) {
			forEach(k, func(t *target) {
				ctx := testCtx()
				f := dial(t, roleEvery, client.Options{})
				own, err := f.GetInterface(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(own).To(HaveLen(1))
				Expect(own[0].AnyData).To(BeTrue())
				Expect(own[0].Results).To(ConsistOf(imp.ResultTypes()))
				all := imp.Interface{DataType: imp.DataStream, Results: imp.ResultTypes()}
				for _, offered := range [][]imp.Interface{
					{{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass, imp.ResultFatal}}},
					{all, {DataType: imp.DataPacket}, {AnyData: true, Results: []imp.ResultType{}}},
				} {
					got, err := f.GetInterface(ctx, offered...)
					Expect(err).NotTo(HaveOccurred())
					Expect(fmt.Sprint(got)).To(Equal(fmt.Sprint(imp.MatchInterfaces(own, offered))))
				}
			})
		}, entries())

	DescribeTable("gets every result type with every argument shape as the plugin emitted it, in order, and ends the analyzer as the results say",
		func(k kind) {
			forEach(k, func(t *target) {
				ctx := testCtx()
				f := dial(t, roleEvery, client.Options{})
				seen := map[imp.ResultType]bool{}
				for _, word := range clienttest.EveryResultWords {
					tw := newTwin(t.kind)
					a, err := f.NewAnalyzer(ctx, nil)
					Expect(err).NotTo(HaveOccurred())
					var want []imp.Result
					for _, dir := range []imp.Dir{imp.FromClient, imp.FromServer} {
						data, rs := tw.step(dir, word+" x")
						want = append(want, rs...)
						Expect(a.Data(ctx, dir, 0, imp.DataStream, data)).To(Or(Succeed(), MatchError(client.ErrFinished), MatchError(client.ErrDeclined)))
					}
					var wantEnd error
					for i, r := range want {
						seen[r.Type] = true
						if r.Type.Final() {
							want, wantEnd = want[:i+1], client.ErrFinished
							break
						}
					}
					if word == "pass:max" {
						wantEnd = client.ErrDeclined
					}
					if wantEnd == nil {
						var got []imp.Result
						for len(got) < len(want) {
							got = append(got, <-a.Results())
						}
						Expect(a.Close()).To(Succeed())
						expectResults(got, overWire(t.wire, want))
						continue
					}
					got, end := collect(a)
					Expect(end).To(MatchError(wantEnd), word)
					expectResults(got, overWire(t.wire, want))
				}
				Expect(seen).To(HaveLen(len(imp.ResultTypes())))
			})
		}, entries())

	DescribeTable("ends an analyzer the server refused to make with its exception (Perl's servers: no reply, then 'no analyzer N' for the data; ours: at once)",
		func(k kind) {
			forEach(k, func(t *target) {
				ctx := testCtx()
				f := dial(t, roleEvery, client.Options{})
				bad := perl.NewHash(2)
				bad.Set("meta", perl.HashRef(perl.NewHash(0)))
				bad.Set("foo", perl.Int(1))
				// try makes the analyzer and sends data until it ends:
				// imprpc_server.pl leaves frames it read together with the
				// one that died until more bytes come.
				try := func() (*client.Analyzer, error) {
					a, err := f.NewAnalyzer(ctx, perl.HashRef(bad))
					Expect(err).NotTo(HaveOccurred())
					Eventually(func() error {
						_ = a.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("pass"))
						return a.Err()
					}).ShouldNot(Succeed())
					rs, end := collect(a)
					Expect(rs).To(BeEmpty())
					return a, end
				}
				a, end := try()
				for attempt := 1; t.kind == perlServer && errors.Is(end, client.ErrConnectionLost) && attempt <= 5; attempt++ {
					// imprpc_server.pl reads whatever comes while it is
					// still accepting a connection inside its accept
					// callback: a plugin that dies there takes the
					// connection with it (the server's object is never
					// stored). Frames that come once it waits for more are
					// read in its read callback: again, after a quiet
					// moment on a new connection.
					By("the connection was lost: the frame came while the server was accepting it; again")
					_, err := f.GetInterface(ctx)
					Expect(err).NotTo(HaveOccurred())
					Consistently(func() bool { return f.Stats().Connected }, 50*time.Millisecond*time.Duration(attempt)).Should(BeTrue())
					a, end = try()
				}
				var ee *client.ExceptionError
				Expect(errors.As(end, &ee)).To(BeTrue(), "end %v", end)
				Expect(ee.ID).To(Equal(a.ID()))
				if t.kind == goServer {
					Expect(ee.Message).To(ContainSubstring("foo"))
				} else {
					Expect(ee.Message).To(Equal(fmt.Sprintf("no analyzer %d", a.ID())))
				}
				// The connection goes on.
				b, err := f.NewAnalyzer(ctx, nil)
				Expect(err).NotTo(HaveOccurred())
				data, want := newTwin(t.kind).step(imp.FromClient, "deny")
				Expect(b.Data(ctx, imp.FromClient, 0, imp.DataStream, data)).To(Succeed())
				got, end := collect(b)
				Expect(end).To(Equal(client.ErrFinished))
				expectResults(got, overWire(t.wire, want))
			})
		}, entries())

	DescribeTable("ends the connection's analyzers with exception(0) when set_interface is refused, and connects again with the interface set before",
		func(k kind) {
			forEach(k, func(t *target) {
				ctx := testCtx()
				f := dial(t, roleEvery, client.Options{})
				Expect(f.SetInterface(ctx, imp.Interface{DataType: imp.DataStream, Results: imp.ResultTypes()})).To(Succeed())
				a, err := f.NewAnalyzer(ctx, nil)
				Expect(err).NotTo(HaveOccurred())
				Expect(f.SetInterface(ctx, imp.Interface{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass}})).To(Succeed())
				_, end := collect(a)
				var ee *client.ExceptionError
				Expect(errors.As(end, &ee)).To(BeTrue(), "end %v", end)
				Expect(ee.ID).To(BeZero())
				Expect(ee.Message).To(Equal("set_interface: unsupported interface"))
				b, err := f.NewAnalyzer(ctx, nil)
				Expect(err).NotTo(HaveOccurred())
				Expect(b.ID()).To(Equal(int64(1)))
				data, want := newTwin(t.kind).step(imp.FromClient, "log deny")
				Expect(b.Data(ctx, imp.FromClient, 0, imp.DataStream, data)).To(Succeed())
				got, end := collect(b)
				Expect(end).To(Equal(client.ErrFinished))
				expectResults(got, overWire(t.wire, want))
			})
		}, entries())

	DescribeTable("ends a declined analyzer with ErrDeclined after pass(0, -1) and pass(1, -1)",
		func(k kind) {
			forEach(k, func(t *target) {
				ctx := testCtx()
				f := dial(t, roleDecline, client.Options{})
				a, err := f.NewAnalyzer(ctx, client.Meta(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 40001}, nil, nil).Context())
				Expect(err).NotTo(HaveOccurred())
				rs, end := collect(a)
				Expect(resultsJSON(rs)).To(Equal("[\"pass\",0,-1]\n[\"pass\",1,-1]\n"))
				Expect(end).To(Equal(client.ErrDeclined))
				Expect(a.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("x"))).To(MatchError(client.ErrDeclined))
			})
		}, entries())

	DescribeTable("ends every analyzer with a *ConnectionLostError when the server drops the connection mid-stream (Perl's client leaves them waiting), and connects again with ids from 1",
		func(k kind) {
			forEach(k, func(t *target) {
				ctx := testCtx()
				f := dial(t, roleEvery, client.Options{})
				var as []*client.Analyzer
				for range 3 {
					a, err := f.NewAnalyzer(ctx, nil)
					Expect(err).NotTo(HaveOccurred())
					data, _ := newTwin(t.kind).step(imp.FromClient, "log")
					Expect(a.Data(ctx, imp.FromClient, 0, imp.DataStream, data)).To(Succeed())
					Eventually(a.Results()).Should(Receive())
					as = append(as, a)
				}
				t.roles[roleEvery].drop()
				for _, a := range as {
					_, end := collect(a)
					Expect(end).To(MatchError(client.ErrConnectionLost))
					Expect(a.Data(ctx, imp.FromClient, 0, imp.DataStream, []byte("x"))).To(Equal(end))
				}
				a, err := f.NewAnalyzer(ctx, nil)
				Expect(err).NotTo(HaveOccurred())
				Expect(a.ID()).To(Equal(int64(1)))
				data, want := newTwin(t.kind).step(imp.FromClient, "deny")
				Expect(a.Data(ctx, imp.FromClient, 0, imp.DataStream, data)).To(Succeed())
				got, end := collect(a)
				Expect(end).To(Equal(client.ErrFinished))
				expectResults(got, overWire(t.wire, want))
			})
		}, entries())

	DescribeTable("keeps 1,000 analyzers of one factory apart, fed from 100 goroutines: every result arrives at its analyzer, in order",
		func(k kind) {
			forEach(k, func(t *target) {
				ctx := testCtx()
				f := dial(t, roleEvery, client.Options{})
				const analyzers, goroutines = 1000, 100
				steps := []string{"log pass", "pass", "log", "deny"}
				// What to send and what comes back, worked out first.
				datas := make([][][]byte, analyzers)
				wants := make([][]imp.Result, analyzers)
				for i := range analyzers {
					tw := newTwin(t.kind)
					for s, words := range steps {
						data, want := tw.step(imp.Dir(s%2), words)
						datas[i] = append(datas[i], data)
						wants[i] = append(wants[i], want...)
					}
					wants[i] = overWire(t.wire, wants[i])
				}
				as := make([]*client.Analyzer, analyzers)
				for i := range as {
					a, err := f.NewAnalyzer(ctx, client.Meta(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1000 + i}, nil, nil).Context())
					Expect(err).NotTo(HaveOccurred())
					as[i] = a
				}
				var wg sync.WaitGroup
				errs := make(chan error, analyzers)
				for g := range goroutines {
					wg.Add(1)
					go func() {
						defer GinkgoRecover()
						defer wg.Done()
						for s := range steps {
							for i := g; i < analyzers; i += goroutines {
								if err := as[i].Data(ctx, imp.Dir(s%2), 0, imp.DataStream, datas[i][s]); err != nil {
									errs <- fmt.Errorf("analyzer %d: %w", as[i].ID(), err)
								}
							}
						}
						for i := g; i < analyzers; i += goroutines {
							got, end := collect(as[i])
							if end != client.ErrFinished || resultsJSON(got) != resultsJSON(wants[i]) {
								errs <- fmt.Errorf("analyzer %d: end %v, results\n%s\nwant\n%s", as[i].ID(), end, resultsJSON(got), resultsJSON(wants[i]))
							}
						}
					}()
				}
				wg.Wait()
				close(errs)
				var all []string
				for err := range errs {
					all = append(all, err.Error())
				}
				Expect(all).To(BeEmpty())
				Expect(f.Stats().UnknownResults).To(BeZero())
				if e := t.roles[roleEvery]; e.proc != nil {
					// Every analyzer was deleted on the server (on the
					// Sereal wire with the id as a string).
					Eventually(func() int {
						var st struct{ Analyzers int }
						Expect(e.proc.Call(ctx, map[string]any{"op": "stats"}, &st)).To(Succeed())
						return st.Analyzers
					}).Should(BeZero())
				}
			})
		}, entries())
})

var _ = Describe("Against the Perl stand-in, which closes the connection when its send buffer fills (as Net::IMP::Remote does)", func() {
	// flood returns the data of chunk i, whose results are 8 replace of
	// 64 KiB each (512 KiB), and those results.
	flood := func(i int) ([]byte, []imp.Result) {
		var want []imp.Result
		list := perl.NewArray()
		for j := range 8 {
			r := imp.Replace(imp.FromClient, int64(8*i+j+1), []byte(strings.Repeat(string(rune('a'+j)), 64<<10)))
			want = append(want, r)
			list.Elems = append(list.Elems, perl.ArrayRef(append([]perl.Value{perl.Int(r.Type)}, r.Args...)...))
		}
		data, err := taggedjson.Marshal(list)
		Expect(err).NotTo(HaveOccurred())
		return data, want
	}
	// chunks is 16 MiB of results, one chunk every 20 ms: far more than
	// the sockets' buffers hold, at a rate any reader keeps up with.
	const chunks = 32
	pace := func(send func(i int)) {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := range chunks {
			send(i)
			<-tick.C
		}
	}
	closedList := func(e *endpoint) []string {
		var st struct{ Closed []string }
		Expect(e.proc.Call(context.Background(), map[string]any{"op": "stats"}, &st)).To(Succeed())
		return st.Closed
	}

	It("the client reads on while the caller receives nothing: 16 MiB of results arrive whole, the connection stays up", func() {
		for _, t := range targetsOf(standIn) {
			By(t.String())
			ctx := testCtx()
			e := t.roles[roleEvery]
			before := closedList(e)
			f := dial(t, roleEvery, client.Options{})
			a, err := f.NewAnalyzer(ctx, nil)
			Expect(err).NotTo(HaveOccurred())
			var want []imp.Result
			pace(func(i int) {
				data, rs := flood(i)
				want = append(want, rs...)
				Expect(a.Data(ctx, imp.FromClient, 0, imp.DataStream, data)).To(Succeed())
			})
			var got []imp.Result
			for len(got) < len(want) {
				select {
				case r, ok := <-a.Results():
					Expect(ok).To(BeTrue(), "ended after %d results: %v", len(got), a.Err())
					got = append(got, r)
				case <-ctx.Done():
					Fail(fmt.Sprintf("%d of %d results", len(got), len(want)))
				}
			}
			expectResults(got, overWire(t.wire, want))
			Expect(closedList(e)).To(Equal(before), "the stand-in closed a connection")
		}
	})

	It("a peer that stops reading makes it close the connection: what the test above shows the client never does", func() {
		for _, t := range targetsOf(standIn) {
			By(t.String())
			e := t.roles[roleEvery]
			nc, err := net.Dial("tcp", e.addr)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(nc.Close)
			w := conn.Options{Format: t.wire}.MustWire()
			frame, err := w.Append(nil, &conn.NewAnalyzer{ID: 1})
			Expect(err).NotTo(HaveOccurred())
			_, err = nc.Write(frame)
			Expect(err).NotTo(HaveOccurred())
			pace(func(i int) {
				data, _ := flood(i)
				frame, err := w.Append(nil, &conn.Data{ID: 1, Type: imp.DataStream, Data: data})
				Expect(err).NotTo(HaveOccurred())
				_, _ = nc.Write(frame) // fails once the stand-in has closed
			})
			Eventually(func() []string { return closedList(e) }, 20*time.Second, 20*time.Millisecond).
				Should(ContainElement("failed to write: Resource temporarily unavailable"))
		}
	})
})

var _ = Describe("When the server cannot be reached", func() {
	closedPort := func() string {
		addr, err := harness.FreeAddr()
		Expect(err).NotTo(HaveOccurred())
		return addr
	}
	expected := map[client.FailMode]string{
		client.FailHard: `["fatal","connect to IMP server failed (%[1]s)"]` + "\n",
		client.FailSoft: `["log",0,0,0,"error","connect to IMP server failed (%[1]s): pass all"]` + "\n" + `["pass",0,-1]` + "\n" + `["pass",1,-1]` + "\n",
	}

	DescribeTable("every new analyzer gets exactly what Net::IMP::Remote's fail option gives, with the C library's text",
		func(mode client.FailMode, unix bool) {
			addr, text := closedPort(), "Connection refused"
			if unix {
				addr, text = tmpDir+"/no-such.sock", "No such file or directory"
			}
			ctx := testCtx()
			_, err := client.Dial(ctx, addr, client.Options{Fail: mode})
			var de *client.DialError
			Expect(errors.As(err, &de)).To(BeTrue())
			Expect(de.Text).To(Equal(text))
			f, err := client.Dial(ctx, addr, client.Options{Fail: mode, AllowUnreachable: true})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(f.Close)
			for range 3 {
				a, err := f.NewAnalyzer(ctx, nil)
				Expect(err).NotTo(HaveOccurred())
				rs, end := collect(a)
				Expect(resultsJSON(rs)).To(Equal(fmt.Sprintf(expected[mode], text)))
				Expect(errors.As(end, &de)).To(BeTrue())
			}
		},
		Entry("hard, TCP port closed", client.FailHard, false),
		Entry("soft, TCP port closed", client.FailSoft, false),
		Entry("hard, UNIX socket missing", client.FailHard, true),
		Entry("soft, UNIX socket missing", client.FailSoft, true),
	)

	It("the real Net::IMP::Remote client gives the same results for the same addresses", Label("live"), func() {
		needLive()
		if remoteProc == nil {
			Skip("perl-fixtures/rpc-client.pl did not start: " + remoteWhy)
		}
		var have struct {
			Remote int
			Why    string
		}
		Expect(remoteProc.Call(testCtx(), map[string]any{"op": "have"}, &have)).To(Succeed())
		if have.Remote != 1 {
			why := have.Why
			if why == "" {
				why = "rpc-client.pl does not say why"
			}
			live.Need("the real Net::IMP::Remote client cannot run", why)
		}
		for _, addr := range []string{closedPort(), tmpDir + "/no-such.sock"} {
			for _, mode := range []client.FailMode{client.FailHard, client.FailSoft} {
				By(addr + " " + mode.String())
				ctx := testCtx()
				var c struct{ Client int }
				Expect(remoteProc.Call(ctx, map[string]any{"op": "remote_new", "addr": addr, "impl": "Storable", "fail": mode.String()}, &c)).To(Succeed())
				var an struct{ Analyzer int }
				Expect(remoteProc.Call(ctx, map[string]any{"op": "remote_new_analyzer", "client": c.Client, "context": `{"meta":{}}`}, &an)).To(Succeed())
				var run struct {
					Results map[string][]string
				}
				want := map[client.FailMode]int{client.FailHard: 1, client.FailSoft: 3}[mode]
				Expect(remoteProc.Call(ctx, map[string]any{"op": "remote_run", "client": c.Client, "want": map[string]int{strconv.Itoa(an.Analyzer): want}, "timeout": 5}, &run)).To(Succeed())
				var perlRs []imp.Result
				for _, tj := range run.Results[strconv.Itoa(an.Analyzer)] {
					v, err := taggedjson.Unmarshal([]byte(tj))
					Expect(err).NotTo(HaveOccurred())
					elems := v.(*perl.Array).Elems
					typ, _ := imp.ToInt(elems[0])
					perlRs = append(perlRs, imp.Result{Type: imp.ResultType(typ), Args: elems[1:]})
				}
				Expect(remoteProc.Call(ctx, map[string]any{"op": "remote_close", "client": c.Client}, nil)).To(Succeed())

				f, err := client.Dial(ctx, addr, client.Options{Fail: mode, AllowUnreachable: true})
				Expect(err).NotTo(HaveOccurred())
				a, err := f.NewAnalyzer(ctx, nil)
				Expect(err).NotTo(HaveOccurred())
				got, _ := collect(a)
				f.Close()
				expectResults(got, perlRs)
			}
		}
	})
})
