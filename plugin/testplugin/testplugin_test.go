package testplugin

import (
	"slices"
	"strings"
	"testing"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/plugin/internal/recording"
)

const recordings = "testdata/recordings.json"

func open(spec recording.Spec) (imp.Factory, error) { return spec.Open(nil) }

// messages returns the leaf messages of err without package prefixes,
// sorted, with trailing space removed (Perl's recorder strips it).
func messages(err error) []string {
	var out []string
	for _, err := range recording.Leaves(err) {
		m := err.Error()
		m = strings.TrimPrefix(strings.TrimPrefix(m, "testplugin: "), "imp: config: ")
		out = append(out, strings.TrimSpace(m))
	}
	slices.Sort(out)
	return out
}

// TestRecordings replays what the Perl test plugins did through Net::IMP
// (perl-fixtures/testplugin-record.pl) through their Go twins, reached by
// the Perl class names (the aliases), and requires the same results at
// every step, the same interfaces, declines and configuration errors.
func TestRecordings(t *testing.T) {
	for _, c := range recording.Load(t, recordings).Cases {
		t.Run(c.Name, func(t *testing.T) {
			f, err := open(c.Factory)
			if len(c.ConfigErrors) > 0 {
				want := slices.Clone(c.ConfigErrors)
				slices.Sort(want)
				if got := messages(err); !slices.Equal(got, want) {
					t.Fatalf("config errors %q, Perl %q", got, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Perl accepts the configuration, we say %v", err)
			}
			if c.Interface != nil {
				recording.CheckInterface(t, f, c.Interface, "")
			}
			if c.Steps == nil && c.Declined == 0 {
				return
			}
			got := recording.Run(t, f, c)
			if got.Declined != (c.Declined == 1) {
				t.Fatalf("declined: %v, Perl %v", got.Declined, c.Declined == 1)
			}
			if got.Declined {
				return
			}
			recording.CheckSteps(t, c, got, len(c.Steps), nil)
		})
	}
}

// TestRecordingsLive runs the Perl test plugins through the real
// Net::IMP now and requires the committed recordings to match.
func TestRecordingsLive(t *testing.T) {
	recording.Live(t, "testplugin-record.pl", recordings)
}

// TestEveryWordValid checks that every result testing:every_result can
// emit is one a Perl peer understands, and that the words cover every
// result type.
func TestEveryWordValid(t *testing.T) {
	seen := map[imp.ResultType]bool{}
	for w, mk := range words {
		r := mk(imp.FromServer, 10, 15, 5)
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", w, err)
		}
		seen[r.Type] = true
	}
	for _, rt := range allResults {
		if !seen[rt] {
			t.Errorf("no word emits %s", rt)
		}
	}
}

func TestRegistered(t *testing.T) {
	for name, alias := range map[string]string{
		"testing:decline":      "ImpFixture::Plugin::Decline",
		"testing:every_result": "ImpFixture::Plugin::EveryResult",
		"testing:echo_context": "ImpFixture::Plugin::EchoContext",
	} {
		p, ok := imp.Lookup(alias)
		if !ok || p.Name != name {
			t.Errorf("Lookup(%q) = %q, %v; want %q", alias, p.Name, ok, name)
		}
	}
}
