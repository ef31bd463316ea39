package matrix_test

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/client"
	"github.com/goimp/imprpc/conformance/internal/imptext"
	"github.com/goimp/imprpc/conformance/internal/remoteclient"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
)

// provider is a data provider using one client factory (one connection
// to the server): what a scenario does with a cell's client. Results are
// tagged JSON of [type, args...]; analyzers are named by small handles.
type provider interface {
	getInterface(offered ...imp.Interface) []string
	setInterface(i imp.Interface)
	newAnalyzer(ctx perl.Value) int
	data(h int, c imptest.Chunk)
	closeAnalyzer(h int)
	// await waits until each analyzer of want has that many results,
	// and returns all results of each analyzer so far.
	await(want map[int]int) map[int][]string
	// quiet requires that no analyzer of hs gets a result for d.
	quiet(d time.Duration, hs ...int)
	// stderr returns what the client printed on stderr so far (Perl's
	// client only: its one trace of exceptions), and forgets it.
	stderr() []string
	close()
}

// unknownType is a data type neither side defines: an HTTP suite's
// type, as a protocol based on port 80 would define it.
var unknownType = imp.DataType(-(80 << 16) - 7)

// dial returns a provider of the cell's client connected to the cell's
// server of role; it is closed when the spec ends.
func dial(c cell, role string) provider {
	GinkgoHelper()
	var p provider
	if c.client == goSide {
		p = dialGo(c.endpoint(role).addr, c.wire)
	} else {
		p = dialPerl(c.endpoint(role).addr, c.wire)
	}
	DeferCleanup(p.close)
	return p
}

// ---- the Go client ---------------------------------------------------------

type goProvider struct {
	f  *client.Factory
	mu sync.Mutex
	as map[int]*goAnalyzer
}

type goAnalyzer struct {
	a       *client.Analyzer
	mu      sync.Mutex
	results []string
	drained chan struct{} // closed when Results is closed
}

func dialGo(addr string, w conn.Format) *goProvider {
	GinkgoHelper()
	// The unknown data type is allowed, to show what the servers do with
	// it; the client refuses it by default (docs/conformance.md).
	f, err := client.Dial(testCtx(), addr, client.Options{Wire: w, DataTypes: []imp.DataType{unknownType}, Logger: discard})
	Expect(err).NotTo(HaveOccurred())
	return &goProvider{f: f, as: map[int]*goAnalyzer{}}
}

func (p *goProvider) getInterface(offered ...imp.Interface) []string {
	GinkgoHelper()
	got, err := p.f.GetInterface(testCtx(), offered...)
	Expect(err).NotTo(HaveOccurred())
	return ifaceStrings(got)
}

func (p *goProvider) setInterface(i imp.Interface) {
	GinkgoHelper()
	Expect(p.f.SetInterface(testCtx(), i)).To(Succeed())
}

func (p *goProvider) newAnalyzer(ctx perl.Value) int {
	GinkgoHelper()
	a, err := p.f.NewAnalyzer(testCtx(), ctx)
	Expect(err).NotTo(HaveOccurred())
	ga := &goAnalyzer{a: a, drained: make(chan struct{})}
	go func() {
		defer close(ga.drained)
		for r := range a.Results() {
			t := resultText(r)
			ga.mu.Lock()
			ga.results = append(ga.results, t)
			ga.mu.Unlock()
		}
	}()
	p.mu.Lock()
	defer p.mu.Unlock()
	h := len(p.as) + 1
	p.as[h] = ga
	return h
}

func (p *goProvider) analyzer(h int) *goAnalyzer {
	GinkgoHelper()
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.as[h]
	Expect(a).NotTo(BeNil(), "no analyzer %d", h)
	return a
}

func (p *goProvider) data(h int, c imptest.Chunk) {
	GinkgoHelper()
	a := p.analyzer(h).a
	if err := a.Data(testCtx(), c.Dir, c.Offset, c.Type, c.Data); err != nil {
		// An analyzer that has ended (a deny, say) takes no more data
		// and says why it ended.
		Expect(err).To(Equal(a.Err()), "data for analyzer %d", h)
	}
}

func (p *goProvider) closeAnalyzer(h int) {
	GinkgoHelper()
	Expect(p.analyzer(h).a.Close()).To(Succeed())
}

