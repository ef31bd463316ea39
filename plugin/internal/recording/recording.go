// Package recording replays what real Perl IMP plugins did, recorded by
// the perl-fixtures/*-record.pl scripts (ImpFixture::Plugin::Run), through
// the Go plugins, and compares the results exactly: result types,
// arguments as Perl values (an integer is not a string), and which
// strings are UTF-8.
package recording

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
	"github.com/goimp/imprpc/plugin/internal/perltest"
)

// File is a recording file.
type File struct {
	// Generator says what made the file (script, Perl and Net::IMP
	// versions).
	Generator map[string]any `json:"generator"`
	// Cases are the recorded cases.
	Cases []Case `json:"cases"`
}

// Spec names a factory: a plugin with its configuration (Net::IMP's
// str2cfg form), or a cascade of factories.
type Spec struct {
	Plugin  string `json:"plugin,omitempty"`
	Config  string `json:"config,omitempty"`
	Cascade []Spec `json:"cascade,omitempty"`
}

// UnmarshalJSON reads a spec. The configuration is a byte string, which
// JSON carries as the characters U+0000..U+00FF (Latin-1), as tagged JSON
// does.
func (s *Spec) UnmarshalJSON(b []byte) error {
	type plain Spec
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	cfg, ok := latin1(s.Config)
	if !ok {
		return fmt.Errorf("recording: config %q has characters above U+00FF", s.Config)
	}
	s.Config = string(cfg)
	return nil
}

// String writes s as a plugin spec, or as cascade(spec, ...).
func (s Spec) String() string {
	if s.Cascade != nil {
		parts := make([]string, len(s.Cascade))
		for i, p := range s.Cascade {
			parts[i] = p.String()
		}
		return "cascade(" + strings.Join(parts, ", ") + ")"
	}
	return s.Plugin + "=" + s.Config
}

// Case is one recorded case: a factory, optionally an interface query,
// and an analyzer fed with data step by step.
type Case struct {
	Name    string  `json:"name"`
	Factory Spec    `json:"factory"`
	Context *string `json:"context"` // tagged JSON, nil for {}
	// ConfigErrors are Perl's complaints about the configuration; when
	// there are any, nothing else was run.
	ConfigErrors []string   `json:"config_errors"`
	Interface    *Interface `json:"interface"`
	Declined     int        `json:"declined"`
	NewDied      string     `json:"new_died"`
	Init         []Result   `json:"init"`
	Steps        []Step     `json:"steps"`
}

// Interface is a recorded get_interface and set_interface.
type Interface struct {
	Offered []Iface `json:"offered"`
	Reply   []Iface `json:"reply"`
	Set     *Iface  `json:"set"`
	SetOK   int     `json:"set_ok"`
	Died    string  `json:"died"`
}

// Iface is an interface as the recordings write it: [data_type|null,
// [result_type...]|null].
type Iface struct{ imp.Interface }

// UnmarshalJSON reads [data_type|null, [result_type...]|null].
func (i *Iface) UnmarshalJSON(b []byte) error {
	var raw []*json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) == 0 || len(raw) > 2 {
		return fmt.Errorf("recording: bad interface %s", b)
	}
	if raw[0] == nil {
		i.AnyData = true
	} else {
		var n int64
		if err := json.Unmarshal(*raw[0], &n); err != nil {
			return fmt.Errorf("recording: bad data type in %s", b)
		}
		i.DataType = imp.DataType(n)
	}
	if len(raw) == 2 && raw[1] != nil {
		var rt []int
		if err := json.Unmarshal(*raw[1], &rt); err != nil {
			return fmt.Errorf("recording: bad result types in %s", b)
		}
		i.Results = []imp.ResultType{}
		for _, t := range rt {
			i.Results = append(i.Results, imp.ResultType(t))
		}
	}
	return nil
}

