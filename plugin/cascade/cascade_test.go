package cascade

import (
	"slices"
	"strings"
	"testing"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
	"github.com/goimp/imprpc/plugin/internal/recording"
	_ "github.com/goimp/imprpc/plugin/pattern"
	_ "github.com/goimp/imprpc/plugin/testplugin"
)

const recordings = "testdata/recordings.json"

// open makes the factory of a recorded spec: plugins through the
// registry, by the Perl class names the recordings use (aliases), and
// cascades with New (with Perl's result-changing bugs when bugs is set).
func open(spec recording.Spec, bugs bool) (imp.Factory, error) {
	return spec.Open(func(parts ...imp.Factory) (imp.Factory, error) {
		f, err := New(parts...)
		if err == nil && bugs {
			f.(*factory).bugs = perlBugs{feedPlaceholder: true, packetPlaceholder: true}
		}
		return f, err
	})
}

// cases returns the recorded cases that feed data.
func cases(t *testing.T) []recording.Case {
	var out []recording.Case
	for _, c := range recording.Load(t, recordings).Cases {
		if c.Steps != nil || c.NewDied != "" {
			out = append(out, c)
		}
	}
	return out
}

// recorded returns the results Perl gave at step i.
func recorded(t *testing.T, c recording.Case, i int) []imp.Result {
	t.Helper()
	var rs []imp.Result
	for _, r := range c.Steps[i].Results {
		v, err := taggedjson.Unmarshal([]byte(r.Value))
		if err != nil {
			t.Fatal(err)
		}
		a := v.(*perl.Array)
		n, _ := imp.ToInt(a.Elems[0])
		rs = append(rs, imp.Result{Type: imp.ResultType(n), Args: a.Elems[1:]})
	}
	return rs
}

// firstDeath returns the index of the first step at which Perl died, or
// len(c.Steps).
func firstDeath(c recording.Case) int {
	for i, s := range c.Steps {
		if s.Died != "" {
			return i
		}
	}
	return len(c.Steps)
}

// TestRecordingsPerlMode checks the engine against Perl's
// Net::IMP::Cascade step by step: with Perl's bugs that change results
// switched back on, every step before Perl first dies gives exactly the
// results Perl gave (perl-fixtures/cascade-record.pl).
func TestRecordingsPerlMode(t *testing.T) {
	for _, c := range cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			if c.NewDied != "" {
				t.Skipf("Perl died making the analyzer (%s): see TestFixes", c.NewDied)
			}
			f, err := open(c.Factory, true)
			if err != nil {
				t.Fatal(err)
			}
			got := recording.Run(t, f, c)
			recording.CheckSteps(t, c, got, firstDeath(c), nil)
		})
	}
}

// TestRecordings checks the cascade as it is shipped, with its fixes,
// against the same recordings: a case gives Perl's results at every step,
// or Perl's cascade got it wrong and ours gets it right. For chains of
// replacing parts "right" is what applying the parts one after another
// to the whole data gives (oracle), and Perl's results must give
// something else there or Perl must die; for the other cases where Perl
// dies, fixes says what we do instead.
func TestRecordings(t *testing.T) {
	for _, c := range cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			f, err := open(c.Factory, false)
			if err != nil {
				t.Fatal(err)
			}
			got := recording.Run(t, f, c)
			same := recording.Diff(c.Init, got.Init) == "" && c.NewDied == ""
			for i := range c.Steps {
				if c.Steps[i].Died != "" || recording.Diff(c.Steps[i].Results, got.Steps[i]) != "" {
					same = false
				}
			}
			if _, ok := oracle(c, imp.FromClient); ok {
				ours := apply(c, func(i int) []imp.Result { return got.Steps[i] })
				if ok, why := matches(ours, c); !ok {
					t.Fatalf("our results give the wrong data: %s", why)
				}
				if want := rejects(c); ours.ToSender != want {
					t.Fatalf("%d tosender results, want one per rejected match: %d", ours.ToSender, want)
				}
				if !same {
					// TestRecordingsPerlMode shows that the difference
					// comes from the fixes alone.
					theirs := apply(c, func(i int) []imp.Result { return recorded(t, c, i) })
					if perlOK, why := matches(theirs, c); !perlOK {
						t.Logf("Perl's cascade gets this wrong (%s); ours is right", why)
					} else if d := firstDeath(c); d < len(c.Steps) {
						t.Logf("Perl's cascade dies at step %d (%s); ours goes on", d, c.Steps[d].Died)
					} else {
						t.Logf("Perl's data is right too, its results differ in timing (a part of Perl's sees an end of data too early)")
					}
				}
				return
			}
			if same {
				return
			}
			check, ok := fixes[c.Name]
			if !ok {
				t.Fatalf("our results differ from Perl's and no documented fix says why")
			}
			usedFixes[c.Name] = true
			check(t, got)
		})
	}
}

// usedFixes records the entries of fixes that TestRecordings needed;
// TestFixesUsed requires all of them to be.
var usedFixes = map[string]bool{}

// TestFixesUsed runs after TestRecordings (tests run in source order)
// and requires every entry of fixes to name a case that needs it.
func TestFixesUsed(t *testing.T) {
	for name := range fixes {
		if !usedFixes[name] {
			t.Errorf("fixes[%q] was not needed by any recorded case", name)
		}
	}
}

