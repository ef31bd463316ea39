package imp

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/goimp/imprpc/perl"
)

// TestConstructorsMatchPerl compares what the constructors build with
// the results the real Perl modules put on the wire.
func TestConstructorsMatchPerl(t *testing.T) {
	vectors := goldenVectors(t)
	b := func(s string) perl.Value { return perl.Bytes(s) }
	for name, r := range map[string]Result{
		"result_pass_offset0":              Pass(0, 0),
		"result_pass_maxoffset_dir0":       Pass(FromClient, MaxOffset),
		"result_pass_maxoffset_dir1":       Pass(FromServer, MaxOffset),
		"result_pass_offset_1000":          Pass(0, 1000),
		"result_pass_offset_4294967296":    Pass(1, 4294967296),
		"result_pass_pattern_regexp":       PassPattern(0, QR(`\r\n\r\n`, ""), 4),
		"result_pass_pattern_regexp_flags": PassPattern(1, QR(`^end\s*$`, "mi"), 16),
		"result_pass_pattern_string":       PassPattern(0, b("\r\n\r\n"), 4),
		"result_prepass_offset":            Prepass(0, 1000),
		"result_prepass_maxoffset":         Prepass(1, MaxOffset),
		"result_deny_reason":               Deny(0, "found secret"),
		"result_deny_extra_kv":             Deny(1, "blocked by policy", b("rule"), b("r17"), b("category"), b("malware")),
		"result_deny_empty_reason":         Deny(0, ""),
		"result_drop":                      Drop(),
		"result_fatal":                     Fatal("connect to IMP server failed (Connection refused)"),
		"result_tosender":                  ToSender(0, []byte("HTTP/1.0 403 Forbidden\r\n\r\n")),
		"result_replace":                   Replace(0, 200, []byte("barfoot")),
		"result_replace_empty":             Replace(1, 4096, []byte{}),
		"result_replace_later":             ReplaceLater(0, 100, 200),
		"result_replace_later_big":         ReplaceLater(1, 4294967296, 1099511627776),
		"result_pause":                     Pause(0),
		"result_continue":                  Continue(1),
		"result_log_info":                  Log(0, 0, 10, LogInfo, "message at level info"),
		"result_log_emergency":             Log(0, 0, 10, LogEmergency, "message at level emergency"),
		"result_log_extra_kv":              Log(1, 160, 10, LogInfo, "hi!", b("key1"), b("value1"), b("key2"), b("value2")),
		"result_port_open":                 PortOpen(0, 1500, b("192.0.2.10"), perl.Int(20001)),
		"result_port_close":                PortClose(0, 3000, b("192.0.2.10"), perl.Int(20001)),
		"result_acctfield_string":          AcctField("logfile", b("/var/log/imp/session-1.pcap")),
		"result_acctfield_int_12345":       AcctField("value", perl.Int(12345)),
		"result_acctfield_double":          AcctField("duration", perl.Float(0.1)),
	} {
		v, ok := vectors[name]
		if !ok {
			t.Errorf("no golden vector %s", name)
			continue
		}
		if want := goldenResult(t, v.Args); !reflect.DeepEqual(r, want) {
			t.Errorf("%s: built %#v, Perl sent %#v", name, r, want)
		}
	}
}

// view is what the accessors read from a result.
type view struct {
	Dir, Offset, End, Len, Level, Msg, Data, Pattern, Key, Value any
	Extra                                                        int
}

func viewOf(r Result) view {
	opt := func(v any, ok bool) any {
		if !ok {
			return nil
		}
		return v
	}
	var v view
	v.Dir = opt(r.Dir())
	v.Offset = opt(r.Offset())
	v.End = opt(r.EndOffset())
	v.Len = opt(r.Len())
	v.Level = opt(r.Level())
	v.Msg = opt(r.Message())
	if d, ok := r.Data(); ok {
		v.Data = string(d)
	}
	if p, ok := r.Pattern(); ok {
		var s strings.Builder
		formatValue(&s, p)
		v.Pattern = s.String()
	}
	if k, val, ok := r.AcctField(); ok {
		v.Key = k
		text, ok := ToText(val)
		v.Value = fmt.Sprintf("%s %v", text, ok)
	}
	v.Extra = len(r.Extra())
	return v
}

