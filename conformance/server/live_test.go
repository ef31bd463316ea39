package server_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/internal/imptext"
	"github.com/goimp/imprpc/conformance/internal/remoteclient"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/perl"
)

// The live tier: the real Net::IMP::Remote client, as a data provider
// runs it (ImpFixture::RemoteClient), against the Go server.

// remote is a Net::IMP::Remote factory in the Perl client.
type remote struct{ c *remoteclient.Client }

// perlCtx bounds a request to the Perl client.
func perlCtx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	DeferCleanup(cancel)
	return ctx
}

// newRemote makes a Net::IMP::Remote factory connected to ts; it is
// closed when the spec ends.
func newRemote(ts *testServer, t target) *remote {
	GinkgoHelper()
	c, err := remoteclient.New(perlCtx(), client, ts.addr, t.wire)
	Expect(err).NotTo(HaveOccurred())
	rc := &remote{c: c}
	DeferCleanup(func() { _ = c.Close(context.Background()) })
	return rc
}

func (rc *remote) getInterface(offered ...imp.Interface) []imp.Interface {
	GinkgoHelper()
	is, err := rc.c.GetInterface(perlCtx(), offered...)
	Expect(err).NotTo(HaveOccurred())
	return is
}

func (rc *remote) setInterface(i imp.Interface) bool {
	GinkgoHelper()
	ok, err := rc.c.SetInterface(perlCtx(), i)
	Expect(err).NotTo(HaveOccurred())
	return ok
}

// newAnalyzer makes an analyzer with the context (a reference to a
// hash, or nil for none) and returns its handle.
func (rc *remote) newAnalyzer(ctx perl.Value) int {
	GinkgoHelper()
	h, err := rc.c.NewAnalyzer(perlCtx(), ctx)
	Expect(err).NotTo(HaveOccurred())
	return h
}

func (rc *remote) data(h int, d *conn.Data) {
	GinkgoHelper()
	Expect(rc.c.Data(perlCtx(), h, imptest.Chunk{Dir: d.Dir, Offset: d.Offset, Type: d.Type, Data: d.Data})).To(Succeed())
}

// expectLikeInProcess gives the data to analyzer h and requires the
// results the plugin f gives in this process, and no warning.
func (rc *remote) expectLikeInProcess(f imp.Factory, h int, ds ...*conn.Data) {
	GinkgoHelper()
	for _, d := range ds {
		rc.data(h, d)
	}
	want := texts(inProcess(f, nil, 1, ds...))
	got, warnings := rc.run(map[int]int{h: len(want)}, 0, 0)
	Expect(imptext.DiffResults(got[h], want)).To(BeEmpty())
	Expect(warnings).To(BeEmpty())
}

// run runs the Perl client's event loop until each analyzer has its
// count of results and the warnings have come, or until nothing came for
// idle seconds (when idle > 0), and returns the results by handle.
func (rc *remote) run(want map[int]int, warnings int, idle float64) (map[int][]string, []string) {
	GinkgoHelper()
	r, err := rc.c.Run(perlCtx(), remoteclient.RunOptions{Want: want, Warnings: warnings,
		Idle: time.Duration(idle * float64(time.Second)), Timeout: 30 * time.Second})
	Expect(err).NotTo(HaveOccurred())
	return r.Results, r.Warnings
}

// texts returns results as tagged JSON of [type, args...].
func texts(ms []conn.Message) []string {
	GinkgoHelper()
	out := []string{}
	for _, m := range ms {
		out = append(out, resultText(m.(*conn.Result).Result))
	}
	return out
}

// everyWord names every result testing:every_result emits, with every
// argument shape that arrives intact on wire w.
func everyWord(w conn.Format) string {
	return strings.Join(imptext.EveryResultWords(w), " ")
}

