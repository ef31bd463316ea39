package matrix_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/client"
	"github.com/goimp/imprpc/conformance/internal/imptext"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
	"github.com/goimp/imprpc/server"
)

// The references: a plugin run in-process, by Go (imptest.Run on the
// factory "imprpc serve -M" makes of the specs) and by Perl
// (perl-fixtures/matrix-inproc.pl: Net::IMP's own plugins, a
// Net::IMP::Cascade for several specs). Where both run, they must agree;
// the cells are compared with the result.

// inproc is what one analyzer gives in-process.
type inproc struct {
	results  []string // tagged JSON of [type, args...]
	values   []imp.Result
	declined bool
	// perl is Perl's, where it differs from Go's as documented.
	perl *inproc
}

// of returns the results the server side gives in-process.
func (ref inproc) of(s side) inproc {
	if s == perlSide && ref.perl != nil {
		return *ref.perl
	}
	return ref
}

// atLeast returns how many results a cell's data provider gets of ref
// for the chunks at least: all of its server's plugin, but with the Go
// client only those up to the one that completes the analysis (see
// delivered).
func (ref inproc) atLeast(c cell, chunks []imptest.Chunk) int {
	GinkgoHelper()
	if c.client == goSide {
		return len(ref.of(c.server).delivered(chunks))
	}
	return len(ref.of(c.server).results)
}

// sameFor reports how the results analyzer h of p got differ from what
// the cell's data provider gets of ref, "" when they are the same: the
// results of the cell's server's plugin in-process, in order. The Go
// client ends an analyzer once its analysis is complete and delivers
// nothing after; results the server sent meanwhile may or may not reach
// it before, depending on when the data went out: its results must be
// the reference up to that point at least, and never more.
func (ref inproc) sameFor(c cell, p provider, h int, got []string, chunks []imptest.Chunk) string {
	GinkgoHelper()
	full := ref.of(c.server).results
	gp, ok := p.(*goProvider)
	if !ok {
		return imptext.DiffResults(got, full)
	}
	least := ref.atLeast(c, chunks)
	if least < len(full) {
		Expect(gp.end(h)).To(MatchError(client.ErrFinished))
		got = gp.analyzer(h).snapshot()
	}
	if len(got) < least || len(got) > len(full) {
		return fmt.Sprintf("%d results, want %d to %d:\n got %s\nwant %s", len(got), least, len(full), strings.Join(got, " "), strings.Join(full, " "))
	}
	return imptext.DiffResults(got, full[:len(got)])
}

// delivered returns the results the Go client delivers of ref at least,
// given the chunks: those up to the one that completes the analysis with
// all the data sent, after which it ends the analyzer and deletes it on
// the server (docs/conformance.md: Net::IMP::Remote leaves that to the
// data provider and delivers on).
func (ref inproc) delivered(chunks []imptest.Chunk) []string {
	GinkgoHelper()
	var p client.Progress
	for _, c := range chunks {
		if err := p.Data(c.Dir, c.Offset, len(c.Data)); err != nil {
			Expect(err).To(MatchError(client.ErrFinished))
			return []string{}
		}
	}
	for i, r := range ref.values {
		if err := p.Result(r); errors.Is(err, client.ErrFinished) {
			return ref.results[:i+1]
		}
	}
	return ref.results
}

// refCase is one analyzer run in-process: the plugin, the interface set
// first (if any), the context, the data.
type refCase struct {
	specs []string
	// differs names the documented difference that makes Perl's
	// plugin give other results than Go's for this case; cells are then
	// compared with their server's plugin.
	differs string
	set     *imp.Interface
	ctx     perl.Value // nil: {}
	chunks  []imptest.Chunk
}

// perlCase is a case of ImpFixture::Plugin::Run, as matrix-inproc.pl
// takes it.
type perlCase struct {
	Name      string         `json:"name"`
	Specs     []string       `json:"specs"`
	Context   *string        `json:"context,omitempty"`
	Steps     []perlStep     `json:"steps"`
	Interface map[string]any `json:"interface,omitempty"`
}