// TestGoldenResults checks every result the Perl modules sent: each
// validates (but the two with an unknown type or level), and the
// accessors read the same from the Perl value as from what the Storable
// wire makes of it (offsets as decimal strings, doubles as strings).
func TestGoldenResults(t *testing.T) {
	n := 0
	for name, v := range goldenVectors(t) {
		if v.Op != "result" {
			continue
		}
		n++
		r := goldenResult(t, v.Args)
		err := r.Validate()
		switch name {
		case "result_unknown_result_type":
			if err == nil || err.Error() != "imp: result 39321: unknown result type" {
				t.Errorf("%s: Validate = %v", name, err)
			}
			continue
		case "result_log_unknown_level":
			if err == nil || err.Error() != "imp: result log: arg 3 (level): unknown log level 9" {
				t.Errorf("%s: Validate = %v", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if v.StorableDecoded == nil {
			continue
		}
		s := goldenResult(t, v.StorableDecoded)
		if err := s.Validate(); err != nil {
			t.Errorf("%s as Storable decodes it: %v", name, err)
		}
		vr, vs := viewOf(r), viewOf(s)
		if strings.HasPrefix(name, "result_log_doubles") || strings.HasPrefix(name, "result_acctfield_double") {
			// nfreeze writes doubles as %.15g text: only the offsets and
			// the text of 0.25 and the like survive.
			vr.Value, vs.Value = nil, nil
		}
		if vr != vs {
			t.Errorf("%s: accessors read %+v from Perl's value, %+v from Storable's", name, vr, vs)
		}
	}
	if n < 40 {
		t.Errorf("only %d result vectors", n)
	}
}

func TestAccessors(t *testing.T) {
	vectors := goldenVectors(t)
	for _, c := range []struct {
		vector string
		want   view
	}{
		{"result_pass_offset_4294967296", view{Dir: FromServer, Offset: int64(4294967296)}},
		{"result_pass_maxoffset_dir0", view{Dir: FromClient, Offset: MaxOffset}},
		{"result_pass_pattern_regexp_flags", view{Dir: FromServer, Pattern: `qr/^end\s*$/mi`, Len: int64(16)}},
		{"result_pass_pattern_string", view{Dir: FromClient, Pattern: `"\r\n\r\n"`, Len: int64(4)}},
		{"result_deny_extra_kv", view{Dir: FromServer, Msg: "blocked by policy", Extra: 4}},
		{"result_deny_no_reason", view{Dir: FromClient}},
		{"result_deny_utf8", view{Dir: FromClient, Msg: "verboten ☺", Extra: 2}},
		{"result_fatal", view{Msg: "connect to IMP server failed (Connection refused)"}},
		{"result_tosender", view{Dir: FromClient, Data: "HTTP/1.0 403 Forbidden\r\n\r\n"}},
		{"result_replace_utf8", view{Dir: FromServer, Offset: int64(30), Data: "☺😀"}},
		{"result_replace_later_big", view{Dir: FromServer, Offset: int64(4294967296), End: int64(1099511627776)}},
		{"result_log_utf8", view{Dir: FromClient, Offset: int64(0), Len: int64(5), Level: LogWarning, Msg: "café ☺", Extra: 2}},
		{"result_log_doubles", view{Dir: FromClient, Offset: int64(0), Len: int64(0), Level: LogInfo, Msg: "timing", Extra: 12}},
		{"result_port_open", view{Dir: FromClient, Offset: int64(1500), Extra: 2}},
		{"result_acctfield_int_m9223372036854775808", view{Key: "value", Value: "-9223372036854775808 true"}},
		{"result_acctfield_int_18446744073709551615", view{Key: "value", Value: "18446744073709551615 true"}},
		{"result_acctfield_utf8", view{Key: "user", Value: "Jürgen ☺ true"}},
		{"result_acctfield_double", view{Key: "duration", Value: "0.1 true"}},
		{"result_pause", view{Dir: FromClient}},
		{"result_drop", view{}},
	} {
		if got := viewOf(goldenResult(t, vectors[c.vector].Args)); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.vector, got, c.want)
		}
	}
}

func TestDataOctets(t *testing.T) {
	raw := []byte("abc\xe9")
	r := Replace(0, 4, raw)
	if d, ok := r.Data(); !ok || &d[0] != &raw[0] {
		t.Error("Data copied a byte string")
	}
	for _, c := range []struct {
		v    perl.Value
		want string
	}{
		{perl.String("café"), "caf\xe9"},   // downgraded as Perl writes it
		{perl.String("caf☺"), "caf\u263a"}, // wide: the UTF-8 encoding
		{&perl.Scalar{Value: perl.Bytes("x")}, "x"},
	} {
		r := Result{Type: ResultToSender, Args: []perl.Value{perl.Int(0), c.v}}
		if d, ok := r.Data(); !ok || string(d) != c.want {
			t.Errorf("Data of %#v = %q, %v; want %q", c.v, d, ok, c.want)
		}
	}
	if _, ok := (Result{Type: ResultToSender, Args: []perl.Value{perl.Int(0), perl.Int(5)}}).Data(); ok {
		t.Error("an integer is data")
	}
}

func TestValidate(t *testing.T) {
	i := func(n int64) perl.Value { return perl.Int(n) }
	b := func(s string) perl.Value { return perl.Bytes(s) }
	arr := perl.ArrayRef(i(1))
	for _, c := range []struct {
		r   Result
		err string
	}{
		{Pass(0, 5), ""},
		{Result{ResultPass, []perl.Value{b("1"), b("4294967296")}}, ""},
		{Result{ResultPass, []perl.Value{i(0), perl.Float(3.0)}}, ""},
		{Result{ResultPass, []perl.Value{i(0), perl.Uint(math.MaxUint64)}}, "imp: result pass: arg 1 (offset): not an integer: uint"},
		{Result{ResultPass, []perl.Value{i(0)}}, "imp: result pass: want 2 args, got 1"},
		{Result{ResultPass, []perl.Value{i(0), i(1), i(2)}}, "imp: result pass: want 2 args, got 3"},
		{Result{ResultPass, []perl.Value{i(2), i(1)}}, "imp: result pass: arg 0 (dir): direction 2 is not 0 or 1"},
		{Result{ResultPass, []perl.Value{i(0), i(-2)}}, "imp: result pass: arg 1 (offset): offset -2 is below -1"},
		{Result{ResultPass, []perl.Value{i(0), perl.Undef{}}}, "imp: result pass: arg 1 (offset): not an integer: undef"},
		{Result{ResultPass, []perl.Value{i(0), b("12x")}}, "imp: result pass: arg 1 (offset): not an integer: bytes"},
		{Result{ResultPass, []perl.Value{i(0), nil}}, "imp: result pass: arg 1 (offset): not an integer: nil"},
		{Result{ResultPassPattern, []perl.Value{i(0), arr, i(4)}}, "imp: result pass_pattern: arg 1 (regex): not a qr// or a string: reference to array"},
		{Result{ResultPassPattern, []perl.Value{i(0), QR("x", ""), i(-1)}}, "imp: result pass_pattern: arg 2 (len): length -1 is negative"},
		{Result{ResultReplace, []perl.Value{i(0), i(5), i(7)}}, "imp: result replace: arg 2 (newdata): not a string: int"},
		{Result{ResultToSender, []perl.Value{i(1), perl.String("☺")}}, ""},
		{Result{ResultDeny, []perl.Value{i(0)}}, ""},
		{Result{ResultDeny, nil}, "imp: result deny: want 1 to 2 or more args, got 0"},
		{Deny(0, "r", b("k")), "imp: result deny: 1 extra args, want key/value pairs"},
		{Deny(0, "r", arr, b("v")), "imp: result deny: arg 2 (key): not text: reference to array"},
		{Deny(0, "r", b("k"), arr), "imp: result deny: arg 3 (value): not a scalar: reference to array"},
		{Deny(0, "r", b("k"), perl.Undef{}), ""},
		{Result{ResultDrop, []perl.Value{i(0)}}, "imp: result drop: want 0 args, got 1"},
		{Result{ResultFatal, nil}, "imp: result fatal: want 1 args, got 0"},
		{Result{ResultFatal, []perl.Value{perl.Undef{}}}, "imp: result fatal: arg 0 (reason): not text: undef"},
		{Log(0, 0, 3, LogDebug, "m", b("k"), perl.Float(0.5)), ""},
		{Log(0, 0, 3, LogLevel(0), "m"), "imp: result log: arg 3 (level): unknown log level 0"},
		{Log(0, 0, -3, LogDebug, "m"), "imp: result log: arg 2 (len): length -3 is negative"},
		{Result{ResultLog, []perl.Value{i(0), i(0), i(0), i(1)}}, "imp: result log: want 5 or more args, got 4"},
		{PortOpen(0, 5, arr), ""},
		{Result{ResultPortClose, []perl.Value{i(0)}}, "imp: result port_close: want 2 or more args, got 1"},
		{AcctField("k", arr), "imp: result acctfield: arg 1 (value): not a scalar: reference to array"},
		{AcctField("k", perl.Uint(math.MaxUint64)), ""},
		{Result{ResultPause, nil}, ""},
		{Result{ResultContinue, []perl.Value{i(0), i(1)}}, "imp: result continue: want 0 to 1 args, got 2"},
		{ReplaceLater(0, 5, MaxOffset), ""},
		{Result{ResultReplaceLater, []perl.Value{i(0), i(5), b("x")}}, "imp: result replace_later: arg 2 (endoffset): not an integer: bytes"},
		{Result{ResultType(0x77), nil}, "imp: result 119: unknown result type"},
	} {
		err := c.r.Validate()
		if c.err == "" {
			if err != nil {
				t.Errorf("%v: %v", c.r, err)
			}
			continue
		}
		var re *ResultError
		if !errors.As(err, &re) || err.Error() != c.err {
			t.Errorf("%v: Validate = %v, want %q", c.r, err, c.err)
		}
	}
}

func TestToInt(t *testing.T) {
	for _, c := range []struct {
		v    perl.Value
		n    int64
		isOK bool
	}{
		{perl.Int(-5), -5, true},
		{perl.Uint(math.MaxInt64), math.MaxInt64, true},
		{perl.Uint(math.MaxInt64 + 1), 0, false},
		{perl.Float(-3), -3, true},
		{perl.Float(0.5), 0, false},
		{perl.Float(math.Inf(1)), 0, false},
		{perl.Float(1 << 63), 0, false},
		{perl.Bytes("-9223372036854775808"), math.MinInt64, true},
		{perl.Bytes("9223372036854775808"), 0, false},
		{perl.Bytes("18446744073709551616"), 0, false},
		{perl.String("+12"), 12, true},
		{perl.Bytes("-"), 0, false},
		{perl.Bytes(""), 0, false},
		{perl.Bytes("1e3"), 0, false},
		{perl.Bool(true), 0, false},
		{perl.Undef{}, 0, false},
		{&perl.Scalar{Value: perl.Bytes("77")}, 77, true},
		{(*perl.Scalar)(nil), 0, false},
	} {
		n, ok := ToInt(c.v)
		if n != c.n || ok != c.isOK {
			t.Errorf("ToInt(%#v) = %d, %v; want %d, %v", c.v, n, ok, c.n, c.isOK)
		}
	}
}

func TestToText(t *testing.T) {
	for _, c := range []struct {
		v    perl.Value
		s    string
		isOK bool
	}{
		{perl.Bytes("caf\xe9"), "café", true},
		{perl.String("café"), "café", true},
		{perl.Int(-7), "-7", true},
		{perl.Uint(math.MaxUint64), "18446744073709551615", true},
		{perl.Float(0.1), "0.1", true},
		{perl.Float(1.0 / 3), "0.333333333333333", true},
		{perl.Float(1 << 53), "9.00719925474099e+15", true},
		{perl.Float(1e-5), "1e-05", true},
		{perl.Float(math.Inf(-1)), "-Inf", true},
		{perl.Float(math.NaN()), "NaN", true},
		{perl.Bool(true), "1", true},
		{perl.Bool(false), "", true},
		{perl.VString{Literal: "v1.2", Value: perl.Bytes("\x01\x02")}, "\x01\x02", true},
		{perl.Undef{}, "", false},
		{perl.ScalarRef(perl.Int(1)), "", false},
	} {
		s, ok := ToText(c.v)
		if s != c.s || ok != c.isOK {
			t.Errorf("ToText(%#v) = %q, %v; want %q, %v", c.v, s, ok, c.s, c.isOK)
		}
	}
}

func TestResultString(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, c := range []struct {
		r    Result
		want string
	}{
		{Pass(0, 1000), "pass(0, 1000)"},
		{Log(0, 0, 10, LogInfo, "msg", perl.Bytes("k"), perl.Float(0.5)), `log(0, 0, 10, info, "msg", "k", 0.5)`},
		{PassPattern(1, QR(`\r\n`, "i"), 2), `pass_pattern(1, qr/\r\n/i, 2)`},
		{Replace(0, 5, []byte(long)), `replace(0, 5, "` + long[:64] + `"...(100 bytes))`},
		{Drop(), "drop()"},
		{Result{ResultType(9), []perl.Value{perl.Undef{}, perl.Bool(true), perl.ArrayRef(), nil, &perl.Scalar{Value: perl.Int(3)}}}, "9(undef, true, <reference to array>, nil, 3)"},
	} {
		if got := c.r.String(); got != c.want {
			t.Errorf("String() = %s, want %s", got, c.want)
		}
	}
}

// TestConstructorAllocations pins the cost of the hot constructors: one
// allocation for the arguments, one more for an offset Go cannot box
// for free (outside 0..255 and -1).
func TestConstructorAllocations(t *testing.T) {
	var sink Result
	for _, c := range []struct {
		name string
		f    func()
		max  float64
	}{
		{"Pass to MaxOffset", func() { sink = Pass(1, MaxOffset) }, 1},
		{"Pass small offset", func() { sink = Pass(0, 200) }, 1},
		{"Pass large offset", func() { sink = Pass(0, 1<<20) }, 2},
		{"Validate", func() { _ = sink.Validate() }, 0},
		{"Offset", func() { _, _ = sink.Offset() }, 0},
	} {
		if n := testing.AllocsPerRun(100, c.f); n > c.max {
			t.Errorf("%s: %v allocations, want at most %v", c.name, n, c.max)
		}
	}
}

func BenchmarkPass(b *testing.B) {
	b.ReportAllocs()
	var r Result
	for i := range b.N {
		r = Pass(Dir(i&1), int64(i))
	}
	_ = r
}

func BenchmarkPassValidate(b *testing.B) {
	b.ReportAllocs()
	r := Pass(0, 123456)
	for range b.N {
		if r.Validate() != nil {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkReplace(b *testing.B) {
	b.ReportAllocs()
	data := []byte("replacement")
	var r Result
	for i := range b.N {
		r = Replace(0, int64(i), data)
	}
	_ = r
}

func BenchmarkOffsetFromStorableString(b *testing.B) {
	b.ReportAllocs()
	r := Result{Type: ResultPass, Args: []perl.Value{perl.Int(0), perl.Bytes("4294967296")}}
	for range b.N {
		if _, ok := r.Offset(); !ok {
			b.Fatal("no offset")
		}
	}
}

// FuzzToInt compares the decimal strings ToInt accepts with
// strconv.ParseInt.
func FuzzToInt(f *testing.F) {
	for _, s := range []string{"0", "-1", "4294967296", "+7", "-9223372036854775808", "9223372036854775808", "18446744073709551616", "1e3", "", "-", "007"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := ToInt(perl.Bytes(s))
		want, err := strconv.ParseInt(s, 10, 64)
		if ok != (err == nil) || n != want && ok {
			t.Fatalf("ToInt(%q) = %d, %v; strconv: %d, %v", s, n, ok, want, err)
		}
	})
}