var _ = Describe("The real Net::IMP::Remote client", Label("live"), func() {
	for _, t := range targets {
		Context(t.String(), func() {
			BeforeEach(needLive)

			It("gets the interfaces, sets one, and gets Pattern's results for an analyzer", func() {
				f := plugins(denySecret)
				ts := startServer(t, f)
				rc := newRemote(ts, t)
				Expect(rc.getInterface()).To(Equal([]imp.Interface{{AnyData: true, Results: rt(pass, deny)}}))
				offer := imp.Interface{DataType: stream, Results: rt(pass, deny, fatal)}
				Expect(rc.getInterface(offer, imp.Interface{DataType: stream, Results: rt(pass)})).To(Equal([]imp.Interface{offer}))
				Expect(rc.setInterface(offer)).To(BeTrue())
				h := rc.newAnalyzer(metaCtx(nil))
				rc.expectLikeInProcess(f, h, data(1, 0, "here is a sec"), data(1, 0, "ret"), data(1, 1, "reply"), data(1, 0, ""), data(1, 1, ""))
			})

			It("closes its factory on a refused set_interface (exception(0, ...)), as with Perl's server", func() {
				ts := startServer(t, plugins(denySecret))
				rc := newRemote(ts, t)
				rc.setInterface(imp.Interface{DataType: packet, Results: rt(pass)})
				_, warnings := rc.run(nil, 1, 0)
				Expect(warnings).To(ContainElement(ContainSubstring("global exception: set_interface: unsupported interface")))
				Eventually(ts.logs.logged("connection closed", "cause", "peer closed")).Should(Equal(1))
			})

			It("gets Perl's recorded results of Net::IMP::Pattern for every recorded case, all analyzers at once", func() {
				r := newReplay("pattern")
				ts := startServer(t, &router{fs: r.fs})
				rc := newRemote(ts, t)
				want := map[int]int{}
				hs := make([]int, len(r.cases))
				for i := range r.cases {
					hs[i] = rc.newAnalyzer(caseCtx(i))
					want[hs[i]] = len(r.cases[i].recorded())
				}
				for step := 0; ; step++ {
					more := false
					for i, c := range r.cases {
						if step < len(c.Steps) {
							rc.data(hs[i], c.data(1)[step])
							more = true
						}
					}
					if !more {
						break
					}
				}
				got, warnings := rc.run(want, 0, 0)
				Expect(warnings).To(BeEmpty())
				for i, c := range r.cases {
					Expect(imptext.DiffResults(got[hs[i]], c.recorded())).To(BeEmpty(), "case %q", c.Name)
				}
			})

			It("gets pass(0, -1) and pass(1, -1) for a declined analyzer", func() {
				ts := startServer(t, plugins("ImpFixture::Plugin::Decline"))
				rc := newRemote(ts, t)
				h := rc.newAnalyzer(metaCtx(nil))
				rc.data(h, data(1, 0, "ignored"))
				got, _ := rc.run(map[int]int{h: 2}, 0, 0)
				Expect(imptext.DiffResults(got[h], []string{resultText(imp.Pass(0, imp.MaxOffset)), resultText(imp.Pass(1, imp.MaxOffset))})).To(BeEmpty())
				_, _ = rc.run(nil, 0, 0.2)
				got, _ = rc.run(map[int]int{h: 0}, 0, 0)
				Expect(got[h]).To(BeEmpty(), "later data is ignored")
			})

			It("reads every result type with every argument shape", func() {
				f := plugins("ImpFixture::Plugin::EveryResult")
				ts := startServer(t, f)
				rc := newRemote(ts, t)
				h := rc.newAnalyzer(metaCtx(nil))
				rc.expectLikeInProcess(f, h, data(1, 0, everyWord(t.wire)), data(1, 1, "pass deny:extra log:utf8"))
			})

			It("gets the context as a data provider sends it to the plugin", func() {
				f := plugins("ImpFixture::Plugin::EchoContext")
				ts := startServer(t, f)
				rc := newRemote(ts, t)
				meta := perl.NewHash(0)
				meta.Set("caddr", perl.Bytes("192.0.2.10"))
				meta.Set("cport", perl.Int(40001))
				meta.Set("lport", perl.Bytes("3000"))
				meta.Set("app", perl.String("imp_proxy ☺"))
				nested := perl.NewHash(0)
				nested.Set("a", perl.Int(1))
				meta.Set("nested", perl.HashRef(nested))
				ctx := perl.NewHash(1)
				ctx.Set("meta", perl.HashRef(meta))
				h := rc.newAnalyzer(perl.HashRef(ctx))
				m, err := imp.ParseContext(perl.HashRef(ctx))
				Expect(err).NotTo(HaveOccurred())
				want := texts(inProcess(f, m, 1))
				got, _ := rc.run(map[int]int{h: len(want)}, 0, 0)
				Expect(imptext.DiffResults(got[h], want)).To(BeEmpty())
			})

			It("deletes an analyzer the server answers with an exception (data of a type the plugin does not support)", func() {
				ts := startServer(t, plugins("testing:every_result=dtype=1"))
				rc := newRemote(ts, t)
				h := rc.newAnalyzer(metaCtx(nil))
				rc.data(h, data(1, 0, "pass"))
				_, warnings := rc.run(nil, 1, 0)
				Expect(warnings).To(ContainElement(fmt.Sprintf("[%d] data: data type imp.data.stream is not supported by the plugin", h)))
				Eventually(ts.logs.logged("analyzer deleted", "id", strconv.Itoa(h))).Should(Equal(1))
			})

			It("serves 200 analyzers of one Net::IMP::Remote factory at once", func() {
				f := plugins(replaceSecret)
				ts := startServer(t, f)
				rc := newRemote(ts, t)
				const n = 200
				want := map[int][]string{}
				counts := map[int]int{}
				steps := map[int][]*conn.Data{}
				for i := 0; i < n; i++ {
					h := rc.newAnalyzer(metaCtx(nil))
					steps[h] = []*conn.Data{data(1, 0, fmt.Sprintf("analyzer %d: secret", i)), data(1, 1, "secretly"), data(1, 0, ""), data(1, 1, "")}
					want[h] = texts(inProcess(f, nil, 1, steps[h]...))
					counts[h] = len(want[h])
				}
				for step := 0; step < 4; step++ {
					for h, ds := range steps {
						rc.data(h, ds[step])
					}
				}
				got, _ := rc.run(counts, 0, 0)
				for h := range steps {
					Expect(imptext.DiffResults(got[h], want[h])).To(BeEmpty(), "analyzer %d", h)
				}
			})
		})
	}
})
