package pattern

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/plugin/internal/recording"
)

const recordings = "testdata/recordings.json"

// open makes a factory from a recorded spec through the registry, by the
// Perl class name the recording uses (an alias of "pattern").
func open(spec recording.Spec) (imp.Factory, error) { return spec.Open(nil) }

// stricter lists the configurations Perl accepts and this plugin refuses
// on purpose, with what the refusal says.
var stricter = map[string]string{
	"string=s&rxdir=abc&action=deny&actdata=x": "rxdir must be 0|1",
	"string=&action=deny&actdata=x":            "string must not be empty",
	`rx=\b&rxlen=3&action=deny&actdata=x`:      "empty string anywhere",
}

// configMessages returns the messages of the problems in err, in the
// form Perl's messages are compared in: sorted, with the keys of
// "unexpected config keys" sorted, and a refused regex as "rx: invalid"
// (Perl's words are "'X' is no valid regex", ours say why).
func configMessages(err error) []string {
	var msgs []string
	for _, err := range recording.Leaves(err) {
		var ce *ConfigError
		var ie *imp.ConfigError
		switch {
		case errors.As(err, &ce) && ce.Key == "rx" && strings.HasPrefix(ce.Msg, `rx "`):
			msgs = append(msgs, "rx: invalid")
		case errors.As(err, &ce):
			msgs = append(msgs, ce.Msg)
		case errors.As(err, &ie):
			msgs = append(msgs, normalizeMessage(ie.Msg))
		default:
			msgs = append(msgs, err.Error())
		}
	}
	slices.Sort(msgs)
	return msgs
}

func normalizeMessage(m string) string {
	if keys, ok := strings.CutPrefix(m, "unexpected config keys "); ok {
		k := strings.Split(keys, ", ")
		slices.Sort(k)
		return "unexpected config keys " + strings.Join(k, ", ")
	}
	if strings.HasSuffix(m, "is no valid regex") {
		return "rx: invalid"
	}
	return m
}

