package imp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// netIMPEnv returns the environment for a perl that can load Net::IMP:
// PERL5LIB as it is if it has Net::IMP, else with the upstream clone the
// project's developer notes name (~/.cache/imprpc/upstream/p5-net-imp).
// It skips the test when there is no perl or no Net::IMP.
func netIMPEnv(t testing.TB) []string {
	t.Helper()
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not found: the Perl checks need it")
	}
	check := func(env []string) bool {
		cmd := exec.Command("perl", "-MNet::IMP::Base", "-MJSON::PP", "-e1")
		cmd.Env = env
		return cmd.Run() == nil
	}
	if env := os.Environ(); check(env) {
		return env
	}
	if home, err := os.UserHomeDir(); err == nil {
		lib := filepath.Join(home, ".cache", "imprpc", "upstream", "p5-net-imp", "lib")
		env := append(os.Environ(), "PERL5LIB="+lib+string(os.PathListSeparator)+os.Getenv("PERL5LIB"))
		if check(env) {
			return env
		}
	}
	t.Skip("Net::IMP not loadable (put p5-net-imp's lib on PERL5LIB): the Perl checks need it")
	return nil
}

// askPerl sends each query to testdata/netimp.pl and returns its answers.
func askPerl(t testing.TB, queries []map[string]any) []map[string]any {
	t.Helper()
	env := netIMPEnv(t)
	var in bytes.Buffer
	for _, q := range queries {
		b, err := json.Marshal(q)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(b)
		in.WriteByte('\n')
	}
	cmd := exec.Command("perl", filepath.Join("testdata", "netimp.pl"))
	cmd.Env = env
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("netimp.pl: %v\n%s", err, stderr.String())
	}
	var answers []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a map[string]any
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		if err := d.Decode(&a); err != nil {
			t.Fatalf("netimp.pl answer %q: %v", sc.Text(), err)
		}
		answers = append(answers, a)
	}
	if len(answers) != len(queries) {
		t.Fatalf("netimp.pl: %d answers to %d queries\n%s", len(answers), len(queries), stderr.String())
	}
	return answers
}

// latin1 turns a Go byte string into the characters Perl sees in it, and
// bytesOf turns such characters back.
func latin1(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

func bytesOf(t testing.TB, s string) string {
	t.Helper()
	var b []byte
	for _, r := range s {
		if r > 0xFF || r == utf8.RuneError {
			t.Fatalf("character %U in %q is not a byte", r, s)
		}
		b = append(b, byte(r))
	}
	return string(b)
}

// ifJSON is an interface as netimp.pl reads and writes it.
func ifJSON(i Interface) []any {
	var dt any
	if !i.AnyData {
		dt = int64(i.DataType)
	}
	var rt any
	if i.Results != nil {
		l := make([]any, len(i.Results))
		for k, r := range i.Results {
			l[k] = int(r)
		}
		rt = l
	}
	return []any{dt, rt}
}

func ifsJSON(ifs []Interface) []any {
	l := make([]any, len(ifs))
	for k, i := range ifs {
		l[k] = ifJSON(i)
	}
	return l
}

// ifFromJSON reads an interface netimp.pl wrote.
func ifFromJSON(t testing.TB, v any) Interface {
	t.Helper()
	l, ok := v.([]any)
	if !ok || len(l) != 2 {
		t.Fatalf("bad interface %v", v)
	}
	var i Interface
	if l[0] == nil {
		i.AnyData = true
	} else {
		n, err := l[0].(json.Number).Int64()
		if err != nil {
			t.Fatal(err)
		}
		i.DataType = DataType(n)
	}
	if l[1] != nil {
		i.Results = []ResultType{}
		for _, r := range l[1].([]any) {
			n, err := r.(json.Number).Int64()
			if err != nil {
				t.Fatal(err)
			}
			i.Results = append(i.Results, ResultType(n))
		}
	}
	return i
}
