// Package perltest runs Perl for the tests of the plugin packages: the
// differential tests against Perl's regex engine, and the live checks
// against the real Net::IMP plugins and the recordings made with them.
//
// The Perl scripts speak the project's line protocol (one JSON object
// per line in and out); tests skip with the reason when perl, or the
// Net::IMP modules a check needs, are not there.
package perltest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goimp/imprpc/internal/repotest"
)

// RepoRoot returns the directory holding go.mod, found by walking up from
// the working directory (a test runs in its package's directory).
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := repotest.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// Fixtures returns the path of a file in the repository's perl-fixtures
// directory.
func Fixtures(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(RepoRoot(t), "perl-fixtures", name)
}

// PerlEnv returns the environment for perl with the project's fixture
// library (perl-fixtures/lib) on PERL5LIB, or skips the test when there
// is no perl.
func PerlEnv(t testing.TB) []string {
	t.Helper()
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not found on PATH: this check compares with Perl")
	}
	return withLib(os.Environ(), filepath.Join(RepoRoot(t), "perl-fixtures", "lib"))
}

// NetIMPEnv is PerlEnv for scripts that load Net::IMP: PERL5LIB as it is
// when Net::IMP loads from it, else with the upstream clone the
// developer notes name (~/.cache/imprpc/upstream/p5-net-imp/lib, or
// $IMPRPC_UPSTREAM/p5-net-imp/lib). It skips the test, saying so, when
// Net::IMP cannot be loaded.
func NetIMPEnv(t testing.TB) []string {
	t.Helper()
	env := PerlEnv(t)
	loads := func(env []string) bool {
		cmd := exec.Command("perl", "-MNet::IMP::Pattern", "-MNet::IMP::Cascade", "-MJSON::PP", "-e1")
		cmd.Env = env
		return cmd.Run() == nil
	}
	if loads(env) {
		return env
	}
	upstream := os.Getenv("IMPRPC_UPSTREAM")
	if upstream == "" {
		if home, err := os.UserHomeDir(); err == nil {
			upstream = filepath.Join(home, ".cache", "imprpc", "upstream")
		}
	}
	if upstream != "" {
		withUp := withLib(env, filepath.Join(upstream, "p5-net-imp", "lib"))
		if loads(withUp) {
			return withUp
		}
	}
	t.Skip("Net::IMP cannot be loaded (install it from CPAN, or put a p5-net-imp checkout's lib/ on PERL5LIB): the live comparison with the Perl plugins needs it")
	return nil
}

// withLib returns env with dir put first on PERL5LIB.
func withLib(env []string, dir string) []string {
	out := make([]string, 0, len(env)+1)
	lib := dir
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PERL5LIB="); ok {
			if v != "" {
				lib += string(os.PathListSeparator) + v
			}
			continue
		}
		out = append(out, kv)
	}
	return append(out, "PERL5LIB="+lib)
}

// Run runs perl with args and env, feeds it stdin, and returns its
// standard output; it fails the test, with perl's standard error, when
// perl fails.
func Run(t testing.TB, env []string, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("perl", args...)
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("perl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// Ask sends each query as one JSON line to the Perl script and returns
// its answers, one JSON line per query.
func Ask[Q, A any](t testing.TB, env []string, script string, queries []Q) []A {
	t.Helper()
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, q := range queries {
		if err := enc.Encode(q); err != nil {
			t.Fatal(err)
		}
	}
	out := Run(t, env, in.Bytes(), script)
	var answers []A
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var a A
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("%s: answer %q: %v", script, sc.Text(), err)
		}
		answers = append(answers, a)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(answers) != len(queries) {
		t.Fatalf("%s: %d answers to %d queries", script, len(answers), len(queries))
	}
	return answers
}
