package cascade

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/plugin/internal/perltest"
	"github.com/goimp/imprpc/plugin/internal/recording"
)

// ifaceFixes gives our answer where it differs from Perl's on purpose,
// by case name: Perl pairs the parts' interfaces instead of requiring
// every part to support one.
var ifaceFixes = map[string]string{
	// Perl answers nothing when the parts emit different result types;
	// we answer their union.
	"interface no offer, different parts": "[[undef, [pass, deny, replace]]]",
	// Perl answers nothing for a single part; we answer its interface.
	"interface no offer, one part": "[[undef, [pass, deny]]]",
	// Perl refuses offers that list result types it does not handle
	// itself (tosender, pause, continue); we handle them.
	"interface offer as imp-relay": "[[imp.data.stream, [pass, prepass, deny, replace, tosender, log, acctfield, pause, continue, fatal]]]",
	// Perl answers all three, although two of them some part cannot
	// serve (a part with log and one with deny never both match).
	"interface offer some parts take": "[[imp.data.stream, [pass, deny, log, fatal]]]",
	// Perl adds [undef, [pass, fatal]], which was never offered and
	// which the stream-only part cannot serve.
	"interface offer with data types": "[[imp.data.stream, [pass, fatal]]]",
}

// TestInterfaces compares get_interface and set_interface with the
// recordings of Perl's cascade, except where ifaceFixes says otherwise.
func TestInterfaces(t *testing.T) {
	used := 0
	for _, c := range recording.Load(t, recordings).Cases {
		if c.Interface == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			f, err := open(c.Factory, false)
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if fix, ok := ifaceFixes[c.Name]; ok {
				used++
				if _, reply := c.Interface.Interfaces(); fix == recording.ShowInterfaces(reply) {
					t.Fatalf("ifaceFixes has Perl's own answer %s", fix)
				}
				want = fix
			}
			recording.CheckInterface(t, f, c.Interface, want)
		})
	}
	if used != len(ifaceFixes) {
		t.Errorf("%d of %d ifaceFixes used", used, len(ifaceFixes))
	}
}