// Step is one data call and the results it gave.
type Step struct {
	Dir     int      `json:"dir"`
	Type    int64    `json:"type"`
	Offset  int64    `json:"offset"`
	DataHex string   `json:"data_hex"`
	Results []Result `json:"results"`
	// Died is Perl's message when the call died. Later steps are run
	// on, as imprpc_server.pl goes on with the next frame, but Perl's
	// state after a die is whatever the die left.
	Died string `json:"died"`
}

// Data returns the step's data.
func (s Step) Data() []byte {
	b, err := hex.DecodeString(s.DataHex)
	if err != nil {
		panic("recording: bad data_hex " + s.DataHex)
	}
	return b
}

// Result is a recorded result: [type, args...] in tagged JSON, and the
// indexes of the arguments that are UTF-8 strings.
type Result struct {
	Value string `json:"result"`
	UTF8  []int  `json:"utf8"`
}

// Load reads a recording file.
func Load(t testing.TB, path string) *File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("recording %s: %v", path, err)
	}
	if len(f.Cases) == 0 {
		t.Fatalf("recording %s: no cases", path)
	}
	return &f
}

// Meta returns the analyzer context of the case.
func (c Case) Meta(t testing.TB) *imp.Meta {
	t.Helper()
	if c.Context == nil {
		return new(imp.Meta)
	}
	v, err := taggedjson.Unmarshal([]byte(*c.Context))
	if err != nil {
		t.Fatalf("%s: context: %v", c.Name, err)
	}
	m, err := imp.ParseContext(v)
	if err != nil {
		t.Fatalf("%s: context: %v", c.Name, err)
	}
	return m
}

// Got is what a Go factory did with a case's analyzer.
type Got struct {
	Declined bool
	Init     []imp.Result
	Steps    [][]imp.Result
}

// Run makes an analyzer of f for the case and feeds it the case's steps,
// collecting the results of each step.
func Run(t testing.TB, f imp.Factory, c Case) Got {
	t.Helper()
	var rec imptest.Recorder
	var got Got
	a, err := f.NewAnalyzer(t.Context(), c.Meta(t), &rec)
	if err != nil {
		t.Fatalf("%s: NewAnalyzer: %v", c.Name, err)
	}
	got.Init = rec.Results()
	if a == nil {
		got.Declined = true
		return got
	}
	for _, s := range c.Steps {
		rec.Reset()
		a.Data(imp.Dir(s.Dir), s.Offset, imp.DataType(s.Type), s.Data())
		got.Steps = append(got.Steps, rec.Results())
	}
	return got
}

// Diff compares results with recorded ones and says how they differ, ""
// when they are the same.
func Diff(want []Result, got []imp.Result) string {
	var lines []string
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i].Value
		}
		if i < len(got) {
			g = Show(got[i])
		}
		switch {
		case i >= len(want):
			lines = append(lines, fmt.Sprintf("#%d: extra %s", i, g))
		case i >= len(got):
			lines = append(lines, fmt.Sprintf("#%d: missing %s", i, w))
		default:
			if d := diffResult(want[i], got[i]); d != "" {
				lines = append(lines, fmt.Sprintf("#%d: want %s, got %s: %s", i, w, g, d))
			}
		}
	}
	return strings.Join(lines, "\n")
}

func diffResult(want Result, got imp.Result) string {
	wv, err := taggedjson.Unmarshal([]byte(want.Value))
	if err != nil {
		return "bad recording: " + err.Error()
	}
	gv, utf8Args := Canonical(got)
	if d := perl.Diff(wv, gv); d != "" {
		return d
	}
	if w := append([]int{}, want.UTF8...); !reflect.DeepEqual(w, utf8Args) {
		return fmt.Sprintf("UTF-8 strings at args %v, Perl %v", utf8Args, w)
	}
	return ""
}

// Canonical returns r as the array [type, args...] that tagged JSON
// reads back from Perl's recording: UTF-8 strings whose characters all
// fit in a byte become byte strings (tagged JSON does not keep the
// flag), and the indexes of the arguments that were UTF-8 strings.
func Canonical(r imp.Result) (*perl.Array, []int) {
	elems := []perl.Value{perl.Int(r.Type)}
	utf8Args := []int{}
	for i, v := range r.Args {
		if s, ok := v.(perl.String); ok {
			utf8Args = append(utf8Args, i)
			if b, ok := latin1(string(s)); ok {
				v = perl.Bytes(b)
			}
		}
		elems = append(elems, v)
	}
	return perl.NewArray(elems...), utf8Args
}