// rejects counts the matches of rejecting Pattern parts with a reply in
// a case's data, each of which must give one tosender.
func rejects(c recording.Case) int {
	n := 0
	for _, p := range c.Factory.Cascade {
		cfg, _ := imp.ParseConfig(p.Config)
		act, _ := cfg.Get("action")
		reply, _ := cfg.Get("actdata")
		str, ok := cfg.Get("string")
		if p.Plugin != "Net::IMP::Pattern" || act != "reject" || reply == "" || !ok {
			continue
		}
		for _, s := range c.Steps {
			n += strings.Count(string(s.Data()), str) // the cases reject in the first part
		}
	}
	return n
}

// fixes checks what the cascade does where Perl's dies, per case
// (docs/conformance.md lists each).
var fixes = map[string]func(t *testing.T, got recording.Got){
	// Perl dies when a part returns undef from new_analyzer; we leave the
	// part out, as Perl does with one that returns an empty list (whose
	// recorded results are the expectation).
	"declining part (undef)": func(t *testing.T, got recording.Got) {
		sameAs(t, got, "declining part (empty list) is dropped")
	},
	// Perl dies forwarding data behind a last part that is done and
	// changed the length; the data goes out.
	"data behind a finished last part that changed the length": func(t *testing.T, got recording.Got) {
		wantResults(t, got, 0, `replace(0, 23, "")`)
		wantResults(t, got, 1, "pass(0, 25)")
	},
	// Perl dies on pass_pattern from a part; we end with fatal.
	"pass_pattern from a part": func(t *testing.T, got recording.Got) {
		wantResults(t, got, 0, `fatal("cascade: part 1 gave pass_pattern, which a cascade cannot handle")`)
	},
	// Perl dies on port_open from a part; it goes out like a log.
	"port_open from a part": func(t *testing.T, got recording.Got) {
		wantResults(t, got, 0, `port_open(0, 20, "192.0.2.1", 8080)`, "pass(0, 20)")
	},
	// Perl dies on data after a pass into the future (a gap); the parts
	// get it with its offset, and the offsets go on from there.
	"data after a pass into the future": func(t *testing.T, got recording.Got) {
		wantResults(t, got, 0, `log(0, 0, 8, info, "log message")`, "pass(0, 8)")
		wantResults(t, got, 1, `log(0, 100, 8, info, "log message")`, "pass(0, 108)")
		wantResults(t, got, 2, `log(0, 108, 8, info, "log message")`, "pass(0, 116)")
	},
}

func show(rs []imp.Result) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.String())
	}
	return out
}

func wantResults(t *testing.T, got recording.Got, step int, want ...string) {
	t.Helper()
	if g := show(got.Steps[step]); !slices.Equal(g, want) {
		t.Errorf("step %d: got %q, want %q", step, g, want)
	}
}

func sameAs(t *testing.T, got recording.Got, name string) {
	t.Helper()
	for _, c := range cases(t) {
		if c.Name != name {
			continue
		}
		recording.CheckSteps(t, c, got, len(c.Steps), nil)
		return
	}
	t.Fatalf("no case %q", name)
}

// TestRecordingsLive runs the recorder with the real Net::IMP::Cascade
// and requires the committed recordings to be what it records now.
func TestRecordingsLive(t *testing.T) {
	recording.Live(t, "cascade-record.pl", recordings)
}

// TestPerlGetsDataWrong documents, from the recordings, the bug of Perl's
// cascade that our fix changes results for: without dying, Perl leaves
// matches unreplaced (a part took a placeholder for the end of the data
// and stopped inspecting), where applying the parts to the data would
// replace them.
func TestPerlGetsDataWrong(t *testing.T) {
	wrong := 0
	for _, c := range cases(t) {
		if _, ok := oracle(c, imp.FromClient); !ok || firstDeath(c) < len(c.Steps) {
			continue
		}
		theirs := apply(c, func(i int) []imp.Result { return recorded(t, c, i) })
		if ok, why := matches(theirs, c); !ok {
			wrong++
			t.Logf("%s: Perl forwards %s", c.Name, why)
		}
	}
	if wrong == 0 {
		t.Fatal("no recorded case shows Perl's cascade forwarding wrong data without dying")
	}
}

// TestPerlModeFailsWithPerl shows that the deaths of Perl's cascade that
// the placeholder fixes remove come from those bugs: with them switched
// back on, the engine fails (fatal) at the step where Perl died.
func TestPerlModeFailsWithPerl(t *testing.T) {
	n := 0
	for _, c := range cases(t) {
		d := firstDeath(c)
		if c.Name == "part passes a direction before its data (rxdir)" {
			continue // the same message, from another bug (fixed in every mode)
		}
		if d == len(c.Steps) || !slices.ContainsFunc([]string{"called replace for passed data", "gap should be set", "pass infinite should have been optimized"},
			func(m string) bool { return strings.HasPrefix(c.Steps[d].Died, m) }) {
			continue
		}
		n++
		f, err := open(c.Factory, true)
		if err != nil {
			t.Fatal(err)
		}
		got := recording.Run(t, f, c)
		if !slices.ContainsFunc(got.Steps[d], func(r imp.Result) bool { return r.Type == imp.ResultFatal }) {
			t.Errorf("%s: Perl died at step %d (%s), the engine with Perl's bugs gave %v", c.Name, d, c.Steps[d].Died, got.Steps[d])
		}
	}
	if n == 0 {
		t.Fatal("no recorded case with such a death")
	}
}