func every(t *testing.T, cfg string) imp.Factory {
	t.Helper()
	fs, err := imp.Open("testing:every_result=" + cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fs[0]
}

func chunk(dir imp.Dir, s string) imptest.Chunk {
	return imptest.Chunk{Dir: dir, Type: imp.DataStream, Data: []byte(s)}
}

// TestPauseContinue: pause(dir) when the first part pauses dir,
// continue(dir) when none pauses it any more; without a direction they
// say nothing.
func TestPauseContinue(t *testing.T) {
	f, err := New(every(t, "results=pause,continue,pass"), every(t, "results=pause,continue"))
	if err != nil {
		t.Fatal(err)
	}
	// Part 1 sees each chunk first; part 2 only what part 1 passes.
	got, err := imptest.Run(f, nil,
		chunk(0, "pause pass"),    // both pause 0: pause(0) once
		chunk(0, "continue pass"), // both continue 0: continue(0) after the second
		chunk(1, "pause:nodir continue:nodir pause"),
		chunk(1, "continue"),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pause(0)", "continue(0)", "pause(1)", "continue(1)"}
	if g := show(got); !slices.Equal(g, want) {
		t.Errorf("got %q, want %q", g, want)
	}
}

// TestPausePerlDies shows what Perl's cascade does with pause from a
// part: it uses a result as an array index and runs out of memory.
func TestPausePerlDies(t *testing.T) {
	env := perltest.NetIMPEnv(t)
	cmd := exec.Command("perl", "-MNet::IMP::Cascade", "-MImpFixture::Plugin::EveryResult", "-e", `
		my @p = map { ImpFixture::Plugin::EveryResult->new_factory() } 1, 2;
		my $a = Net::IMP::Cascade->new_factory(parts => \@p)->new_analyzer;
		$a->set_callback(sub {});
		$a->data(0, "pause", 0, -1);
		print "survived\n";`)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || strings.Contains(string(out), "survived") ||
		!strings.Contains(string(out), "Out of memory") && !strings.Contains(string(out), "as array index") {
		t.Fatalf("expected Perl to run out of memory; exit %v, output %s", err, out)
	}
}

// TestDecline: a cascade whose parts all decline declines; one with some
// declining parts leaves them out.
func TestDecline(t *testing.T) {
	dec, err := imp.Open("testing:decline", "testing:decline")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := New(dec...)
	if _, err := imptest.Run(f, nil, chunk(0, "x")); !errors.Is(err, imptest.ErrDeclined) {
		t.Errorf("all parts decline: %v", err)
	}
	f, _ = New(dec[0], every(t, "results=pass"), dec[1])
	got, err := imptest.Run(f, nil, chunk(0, "pass:max"), chunk(1, "x pass"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"pass(0, 8)", "pass(0, -1)", "pass(1, 6)"}; !slices.Equal(show(got), want) {
		t.Errorf("got %q, want %q", show(got), want)
	}
}

// failing is a factory whose analyzers cannot be made.
type failing struct{ made []context.Context }

func (f *failing) Interfaces() []imp.Interface { return nil }
func (f *failing) NewAnalyzer(context.Context, *imp.Meta, imp.Sink) (imp.Analyzer, error) {
	return nil, errors.New("no analyzer today")
}

// ctxKeeper records the context its analyzers get.
type ctxKeeper struct{ ctx context.Context }

func (k *ctxKeeper) Interfaces() []imp.Interface { return nil }
func (k *ctxKeeper) NewAnalyzer(ctx context.Context, _ *imp.Meta, _ imp.Sink) (imp.Analyzer, error) {
	k.ctx = ctx
	return imp.AnalyzerFunc(func(imp.Dir, int64, imp.DataType, []byte) {}), nil
}

// TestPartError: when a part cannot make its analyzer, the cascade fails
// with the part's error and ends the analyzers already made.
func TestPartError(t *testing.T) {
	keep := new(ctxKeeper)
	f, _ := New(keep, new(failing))
	_, err := f.NewAnalyzer(t.Context(), new(imp.Meta), imp.SinkFunc(func(imp.Result) {}))
	if err == nil || !strings.Contains(err.Error(), "part 2: no analyzer today") {
		t.Fatalf("error %v", err)
	}
	select {
	case <-keep.ctx.Done():
	default:
		t.Error("the first part's analyzer was not ended")
	}
}

// asyncPart passes each chunk from another goroutine, after Data
// returned.
type asyncPart struct{ wg *sync.WaitGroup }

func (p asyncPart) Interfaces() []imp.Interface { return nil }
func (p asyncPart) NewAnalyzer(_ context.Context, _ *imp.Meta, out imp.Sink) (imp.Analyzer, error) {
	var pos [2]int64
	return imp.AnalyzerFunc(func(dir imp.Dir, _ int64, _ imp.DataType, data []byte) {
		pos[dir] += int64(len(data))
		end := pos[dir]
		if len(data) == 0 {
			end = imp.MaxOffset
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			out.Emit(imp.Pass(dir, end))
		}()
	}), nil
}

// TestAsyncParts: parts that emit from other goroutines, concurrently
// with Data; every byte comes out passed, in order per direction (run
// with -race).
func TestAsyncParts(t *testing.T) {
	var wg sync.WaitGroup
	f, _ := New(asyncPart{&wg}, asyncPart{&wg}, asyncPart{&wg})
	var rec imptest.Recorder
	a, err := f.NewAnalyzer(t.Context(), new(imp.Meta), &rec)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		a.Data(imp.Dir(i%2), 0, imp.DataStream, []byte("0123456789"))
	}
	a.Data(0, 0, imp.DataStream, nil)
	a.Data(1, 0, imp.DataStream, nil)
	// Every Add happens before this Wait or in a goroutine counted by
	// wg: results are processed by the goroutine that emits them, or by
	// one that holds the cascade and is itself counted (or is this one).
	wg.Wait()
	last := [2]int64{}
	for _, r := range rec.Results() {
		dir, _ := r.Dir()
		off, _ := r.Offset()
		if r.Type != imp.ResultPass || off != imp.MaxOffset && off <= last[dir] || last[dir] == imp.MaxOffset {
			t.Fatalf("result %v after pass(%d, %d)", r, dir, last[dir])
		}
		last[dir] = off
	}
	if last != [2]int64{imp.MaxOffset, imp.MaxOffset} {
		t.Errorf("the directions ended at %v, want passed to the end", last)
	}
}

// TestRegistered: the plugin is reached by both names, its parts come
// from part1, part2, ..., and every configuration problem is reported.
func TestRegistered(t *testing.T) {
	fs, err := imp.Open("Net::IMP::Cascade=part2=pattern=string=cd%26action=replace%26actdata=Y&part1=pattern=string=ab%26action=replace%26actdata=X")
	if err != nil {
		t.Fatal(err)
	}
	got, err := imptest.Run(fs[0], nil, chunk(0, "xxabyycdzz"), chunk(0, ""))
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := imp.Open("pattern=string=ab&action=replace&actdata=X", "pattern=string=cd&action=replace&actdata=Y")
	f, _ := New(ref...)
	want, _ := imptest.Run(f, nil, chunk(0, "xxabyycdzz"), chunk(0, ""))
	if !slices.Equal(show(got), show(want)) {
		t.Errorf("from the registry %q, from New %q", show(got), show(want))
	}

	for spec, wants := range map[string][]string{
		"cascade":                       {"needs at least one part"},
		"cascade=part1=pattern&foo=1":   {"unexpected config key foo", "part1: imp: plugin pattern"},
		"cascade=part1=nosuch&part3=x":  {"part2: is missing", "part1:"},
		"cascade=part0=pattern":         {"unexpected config key part0"},
		"cascade=part1":                 {"part1: needs a plugin spec"},
		"cascade=part1=testing:decline": nil,
	} {
		_, err := imp.Open(spec)
		if len(wants) == 0 {
			if err != nil {
				t.Errorf("%s: %v", spec, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted", spec)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", spec, err, w)
			}
		}
	}
}

func TestNew(t *testing.T) {
	if _, err := New(); err == nil {
		t.Error("New() accepted no parts")
	}
	if _, err := New(every(t, ""), nil); err == nil || !strings.Contains(err.Error(), "part2") {
		t.Errorf("New with a nil part: %v", err)
	}
}

// panicking is a part that panics on data.
type panicking struct{}

func (panicking) Interfaces() []imp.Interface { return nil }
func (panicking) NewAnalyzer(context.Context, *imp.Meta, imp.Sink) (imp.Analyzer, error) {
	return imp.AnalyzerFunc(func(imp.Dir, int64, imp.DataType, []byte) { panic("boom") }), nil
}

// TestPartPanics: a part's panic goes up to the caller (the server fails
// the analyzer), and leaves nothing locked behind.
func TestPartPanics(t *testing.T) {
	f, _ := New(every(t, "results=pass"), panicking{})
	a, err := f.NewAnalyzer(t.Context(), new(imp.Meta), imp.SinkFunc(func(imp.Result) {}))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		done := make(chan any)
		go func() {
			defer func() { done <- recover() }()
			a.Data(0, 0, imp.DataStream, []byte("pass"))
		}()
		if p := <-done; p != "boom" { // a lock left behind would block here
			t.Fatalf("recovered %v, want the part's panic", p)
		}
	}
}