type perlStep struct {
	Dir     int    `json:"dir"`
	Type    int64  `json:"type"`
	Offset  int64  `json:"offset"`
	DataHex string `json:"data_hex"`
}

// perlRecording is the part of a recording of ImpFixture::Plugin::Run
// the suite reads.
type perlRecording struct {
	ConfigErrors []string `json:"config_errors"`
	Declined     int      `json:"declined"`
	NewDied      string   `json:"new_died"`
	Init         []struct {
		Result string `json:"result"`
	} `json:"init"`
	Steps []struct {
		Results []struct {
			Result string `json:"result"`
		} `json:"results"`
		Died string `json:"died"`
	} `json:"steps"`
	Interface struct {
		Reply [][2]any `json:"reply"`
		SetOK int      `json:"set_ok"`
		Died  string   `json:"died"`
	} `json:"interface"`
}

func (c refCase) perl() perlCase {
	GinkgoHelper()
	pc := perlCase{Name: "matrix", Specs: c.specs}
	if c.ctx != nil {
		b, err := taggedjson.Marshal(c.ctx)
		Expect(err).NotTo(HaveOccurred())
		s := string(b)
		pc.Context = &s
	}
	if c.set != nil {
		pc.Interface = map[string]any{"offered": []any{ifaceJSON(*c.set)}, "set": ifaceJSON(*c.set)}
	}
	pc.Steps = []perlStep{}
	for _, ch := range c.chunks {
		pc.Steps = append(pc.Steps, perlStep{Dir: int(ch.Dir), Type: int64(ch.Type), Offset: ch.Offset, DataHex: hex.EncodeToString(ch.Data)})
	}
	return pc
}

// ifaceJSON is an interface as plain JSON for ImpFixture::Plugin::Run.
func ifaceJSON(i imp.Interface) []any {
	var dt any
	if !i.AnyData {
		dt = int64(i.DataType)
	}
	var rs any
	if i.Results != nil {
		ts := []any{}
		for _, t := range i.Results {
			ts = append(ts, int64(t))
		}
		rs = ts
	}
	return []any{dt, rs}
}

// runPerl runs cases in Perl, in-process.
func runPerl(cases ...perlCase) []perlRecording {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var r struct {
		Recordings []perlRecording `json:"recordings"`
	}
	Expect(perlInproc.Call(ctx, map[string]any{"op": "run", "cases": cases}, &r)).To(Succeed())
	Expect(r.Recordings).To(HaveLen(len(cases)))
	return r.Recordings
}

// goFactory opens specs as the Go server does.
func goFactory(specs []string) imp.Factory {
	GinkgoHelper()
	f, err := server.OpenPlugins(specs...)
	Expect(err).NotTo(HaveOccurred())
	return f
}

// runGo runs c in Go, in-process.
func runGo(c refCase) inproc {
	GinkgoHelper()
	f := goFactory(c.specs)
	if c.set != nil {
		var err error
		f, err = imp.SetInterface(context.Background(), f, *c.set)
		Expect(err).NotTo(HaveOccurred())
	}
	meta := &imp.Meta{}
	if c.ctx != nil {
		var err error
		meta, err = imp.ParseContext(c.ctx)
		Expect(err).NotTo(HaveOccurred())
	}
	rs, err := imptest.Run(f, meta, c.chunks...)
	if errors.Is(err, imptest.ErrDeclined) {
		return inproc{declined: true, results: []string{}}
	}
	Expect(err).NotTo(HaveOccurred())
	out := []string{}
	for _, r := range rs {
		out = append(out, resultText(r))
	}
	return inproc{results: out, values: rs}
}

// fromPerl reads what Perl's plugin gave in a recording; a die fails.
func fromPerl(rec perlRecording) inproc {
	GinkgoHelper()
	Expect(rec.ConfigErrors).To(BeEmpty())
	Expect(rec.NewDied).To(BeEmpty())
	Expect(rec.Interface.Died).To(BeEmpty())
	if rec.Declined == 1 {
		return inproc{declined: true, results: []string{}}
	}
	out := []string{}
	for _, r := range rec.Init {
		out = append(out, r.Result)
	}
	for i, s := range rec.Steps {
		Expect(s.Died).To(BeEmpty(), "step %d died in Perl", i)
		for _, r := range s.Results {
			out = append(out, r.Result)
		}
	}
	vs := make([]imp.Result, len(out))
	for i, t := range out {
		vs[i] = resultFromText(t)
	}
	return inproc{results: out, values: vs}
}