func (ga *goAnalyzer) snapshot() []string {
	ga.mu.Lock()
	defer ga.mu.Unlock()
	return append([]string(nil), ga.results...)
}

func (p *goProvider) await(want map[int]int) map[int][]string {
	GinkgoHelper()
	out := map[int][]string{}
	Eventually(func() string {
		var short []string
		for h, n := range want {
			out[h] = p.analyzer(h).snapshot()
			if len(out[h]) < n {
				short = append(short, fmt.Sprintf("analyzer %d: %d of %d results (end: %v): %s", h, len(out[h]), n, p.analyzer(h).a.Err(), strings.Join(out[h], " ")))
			}
		}
		return strings.Join(short, "; ")
	}, 30*time.Second, 5*time.Millisecond).Should(BeEmpty())
	return out
}

func (p *goProvider) quiet(d time.Duration, hs ...int) {
	GinkgoHelper()
	count := func() int {
		n := 0
		for _, h := range hs {
			n += len(p.analyzer(h).snapshot())
		}
		return n
	}
	Consistently(count, d, 10*time.Millisecond).Should(Equal(count()))
}

func (p *goProvider) stderr() []string { return nil }

// end waits for analyzer h to end and for its results to be received,
// and returns why it ended.
func (p *goProvider) end(h int) error {
	GinkgoHelper()
	ga := p.analyzer(h)
	Eventually(ga.drained, 30*time.Second).Should(BeClosed())
	return ga.a.Err()
}

func (p *goProvider) close() { p.f.Close() }

// ---- Perl's Net::IMP::Remote (perl-fixtures/rpc-client.pl) -----------------

type perlProvider struct {
	c        *remoteclient.Client
	results  map[int][]string
	warnings []string
}

// perlCtx bounds a request to rpc-client.pl.
func perlCtx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	DeferCleanup(cancel)
	return ctx
}

// perlCall sends a request to rpc-client.pl.
func perlCall(req map[string]any, reply any) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	Expect(perlClient.Call(ctx, req, reply)).To(Succeed())
}

func dialPerl(addr string, w conn.Format) *perlProvider {
	GinkgoHelper()
	c, err := remoteclient.New(perlCtx(), perlClient, addr, w)
	Expect(err).NotTo(HaveOccurred())
	return &perlProvider{c: c, results: map[int][]string{}}
}

func (p *perlProvider) getInterface(offered ...imp.Interface) []string {
	GinkgoHelper()
	is, err := p.c.GetInterface(perlCtx(), offered...)
	Expect(err).NotTo(HaveOccurred())
	return ifaceStrings(is)
}

func (p *perlProvider) setInterface(i imp.Interface) {
	GinkgoHelper()
	ok, err := p.c.SetInterface(perlCtx(), i)
	Expect(err).NotTo(HaveOccurred())
	Expect(ok).To(BeTrue(), "Net::IMP::Remote's set_interface returned no factory")
}

func (p *perlProvider) newAnalyzer(ctx perl.Value) int {
	GinkgoHelper()
	h, err := p.c.NewAnalyzer(perlCtx(), ctx)
	Expect(err).NotTo(HaveOccurred())
	return h
}

func (p *perlProvider) data(h int, c imptest.Chunk) {
	GinkgoHelper()
	Expect(p.c.Data(perlCtx(), h, c)).To(Succeed())
}

func (p *perlProvider) closeAnalyzer(h int) {
	GinkgoHelper()
	Expect(p.c.CloseAnalyzer(perlCtx(), h)).To(Succeed())
}

// run runs the Perl client's event loop (see rpc-client.pl's remote_run)
// and keeps what came.
func (p *perlProvider) run(want map[int]int, idle float64) string {
	GinkgoHelper()
	opts := remoteclient.RunOptions{Want: want, Timeout: 30 * time.Second}
	if idle > 0 {
		opts.Idle = time.Duration(idle * float64(time.Second))
		opts.Timeout = opts.Idle + 30*time.Second
	}
	return p.runRequest(opts)
}

