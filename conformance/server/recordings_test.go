package server_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/internal/imptext"
	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/plugin/cascade"
)

// The recordings of the built-in plugins (plugin/*/testdata, made by the
// real Net::IMP plugins in Perl, see docs/conformance.md) replayed through
// the server: every case that Perl ran to its end is one analyzer, all of
// them on one connection. Pattern's results must be Perl's, exactly;
// the cascade's must be what it gives in this process (the plugin's own
// tests compare that with Perl's, where Perl does not die). The data is
// also cut into chunks of other sizes, compared with the plugin in this
// process.

// recording is the part of a recording file the suite uses.
type recording struct {
	Cases []recCase `json:"cases"`
}

type recCase struct {
	Name         string    `json:"name"`
	Factory      recSpec   `json:"factory"`
	Context      *string   `json:"context"`
	ConfigErrors []string  `json:"config_errors"`
	Declined     int       `json:"declined"`
	NewDied      string    `json:"new_died"`
	Init         []recRes  `json:"init"`
	Steps        []recStep `json:"steps"`
}

type recSpec struct {
	Plugin  string    `json:"plugin"`
	Config  string    `json:"config"`
	Cascade []recSpec `json:"cascade"`
}

type recStep struct {
	Dir     int      `json:"dir"`
	Type    int64    `json:"type"`
	Offset  int64    `json:"offset"`
	DataHex string   `json:"data_hex"`
	Results []recRes `json:"results"`
	Died    string   `json:"died"`
}

type recRes struct {
	Result string `json:"result"`
}

// loadRecording reads plugin/NAME/testdata/recordings.json.
func loadRecording(name string) *recording {
	GinkgoHelper()
	root, err := perlproc.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	b, err := os.ReadFile(filepath.Join(root, "plugin", name, "testdata", "recordings.json"))
	Expect(err).NotTo(HaveOccurred())
	var r recording
	Expect(json.Unmarshal(b, &r)).To(Succeed())
	Expect(r.Cases).NotTo(BeEmpty())
	return &r
}

// factory makes the Go factory of a recorded spec. Configurations are
// byte strings, which JSON carries as the characters U+0000..U+00FF.
func (s recSpec) factory() imp.Factory {
	GinkgoHelper()
	if s.Cascade != nil {
		parts := make([]imp.Factory, len(s.Cascade))
		for i, p := range s.Cascade {
			parts[i] = p.factory()
		}
		f, err := cascade.New(parts...)
		Expect(err).NotTo(HaveOccurred())
		return f
	}
	p, ok := imp.Lookup(s.Plugin)
	Expect(ok).To(BeTrue(), "plugin %s", s.Plugin)
	var cfg []byte
	for _, r := range s.Config {
		Expect(r).To(BeNumerically("<=", 0xff))
		cfg = append(cfg, byte(r))
	}
	c, err := imp.ParseConfig(string(cfg))
	Expect(err).NotTo(HaveOccurred())
	f, err := p.New(c)
	Expect(err).NotTo(HaveOccurred())
	return f
}

// runnable reports whether the server can replay the case: Perl made
// its analyzer and ran every step without dying.
func (c recCase) runnable() bool {
	if len(c.ConfigErrors) > 0 || c.NewDied != "" || c.Declined != 0 || c.Context != nil || len(c.Steps) == 0 {
		return false
	}
	for _, s := range c.Steps {
		if s.Died != "" {
			return false
		}
	}
	return true
}

// data returns the case's steps as data RPCs of analyzer id.
func (c recCase) data(id int64) []*conn.Data {
	GinkgoHelper()
	ds := make([]*conn.Data, len(c.Steps))
	for i, s := range c.Steps {
		b, err := hex.DecodeString(s.DataHex)
		Expect(err).NotTo(HaveOccurred())
		ds[i] = &conn.Data{ID: id, Dir: imp.Dir(s.Dir), Offset: s.Offset, Type: imp.DataType(s.Type), Data: b}
	}
	return ds
}

// recorded returns the results Perl's plugin gave, in order.
func (c recCase) recorded() []string {
	var out []string
	for _, r := range c.Init {
		out = append(out, r.Result)
	}
	for _, s := range c.Steps {
		for _, r := range s.Results {
			out = append(out, r.Result)
		}
	}
	return out
}

// rechunk joins the consecutive stream data of a direction and cuts it
// into chunks of n bytes; other steps (packets, ends of data) stay as
// they are. It returns nil for data with offsets.
func rechunk(ds []*conn.Data, n int) []*conn.Data {
	var out []*conn.Data
	for i := 0; i < len(ds); {
		d := ds[i]
		if d.Offset != 0 {
			return nil
		}
		if d.Type > 0 || len(d.Data) == 0 {
			out = append(out, d)
			i++
			continue
		}
		var joined []byte
		j := i
		for ; j < len(ds) && ds[j].Dir == d.Dir && ds[j].Type == d.Type && len(ds[j].Data) > 0 && ds[j].Offset == 0; j++ {
			joined = append(joined, ds[j].Data...)
		}
		for len(joined) > 0 {
			k := min(n, len(joined))
			out = append(out, &conn.Data{ID: d.ID, Dir: d.Dir, Type: d.Type, Data: joined[:k]})
			joined = joined[k:]
		}
		i = j
	}
	return out
}