// TestRecordings replays every case Perl's Net::IMP::Pattern was recorded
// with (perl-fixtures/pattern-record.pl) and requires the same results at
// every step, the same interfaces, and the same configuration errors.
func TestRecordings(t *testing.T) {
	file := recording.Load(t, recordings)
	for _, c := range file.Cases {
		t.Run(c.Name, func(t *testing.T) {
			f, err := open(c.Factory)
			if len(c.ConfigErrors) > 0 {
				var want []string
				for _, m := range c.ConfigErrors {
					want = append(want, normalizeMessage(m))
				}
				slices.Sort(want)
				if got := configMessages(err); !slices.Equal(got, want) {
					t.Fatalf("config errors\n got: %q\nwant: %q (Perl)", got, want)
				}
				return
			}
			if why, ok := stricter[c.Factory.Config]; ok {
				if err == nil || !strings.Contains(err.Error(), why) {
					t.Fatalf("Perl accepts this configuration, we refuse it saying %q; got %v", why, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Perl accepts the configuration, New says %v", err)
			}
			if c.Interface != nil {
				recording.CheckInterface(t, f, c.Interface, "")
			}
			if c.Steps == nil {
				return
			}
			got := recording.Run(t, f, c)
			recording.CheckSteps(t, c, got, len(c.Steps), func(_ int, s recording.Step, got []imp.Result) {
				checkDied(t, s, got)
			})
		})
	}
}

// checkDied checks our answer where Perl dies: only for data with an
// offset ("cannot deal with gaps in data"), where we emit fatal.
func checkDied(t *testing.T, s recording.Step, got []imp.Result) {
	t.Helper()
	if !strings.HasPrefix(s.Died, "cannot deal with gaps in data") {
		t.Fatalf("Perl died (%s): no documented answer for that", s.Died)
	}
	if len(got) != 1 || got[0].Type != imp.ResultFatal {
		t.Fatalf("where Perl dies with %q we answer fatal, got %v", s.Died, got)
	}
	if msg, _ := got[0].Message(); msg != "cannot deal with gaps in data" {
		t.Fatalf("fatal message %q", msg)
	}
}

// TestRecordingsLive runs the recorder with the real Net::IMP::Pattern
// and requires the committed recordings to be what it records now.
func TestRecordingsLive(t *testing.T) {
	recording.Live(t, "pattern-record.pl", filepath.FromSlash(recordings))
}

// TestResultsValid checks that every result the plugin gives for the
// recorded inputs is one a Perl peer understands.
func TestResultsValid(t *testing.T) {
	for _, c := range recording.Load(t, recordings).Cases {
		f, err := open(c.Factory)
		if err != nil || c.Steps == nil {
			continue
		}
		got := recording.Run(t, f, c)
		for _, rs := range append(got.Steps, got.Init) {
			for _, r := range rs {
				if err := r.Validate(); err != nil {
					t.Errorf("%s: %v", c.Name, err)
				}
			}
		}
	}
}

func TestRegistered(t *testing.T) {
	for _, name := range []string{"pattern", "Net::IMP::Pattern"} {
		p, ok := imp.Lookup(name)
		if !ok || p.Name != "pattern" {
			t.Errorf("Lookup(%q) = %v, %v", name, p.Name, ok)
		}
	}
	fs, err := imp.Open("Net::IMP::Pattern=string=x&action=deny&actdata=y", "pattern=rx=a.c&rxlen=3&action=replace&actdata=z")
	if err != nil || len(fs) != 2 {
		t.Fatalf("Open: %v", err)
	}
	_, err = imp.Open("pattern=rx=(?=a)&rxlen=3&action=replace", "pattern=string=x&action=deny&actdata=y")
	var pe *imp.PluginError
	if !errors.As(err, &pe) || pe.Name != "pattern" {
		t.Fatalf("Open of a bad config: %v", err)
	}
	for _, want := range []string{"lookaround", "action replace needs actdata"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error %q does not say %q", err, want)
		}
	}
}

// TestNew checks the configuration struct: every problem is reported,
// and a valid one works like its key=value form.
func TestNew(t *testing.T) {
	_, err := New(Config{Rx: "a", String: "b", OneDir: true, Dir: 2, Action: "drop"})
	got := configMessages(err)
	want := []string{"action can only be deny|reject|replace", "only rx or string should be given, not both", "rxdir must be 0|1", "rxlen must be given and >0"}
	if !slices.Equal(got, want) {
		t.Errorf("New errors %q, want %q", got, want)
	}
	_, err = New(Config{Rx: `a\1`, Action: Deny})
	got = configMessages(err)
	if !slices.Equal(got, []string{"rx: invalid", "rxlen must be given and >0"}) {
		t.Errorf("New errors %q", got)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("the zero Config was accepted")
	}

	f1, err := New(Config{Rx: "se.ret", RxLen: 6, OneDir: true, Dir: imp.FromServer, Action: Replace, ActData: "X"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := imp.ParseConfig("rx=se.ret&rxlen=6&rxdir=1&action=replace&actdata=X")
	c, err := ParseConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	chunks := []imptest.Chunk{
		{Dir: 1, Type: imp.DataStream, Data: []byte("a secret and a seXret")},
		{Dir: 0, Type: imp.DataStream, Data: []byte("secret")},
		{Dir: 1, Type: imp.DataStream},
	}
	r1, err1 := imptest.Run(f1, nil, chunks...)
	r2, err2 := imptest.Run(f2, nil, chunks...)
	if err1 != nil || err2 != nil || len(r1) == 0 {
		t.Fatal(err1, err2, r1)
	}
	if recording.Diff(toRecorded(r2), r1) != "" {
		t.Errorf("struct config gives %v, key=value config %v", r1, r2)
	}
	if len(r1) != 6 || r1[0].String() != "pass(0, -1)" || r1[5].String() != "pass(1, -1)" {
		t.Errorf("results %v: want pass(0,-1), two pass+replace, pass(1,-1)", r1)
	}
}

func toRecorded(rs []imp.Result) []recording.Result {
	var out []recording.Result
	for _, r := range rs {
		_, u := recording.Canonical(r)
		out = append(out, recording.Result{Value: recording.Show(r), UTF8: u})
	}
	return out
}

// TestOffsets: an offset that is where the data goes on anyway is
// accepted (Perl dies on any offset); a gap gives fatal, after which the
// analyzer ignores its data.
func TestOffsets(t *testing.T) {
	f, err := New(Config{String: "ab", Action: Deny})
	if err != nil {
		t.Fatal(err)
	}
	got, err := imptest.Run(f, nil,
		imptest.Chunk{Dir: 0, Type: imp.DataStream, Data: []byte("xyz")},
		imptest.Chunk{Dir: 0, Offset: 3, Type: imp.DataStream, Data: []byte("ab")},
		imptest.Chunk{Dir: 0, Offset: 10, Type: imp.DataStream, Data: []byte("ab")},
		imptest.Chunk{Dir: 0, Type: imp.DataStream, Data: []byte("ab")},
	)
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, r := range got {
		shown = append(shown, r.String())
	}
	want := []string{"pass(0, 2)", "pass(0, 3)", `deny(0, "")`, `fatal("cannot deal with gaps in data")`}
	if !slices.Equal(shown, want) {
		t.Errorf("got %q, want %q", shown, want)
	}
}

// TestDataNotKept checks that the analyzer copies what it keeps: the
// caller reuses its buffer after Data.
func TestDataNotKept(t *testing.T) {
	f, err := New(Config{String: "secret", Action: Replace, ActData: "X"})
	if err != nil {
		t.Fatal(err)
	}
	var rec imptest.Recorder
	a, _ := f.NewAnalyzer(t.Context(), new(imp.Meta), &rec)
	buf := []byte("..sec")
	a.Data(0, 0, imp.DataStream, buf)
	copy(buf, "zzzzz")
	a.Data(0, 0, imp.DataStream, []byte("ret"))
	var shown []string
	for _, r := range rec.Results() {
		shown = append(shown, r.String())
	}
	if want := []string{"pass(0, 2)", `replace(0, 8, "X")`}; !slices.Equal(shown, want) {
		t.Errorf("got %q, want %q", shown, want)
	}
}