// awaitStderr runs the event loop until the client printed n lines on
// stderr (or 20 seconds passed), and returns them as stderr does.
func (p *perlProvider) awaitStderr(n int) []string {
	GinkgoHelper()
	for deadline := time.Now().Add(20 * time.Second); len(p.warnings) < n && time.Now().Before(deadline); {
		p.runRequest(remoteclient.RunOptions{Warnings: n - len(p.warnings), Timeout: 20 * time.Second})
	}
	return p.stderr()
}

func (p *perlProvider) runRequest(opts remoteclient.RunOptions) string {
	GinkgoHelper()
	r, err := p.c.Run(perlCtx(), opts)
	Expect(err).NotTo(HaveOccurred())
	for h, rs := range r.Results {
		p.results[h] = append(p.results[h], rs...)
	}
	p.warnings = append(p.warnings, r.Warnings...)
	return r.Why
}

func (p *perlProvider) await(want map[int]int) map[int][]string {
	GinkgoHelper()
	// The event loop's timers count from its cached time, stale after the
	// loop sat idle for long: a timeout may come at once, so the loop is
	// run again until the results came or 30 seconds passed here.
	deadline := time.Now().Add(30 * time.Second)
	var why string
	for {
		more := map[int]int{}
		for h, n := range want {
			more[h] = max(0, n-len(p.results[h]))
		}
		why = p.run(more, 0)
		if why != "timeout" || time.Now().After(deadline) {
			break
		}
	}
	out := map[int][]string{}
	for h, n := range want {
		out[h] = append([]string(nil), p.results[h]...)
		Expect(len(out[h])).To(BeNumerically(">=", n), "analyzer %d: %d of %d results (%s)", h, len(out[h]), n, why)
	}
	return out
}

func (p *perlProvider) quiet(d time.Duration, hs ...int) {
	GinkgoHelper()
	before := maps.Clone(p.results)
	want := map[int]int{}
	for _, h := range hs {
		want[h] = 1 << 30
	}
	// The loop may end its run at once (see await): it runs until d has
	// passed here.
	for start := time.Now(); time.Since(start) < d; {
		p.run(want, (d - time.Since(start)).Seconds())
	}
	for _, h := range hs {
		Expect(p.results[h]).To(Equal(before[h]), "analyzer %d got results", h)
	}
}

// Perl's messages name object addresses and paths of this machine.
var (
	perlAddr  = regexp.MustCompile(`HASH\(0x[0-9a-f]+\)`)
	perlWhere = regexp.MustCompile(` at \S*?([^/\s]+\.p[lm]) line (\d+)(?:, <\w*> line \d+)?\.`)
)

func (p *perlProvider) stderr() []string {
	w := p.warnings
	p.warnings = nil
	for i, s := range w {
		s = perlAddr.ReplaceAllString(s, "HASH(ADDR)")
		w[i] = perlWhere.ReplaceAllString(s, " at $1 line $2.")
	}
	return w
}

func (p *perlProvider) close() {
	_ = p.c.Close(context.Background())
}

// ---- values ----------------------------------------------------------------

// resultText returns a result as the tagged JSON of [type, args...].
func resultText(r imp.Result) string {
	GinkgoHelper()
	t, err := imptext.Result(r)
	Expect(err).NotTo(HaveOccurred())
	return t
}

// taggedArray reads tagged JSON of a non-empty array.
func taggedArray(text string) *perl.Array {
	GinkgoHelper()
	v, err := taggedjson.Unmarshal([]byte(text))
	Expect(err).NotTo(HaveOccurred())
	a, ok := v.(*perl.Array)
	Expect(ok && len(a.Elems) > 0).To(BeTrue(), "not a non-empty array: %s", text)
	return a
}

// ifaceString is the form interfaces are compared in:
// "[stream, [pass,replace]]", "[undef, undef]".
func ifaceString(i imp.Interface) string {
	dt := "undef"
	if !i.AnyData {
		dt = i.DataType.String()
	}
	rs := "undef"
	if i.Results != nil {
		names := make([]string, len(i.Results))
		for k, t := range i.Results {
			names[k] = t.String()
		}
		rs = "[" + strings.Join(names, ",") + "]"
	}
	return "[" + dt + ", " + rs + "]"
}

func ifaceStrings(is []imp.Interface) []string {
	out := []string{}
	for _, i := range is {
		out = append(out, ifaceString(i))
	}
	return out
}