// router is a factory for the replay: the analyzer of case N (the meta
// key "case" of its context) is made by the case's factory.
type router struct{ fs []imp.Factory }

func (r *router) Interfaces() []imp.Interface {
	return []imp.Interface{{AnyData: true, Results: imp.ResultTypes()}}
}

func (r *router) NewAnalyzer(ctx context.Context, meta *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
	v, ok := meta.Raw.Get("case")
	if !ok {
		return nil, fmt.Errorf("router: no case in the context")
	}
	n, _ := imp.ToInt(v)
	return r.fs[n].NewAnalyzer(ctx, meta, out)
}

// caseCtx is the context naming case n for the router.
func caseCtx(n int) perl.Value {
	meta := perl.NewHash(1)
	meta.Set("case", perl.Int(n))
	ctx := perl.NewHash(1)
	ctx.Set("meta", perl.HashRef(meta))
	return perl.HashRef(ctx)
}

// replay is the cases of a recording prepared for the server.
type replay struct {
	cases []recCase
	fs    []imp.Factory
}

func newReplay(name string) *replay {
	GinkgoHelper()
	r := &replay{}
	for _, c := range loadRecording(name).Cases {
		if c.runnable() {
			r.cases = append(r.cases, c)
			r.fs = append(r.fs, c.Factory.factory())
		}
	}
	Expect(r.cases).NotTo(BeEmpty())
	return r
}

// expected returns what each case (by id, case i is id i+1) gives for
// the data: Perl's recorded results when perlResults, else the plugin's
// results in this process.
func (r *replay) expected(steps map[int64][]*conn.Data, perlResults bool) map[int64][]string {
	GinkgoHelper()
	want := map[int64][]string{}
	for id, ds := range steps {
		c := r.cases[id-1]
		if perlResults {
			want[id] = c.recorded()
			continue
		}
		for _, m := range inProcess(r.fs[id-1], nil, id, ds...) {
			want[id] = append(want[id], resultText(m.(*conn.Result).Result))
		}
	}
	return want
}

// run sends every case's analyzer and data over one connection, the
// cases' data interleaved step by step, and compares each analyzer's
// results with want.
func (r *replay) run(pc *perlConn, steps map[int64][]*conn.Data, want map[int64][]string) {
	GinkgoHelper()
	var msgs []conn.Message
	total := 0
	for id := range steps {
		msgs = append(msgs, &conn.NewAnalyzer{ID: id, Context: caseCtx(int(id - 1))})
		total += len(want[id])
	}
	for step := 0; ; step++ {
		more := false
		for id := int64(1); id <= int64(len(r.cases)); id++ {
			if ds := steps[id]; step < len(ds) {
				msgs = append(msgs, ds[step])
				more = true
			}
		}
		if !more {
			break
		}
	}
	pc.send(0, msgs...)
	got, _ := pc.recv(total)
	extra, _ := pc.quiet(quietFor)
	ids := byID(append(got, extra...))
	for id := range steps {
		var texts []string
		for _, m := range ids[id] {
			res, ok := m.(*conn.Result)
			Expect(ok).To(BeTrue(), "case %q: %s", r.cases[id-1].Name, show(m))
			texts = append(texts, resultText(res.Result))
		}
		Expect(imptext.DiffResults(texts, want[id])).To(BeEmpty(), "case %q", r.cases[id-1].Name)
	}
}

var _ = Describe("The built-in plugins' recordings through the server", func() {
	for _, t := range targets {
		Context(t.String(), func() {
			BeforeEach(needPerl)

			for _, name := range []string{"pattern", "cascade"} {
				It(fmt.Sprintf("%s: the recorded chunks give %s", name, map[string]string{
					"pattern": "Perl's recorded results exactly",
					"cascade": "the results of the cascade in this process"}[name]), func() {
					r := newReplay(name)
					steps := map[int64][]*conn.Data{}
					for i, c := range r.cases {
						steps[int64(i+1)] = c.data(int64(i + 1))
					}
					want := r.expected(steps, name == "pattern")
					_, pc := connected(t, &router{fs: r.fs})
					r.run(pc, steps, want)
				})

				for _, n := range []int{1, 5, 64} {
					It(fmt.Sprintf("%s: the data cut into chunks of %d bytes gives the results of the plugin in this process", name, n), func() {
						r := newReplay(name)
						steps := map[int64][]*conn.Data{}
						for i, c := range r.cases {
							if ds := rechunk(c.data(int64(i+1)), n); ds != nil {
								steps[int64(i+1)] = ds
							}
						}
						want := r.expected(steps, false)
						_, pc := connected(t, &router{fs: r.fs})
						r.run(pc, steps, want)
					})
				}
			}
		})
	}
})
