package server_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
)

// The live tier: the real Net::IMP::Remote client, as a data provider
// runs it (ImpFixture::RemoteClient), against the Go server.

// remote is a Net::IMP::Remote factory in the Perl client.
type remote struct{ id int }

// newRemote makes a Net::IMP::Remote factory connected to ts; it is
// closed when the spec ends.
func newRemote(ts *testServer, t target) *remote {
	GinkgoHelper()
	impl := map[conn.Format]string{conn.Storable: "Storable", conn.Sereal: "Sereal"}[t.wire]
	var r struct {
		Client int `json:"client"`
	}
	call(map[string]any{"op": "remote_new", "addr": ts.addr, "impl": impl}, &r)
	rc := &remote{id: r.Client}
	DeferCleanup(func() { rc.close() })
	return rc
}

// ifaceText writes an interface as the Perl client takes it.
func ifaceText(i imp.Interface) string {
	GinkgoHelper()
	var dt perl.Value = perl.Undef{}
	if !i.AnyData {
		dt = perl.Int(i.DataType)
	}
	var rs perl.Value = perl.Undef{}
	if i.Results != nil {
		ts := make([]perl.Value, len(i.Results))
		for k, t := range i.Results {
			ts[k] = perl.Int(t)
		}
		rs = perl.ArrayRef(ts...)
	}
	b, err := taggedjson.Marshal(perl.NewArray(dt, rs))
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// parseIface reads an interface the Perl client returned.
func parseIface(text string) imp.Interface {
	GinkgoHelper()
	v, err := taggedjson.Unmarshal([]byte(text))
	Expect(err).NotTo(HaveOccurred())
	a := v.(*perl.Array)
	var i imp.Interface
	if n, ok := imp.ToInt(a.Elems[0]); ok {
		i.DataType = imp.DataType(n)
	} else {
		i.AnyData = true
	}
	if len(a.Elems) > 1 {
		if ref, ok := a.Elems[1].(perl.Ref); ok {
			i.Results = []imp.ResultType{}
			for _, e := range ref.To.(*perl.Array).Elems {
				n, _ := imp.ToInt(e)
				i.Results = append(i.Results, imp.ResultType(n))
			}
		}
	}
	return i
}

func (rc *remote) getInterface(offered ...imp.Interface) []imp.Interface {
	GinkgoHelper()
	texts := make([]string, len(offered))
	for k, i := range offered {
		texts[k] = ifaceText(i)
	}
	var r struct {
		Interfaces []string `json:"interfaces"`
	}
	call(map[string]any{"op": "remote_get_interface", "client": rc.id, "interfaces": texts}, &r)
	out := []imp.Interface{}
	for _, t := range r.Interfaces {
		out = append(out, parseIface(t))
	}
	return out
}

func (rc *remote) setInterface(i imp.Interface) bool {
	GinkgoHelper()
	var r struct {
		OK int `json:"ok"`
	}
	call(map[string]any{"op": "remote_set_interface", "client": rc.id, "interface": ifaceText(i)}, &r)
	return r.OK == 1
}

// newAnalyzer makes an analyzer with the context (a reference to a
// hash, or nil for none) and returns its handle.
func (rc *remote) newAnalyzer(ctx perl.Value) int {
	GinkgoHelper()
	req := map[string]any{"op": "remote_new_analyzer", "client": rc.id}
	if ctx != nil {
		b, err := taggedjson.Marshal(ctx)
		Expect(err).NotTo(HaveOccurred())
		req["context"] = string(b)
	}
	var r struct {
		Analyzer int `json:"analyzer"`
	}
	call(req, &r)
	return r.Analyzer
}

func (rc *remote) data(h int, d *conn.Data) {
	GinkgoHelper()
	call(map[string]any{"op": "remote_data", "client": rc.id, "analyzer": h, "dir": int(d.Dir), "offset": d.Offset,
		"type": int64(d.Type), "data_hex": hex.EncodeToString(d.Data)}, nil)
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
	Expect(sameResults(got[h], want)).To(BeEmpty())
	Expect(warnings).To(BeEmpty())
}

type runReply struct {
	Results  map[string][]string `json:"results"`
	Warnings []string            `json:"warnings"`
	Why      string              `json:"why"`
}

// run runs the Perl client's event loop until each analyzer has its
// count of results and the warnings have come, or until nothing came for
// idle seconds (when idle > 0), and returns the results by handle.
func (rc *remote) run(want map[int]int, warnings int, idle float64) (map[int][]string, []string) {
	GinkgoHelper()
	w := map[string]int{}
	for h, n := range want {
		w[strconv.Itoa(h)] = n
	}
	req := map[string]any{"op": "remote_run", "client": rc.id, "want": w, "warnings": warnings, "timeout": 30}
	if idle > 0 {
		req["idle"] = idle
	}
	var r runReply
	call(req, &r)
	out := map[int][]string{}
	for h, rs := range r.Results {
		n, _ := strconv.Atoi(h)
		out[n] = rs
	}
	return out, r.Warnings
}

func (rc *remote) close() {
	_ = client.Call(context.Background(), map[string]any{"op": "remote_close", "client": rc.id}, nil)
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
// argument shape. Storable's network order carries integers outside
// 32 bits and non-integral doubles as strings, which Perl then has, as
// from Perl's own server: those are left out on that wire.
func everyWord(w conn.Format) string {
	words := []string{"pass", "pass:max", "prepass", "prepass:max", "replace", "replace:empty", "replace:latin1",
		"replace_later", "replace_later:max", "pass_pattern", "pass_pattern:i", "pass_pattern:string", "tosender",
		"deny", "deny:noreason", "deny:extra", "deny:utf8", "drop", "fatal", "log", "log:extra", "log:utf8",
		"port_open", "port_open:extra", "port_close", "port_close:extra", "acctfield", "acctfield:int", "acctfield:neg",
		"acctfield:utf8", "acctfield:latin1", "acctfield:undef", "acctfield:numstr",
		"pause", "pause:nodir", "continue", "continue:nodir"}
	for l := imp.LogDebug; l <= imp.LogEmergency; l++ {
		words = append(words, "log:"+l.String())
	}
	if w == conn.Sereal {
		words = append(words, "acctfield:big", "acctfield:uint", "acctfield:double")
	}
	return strings.Join(words, " ")
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
					Expect(sameResults(got[hs[i]], c.recorded())).To(BeEmpty(), "case %q", c.Name)
				}
			})

			It("gets pass(0, -1) and pass(1, -1) for a declined analyzer", func() {
				ts := startServer(t, plugins("ImpFixture::Plugin::Decline"))
				rc := newRemote(ts, t)
				h := rc.newAnalyzer(metaCtx(nil))
				rc.data(h, data(1, 0, "ignored"))
				got, _ := rc.run(map[int]int{h: 2}, 0, 0)
				Expect(sameResults(got[h], []string{resultText(imp.Pass(0, imp.MaxOffset)), resultText(imp.Pass(1, imp.MaxOffset))})).To(BeEmpty())
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
				Expect(sameResults(got[h], want)).To(BeEmpty())
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
					Expect(sameResults(got[h], want[h])).To(BeEmpty(), "analyzer %d", h)
				}
			})
		})
	}
})