// resultFromText reads a result from tagged JSON of [type, args...].
func resultFromText(t string) imp.Result {
	GinkgoHelper()
	a := taggedArray(t)
	n, ok := imp.ToInt(a.Elems[0])
	Expect(ok).To(BeTrue(), "result type of %s", t)
	return imp.Result{Type: imp.ResultType(n), Args: a.Elems[1:]}
}

// refs caches the references of the suite: each is computed once and
// serves all cells.
var refs = struct {
	sync.Mutex
	m map[string]inproc
}{m: map[string]inproc{}}

func refKey(c refCase) string {
	GinkgoHelper()
	b, err := json.Marshal(c.perl())
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// reference returns what the cases give in-process: Go's, required to be
// Perl's too when the live tier runs.
func reference(cs ...refCase) []inproc {
	GinkgoHelper()
	out := make([]inproc, len(cs))
	var todo []int
	refs.Lock()
	for i, c := range cs {
		if r, ok := refs.m[refKey(c)]; ok {
			out[i] = r
		} else {
			todo = append(todo, i)
		}
	}
	refs.Unlock()
	if len(todo) == 0 {
		return out
	}
	var recs []perlRecording
	if liveWhy == "" {
		pcs := make([]perlCase, len(todo))
		for k, i := range todo {
			pcs[k] = cs[i].perl()
		}
		recs = runPerl(pcs...)
	}
	for k, i := range todo {
		out[i] = runGo(cs[i])
		if recs != nil {
			if cs[i].set != nil {
				Expect(recs[k].Interface.SetOK).To(Equal(1), "Perl's set_interface in-process")
			}
			p := fromPerl(recs[k])
			Expect(p.declined).To(Equal(out[i].declined), "declined in Perl and in Go")
			diff := imptext.DiffResults(out[i].results, p.results)
			if cs[i].differs == "" {
				Expect(diff).To(BeEmpty(), "Go's plugin in-process against Perl's in-process")
			} else if diff != "" {
				AddReportEntry("documented difference", cs[i].differs+": "+diff)
				out[i].perl = &p
			}
		}
	}
	refs.Lock()
	for _, i := range todo {
		refs.m[refKey(cs[i])] = out[i]
	}
	refs.Unlock()
	return out
}

// interfaceReference returns the reply to get_interface(offered...) of
// the plugin in-process: Go's, required to be Perl's when the live tier
// runs.
func interfaceReference(specs []string, offered ...imp.Interface) []string {
	GinkgoHelper()
	got, err := imp.GetInterface(context.Background(), goFactory(specs), offered)
	Expect(err).NotTo(HaveOccurred())
	want := ifaceStrings(got)
	if liveWhy == "" {
		pc := perlCase{Name: "interface", Specs: specs, Interface: map[string]any{"offered": []any{}}}
		for _, i := range offered {
			pc.Interface["offered"] = append(pc.Interface["offered"].([]any), ifaceJSON(i))
		}
		rec := runPerl(pc)[0]
		Expect(rec.Interface.Died).To(BeEmpty())
		perlSays := []string{}
		for _, r := range rec.Interface.Reply {
			var i imp.Interface
			if n, ok := r[0].(float64); ok {
				i.DataType = imp.DataType(n)
			} else {
				i.AnyData = true
			}
			if ts, ok := r[1].([]any); ok {
				i.Results = []imp.ResultType{}
				for _, t := range ts {
					i.Results = append(i.Results, imp.ResultType(t.(float64)))
				}
			}
			perlSays = append(perlSays, ifaceString(i))
		}
		Expect(want).To(Equal(perlSays), "Go's get_interface in-process against Perl's")
	}
	return want
}