// latin1 returns the bytes of text whose characters are all below 0x100.
func latin1(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF || r == utf8.RuneError {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}

// Show writes r in tagged JSON, as the recordings do.
func Show(r imp.Result) string {
	v, _ := Canonical(r)
	b, err := taggedjson.Marshal(v)
	if err != nil {
		return r.String()
	}
	return string(b)
}

// Live runs the recording script with the real Net::IMP (skipping the
// test when it cannot be loaded) and requires its output to have the
// same cases as the committed recording: the committed file is current.
func Live(t *testing.T, script, committed string) {
	t.Helper()
	env := append(perltest.NetIMPEnv(t), "PERL_HASH_SEED=0", "PERL_PERTURB_KEYS=0")
	cmd := exec.Command("perl", perltest.Fixtures(t, script))
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	b, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	var now, then struct {
		Cases []json.RawMessage `json:"cases"`
	}
	if err := json.Unmarshal(out, &now); err != nil {
		t.Fatalf("%s output: %v", script, err)
	}
	if err := json.Unmarshal(b, &then); err != nil {
		t.Fatal(err)
	}
	if len(now.Cases) != len(then.Cases) {
		t.Fatalf("%s made %d cases, %s has %d: regenerate it (see its generator)", script, len(now.Cases), committed, len(then.Cases))
	}
	for i := range now.Cases {
		var a, b any
		_ = json.Unmarshal(now.Cases[i], &a)
		_ = json.Unmarshal(then.Cases[i], &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("case %d differs from the committed recording:\nnow:       %s\ncommitted: %s", i, now.Cases[i], then.Cases[i])
		}
	}
}

// Filter does with results what a data provider does with the data:
// forwards what is passed or prepassed (also data that arrives after a
// pass into the future), sends replacements instead of what they
// replace, and stops at deny, drop or fatal. Give it the data of each
// direction with Data and the results, in the order they came, with
// Result. It does not handle gaps (data after an offset).
type Filter struct {
	// Out is what went on, per direction.
	Out [2][]byte
	// Stopped is set by deny, drop or fatal.
	Stopped bool
	// ToSender counts the tosender results.
	ToSender int

	in    [2][]byte // what each direction sent
	pos   [2]int64  // forwarded up to here
	until [2]int64  // passed up to here, maybe beyond the data so far
	all   [2]bool   // passed to the end
}

// Data adds data that dir sent.
func (f *Filter) Data(dir imp.Dir, data []byte) {
	f.in[dir] = append(f.in[dir], data...)
	f.flush(dir)
}

func (f *Filter) flush(dir imp.Dir) {
	end := min(f.until[dir], int64(len(f.in[dir])))
	if f.all[dir] {
		end = int64(len(f.in[dir]))
	}
	if end > f.pos[dir] && !f.Stopped {
		f.Out[dir] = append(f.Out[dir], f.in[dir][f.pos[dir]:end]...)
		f.pos[dir] = end
	}
}

// Result applies a result.
func (f *Filter) Result(r imp.Result) {
	if f.Stopped {
		return
	}
	dir, _ := r.Dir()
	off, _ := r.Offset()
	switch r.Type {
	case imp.ResultDeny, imp.ResultDrop, imp.ResultFatal:
		f.Stopped = true
	case imp.ResultToSender:
		f.ToSender++
	case imp.ResultPass, imp.ResultPrepass:
		if off == imp.MaxOffset {
			f.all[dir] = true
		} else {
			f.until[dir] = max(f.until[dir], off)
		}
		f.flush(dir)
	case imp.ResultReplace:
		data, _ := r.Data()
		f.flush(dir)
		f.Out[dir] = append(f.Out[dir], data...)
		f.pos[dir] = max(f.pos[dir], off)
		f.until[dir] = max(f.until[dir], off)
	}
}

// Unpassed returns how many bytes of dir were never forwarded.
func (f *Filter) Unpassed(dir imp.Dir) int64 { return int64(len(f.in[dir])) - f.pos[dir] }

// Open makes the factory of a spec: a plugin through imp.DefaultRegistry,
// by the name the recording uses (Perl class names are aliases), with its
// configuration parsed as imp.ParseConfig does; a cascade with
// newCascade, from the factories of its parts.
func (s Spec) Open(newCascade func(parts ...imp.Factory) (imp.Factory, error)) (imp.Factory, error) {
	if s.Cascade != nil {
		if newCascade == nil {
			return nil, fmt.Errorf("recording: no way to make a cascade")
		}
		var parts []imp.Factory
		for _, p := range s.Cascade {
			f, err := p.Open(newCascade)
			if err != nil {
				return nil, err
			}
			parts = append(parts, f)
		}
		return newCascade(parts...)
	}
	p, ok := imp.Lookup(s.Plugin)
	if !ok {
		return nil, fmt.Errorf("recording: no plugin %s", s.Plugin)
	}
	cfg, err := imp.ParseConfig(s.Config)
	if err != nil {
		return nil, err
	}
	return p.New(cfg)
}

// Interfaces returns the offered interfaces and Perl's reply.
func (i *Interface) Interfaces() (offered, reply []imp.Interface) {
	for _, x := range i.Offered {
		offered = append(offered, x.Interface)
	}
	for _, x := range i.Reply {
		reply = append(reply, x.Interface)
	}
	return offered, reply
}

// ShowInterfaces writes interfaces as imp.Interface.String does, with an
// empty result list written [] (unlike a missing one).
func ShowInterfaces(ifs []imp.Interface) string {
	parts := make([]string, len(ifs))
	for i, x := range ifs {
		parts[i] = x.String()
		if x.Results != nil && len(x.Results) == 0 {
			parts[i] = strings.TrimSuffix(parts[i], "]") + ", []]"
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// CheckInterface requires f to answer get_interface as Perl did (or as
// want says, when it is not ""), and set_interface to succeed or fail as
// Perl's did.
func CheckInterface(t testing.TB, f imp.Factory, rec *Interface, want string) {
	t.Helper()
	offered, reply := rec.Interfaces()
	got, err := imp.GetInterface(t.Context(), f, offered)
	if err != nil {
		t.Fatal(err)
	}
	if want == "" {
		want = ShowInterfaces(reply)
	}
	if g := ShowInterfaces(got); g != want {
		t.Errorf("get_interface(%v) = %s, want %s (Perl: %s)", offered, g, want, ShowInterfaces(reply))
	}
	if rec.Set != nil {
		_, err := imp.SetInterface(t.Context(), f, rec.Set.Interface)
		if ok := err == nil; ok != (rec.SetOK == 1) {
			t.Errorf("set_interface(%v): %v, Perl ok=%d", rec.Set.Interface, err, rec.SetOK)
		}
	}
}

// CheckSteps requires the results of got to be the recorded ones, at
// new_analyzer and at every step up to to (len(c.Steps) for all). Steps
// where Perl died go to died, or fail the test when died is nil.
func CheckSteps(t testing.TB, c Case, got Got, to int, died func(i int, s Step, got []imp.Result)) {
	t.Helper()
	if d := Diff(c.Init, got.Init); d != "" {
		t.Errorf("results at new_analyzer:\n%s", d)
	}
	for i, s := range c.Steps[:to] {
		if s.Died != "" {
			if died == nil {
				t.Fatalf("Perl died at step %d: %s", i, s.Died)
			}
			died(i, s, got.Steps[i])
			continue
		}
		if d := Diff(s.Results, got.Steps[i]); d != "" {
			t.Errorf("step %d (dir %d, type %d, %q):\n%s", i, s.Dir, s.Type, s.Data(), d)
		}
	}
}

// Leaves returns the errors joined in err (with errors.Join), in order.
func Leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Leaves(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
