package taggedjson

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/goimp/imprpc/perl"
)

// selfScalar returns a scalar holding a reference to itself (my $x; $x = \$x).
func selfScalar(class string) *perl.Scalar {
	s := &perl.Scalar{Class: class}
	s.Value = perl.Ref{To: s}
	return s
}

// selfArray returns an array holding a reference to itself.
func selfArray(class string) *perl.Array {
	a := &perl.Array{Class: class}
	a.Elems = []perl.Value{perl.Int(1), perl.Ref{To: a}}
	return a
}

func hashOf(kv ...any) *perl.Hash {
	h := perl.NewHash(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i].(string), kv[i+1].(perl.Value))
	}
	return h
}

var marshalTests = []struct {
	name string
	v    perl.Value
	want string
}{
	{"undef", perl.Undef{}, `null`},
	{"immortal undef", perl.Undef{Of: perl.UndefImmortal}, `null`},
	{"true", perl.Bool(true), `true`},
	{"false", perl.Bool(false), `false`},
	{"zero", perl.Int(0), `0`},
	{"min int64", perl.Int(math.MinInt64), `-9223372036854775808`},
	{"max int64", perl.Int(math.MaxInt64), `9223372036854775807`},
	{"max uint64", perl.Uint(math.MaxUint64), `18446744073709551615`},
	{"integral double", perl.Float(1), `1.0`},
	{"negative zero", perl.Float(math.Copysign(0, -1)), `-0.0`},
	{"zero double", perl.Float(0), `0.0`},
	{"tenth", perl.Float(0.1), `0.1`},
	{"third", perl.Float(1.0 / 3), `0.3333333333333333`},
	{"2**53 as double", perl.Float(1 << 53), `9007199254740992.0`},
	{"1e20 in f form", perl.Float(1e20), `100000000000000000000.0`},
	{"1e21 in e form", perl.Float(1e21), `1e+21`},
	{"1e300", perl.Float(1e300), `1e+300`},
	{"1e-6 in f form", perl.Float(1e-6), `0.000001`},
	{"1e-7 in e form", perl.Float(1e-7), `1e-07`},
	{"smallest subnormal", perl.Float(5e-324), `5e-324`},
	{"largest double", perl.Float(math.MaxFloat64), `1.7976931348623157e+308`},
	{"inf", perl.Float(math.Inf(1)), `"inf"`},
	{"-inf", perl.Float(math.Inf(-1)), `"-inf"`},
	{"nan", perl.Float(math.NaN()), `"nan"`},
	{"ascii bytes", perl.Bytes("abc"), `"abc"`},
	{"empty bytes", perl.Bytes(nil), `""`},
	{"latin-1 byte", perl.Bytes("caf\xe9"), `"caf\u00e9"`},
	{"escapes", perl.Bytes("\"\\/\b\f\n\r\t\x00\x1f\x7f"), `"\"\\/\b\f\n\r\t\u0000\u001f\u007f"`},
	{"utf-8 string", perl.String("caf\u00e9 \u263a"), `"caf\u00e9 \u263a"`},
	{"astral", perl.String("\U0001F600"), `"\ud83d\ude00"`},
	{"largest code point", perl.String("\U0010FFFF"), `"\udbff\udfff"`},
	{"surrogate in perl utf-8", perl.String("\xed\xa0\x80"), `"\ud800"`},
	{"v-string", perl.VString{Literal: "v1.2.3", Value: perl.Bytes("\x01\x02\x03")}, `"\u0001\u0002\u0003"`},
	{"utf-8 v-string", perl.VString{Literal: "v9786", Value: perl.String("\u263a")}, `"\u263a"`},
	{"root array", perl.NewArray(perl.Int(1), perl.ArrayRef(perl.Int(2))), `[1,[2]]`},
	{"root ref to array", perl.ArrayRef(perl.Int(1)), `[1]`},
	{"root scalar shows its value", &perl.Scalar{Value: perl.Bytes("a")}, `"a"`},
	{"root ref to scalar", perl.ScalarRef(perl.Bytes("a")), `{"$ref":"a"}`},
	{"root ref to ref", perl.ScalarRef(perl.ScalarRef(perl.Bytes("a"))), `{"$ref":{"$ref":"a"}}`},
	{"array holes are null", perl.NewArray(perl.Undef{Of: perl.UndefHole}, perl.Int(1)), `[null,1]`},
	{"hash keys sorted", perl.HashRef(hashOf("b", perl.Int(1), "a", perl.Bytes("x"), "A", perl.Undef{})), `{"A":null,"a":"x","b":1}`},
	{"hash keys by code point", perl.HashRef(&perl.Hash{Entries: []perl.HashEntry{
		{Key: "\u263a", UTF8: true, Value: perl.Int(3)},
		{Key: "\xe9", Value: perl.Int(2)},
		{Key: "z", Value: perl.Int(1)},
	}}), `{"z":1,"\u00e9":2,"\u263a":3}`},
	{"placeholders not shown", perl.HashRef(&perl.Hash{Restricted: true, Entries: []perl.HashEntry{
		{Key: "gone", Flags: perl.KeyPlaceholder, Value: perl.Undef{}},
		{Key: "here", Flags: perl.KeyLocked, Value: perl.Int(1)},
	}}), `{"here":1}`},
	{"empty hash", &perl.Hash{}, `{}`},
	{"blessed array", &perl.Array{Class: "A", Elems: []perl.Value{perl.Int(1)}}, `{"$bless":"A","$value":[1]}`},
	{"ref to blessed hash", perl.HashRef(&perl.Hash{Class: "My::Class"}), `{"$bless":"My::Class","$value":{}}`},
	{"blessed scalar", perl.Ref{To: &perl.Scalar{Class: "A", Value: perl.Bytes("x")}}, `{"$bless":"A","$value":"x"}`},
	{"root blessed scalar", &perl.Scalar{Class: "A", Value: perl.Bytes("x")}, `{"$bless":"A","$value":"x"}`},
	{"blessed scalar holding a ref", perl.Ref{To: &perl.Scalar{Class: "A", Value: perl.ScalarRef(perl.Int(1))}}, `{"$bless":"A","$value":{"$ref":1}}`},
	{"blessed scalar holding a blessed array", perl.Ref{To: &perl.Scalar{Class: "A", Value: perl.Ref{To: &perl.Array{Class: "B"}}}}, `{"$bless":"A","$value":{"$bless":"B","$value":[]}}`},
	{"utf-8 class", &perl.Array{Class: "Caf\u00e9"}, `{"$bless":"Caf\u00e9","$value":[]}`},
	{"regexp", perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: `^end\s*$`, Flags: "mi"}}, `{"$regexp":"^end\\s*$","$flags":"mi"}`},
	{"regexp without class", perl.Ref{To: &perl.Regexp{Pattern: "x"}}, `{"$regexp":"x","$flags":""}`},
	{"utf-8 regexp", perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: "\u263a", UTF8: true, Flags: "u"}}, `{"$regexp":"\u263a","$flags":"u"}`},
	{"latin-1 regexp", perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: "\xe9"}}, `{"$regexp":"\u00e9","$flags":""}`},
	{"reblessed regexp", perl.Ref{To: &perl.Regexp{Class: "Foo", Pattern: "y"}}, `{"$bless":"Foo","$value":{"$regexp":"y","$flags":""}}`},
	{"hook", &perl.Hook{Class: "H", Frozen: perl.Bytes("f\xff"), Refs: []perl.Value{perl.ArrayRef(perl.Int(1)), perl.ScalarRef(perl.Bytes("s"))}},
		`{"$bless":"H","$hook":{"frozen":"f\u00ff","refs":[[1],{"$ref":"s"}]}}`},
	{"array cycle", selfArray(""), `[1,{"$cycle":true}]`},
	{"blessed array cycle", selfArray("A"), `{"$bless":"A","$value":[1,{"$cycle":true}]}`},
	{"ref to array cycle", perl.Ref{To: selfArray("")}, `[1,{"$cycle":true}]`},
	{"scalar cycle at the root", selfScalar(""), `{"$ref":{"$cycle":true}}`},
	{"ref to scalar cycle", perl.Ref{To: selfScalar("")}, `{"$ref":{"$ref":{"$cycle":true}}}`},
	{"blessed scalar cycle", perl.Ref{To: selfScalar("A")}, `{"$bless":"A","$value":{"$cycle":true}}`},
	{"element that is a target", func() perl.Value {
		// my @a = (undef); $a[0] = \$a[0];
		s := &perl.Scalar{}
		s.Value = perl.Ref{To: s}
		return perl.NewArray(s)
	}(), `[{"$ref":{"$cycle":true}}]`},
	{"shared, not a cycle, shows twice", func() perl.Value {
		inner := perl.ArrayRef(perl.Int(1))
		return perl.NewArray(inner, inner)
	}(), `[[1],[1]]`},
	{"hook ref back to itself", func() perl.Value {
		h := &perl.Hook{Class: "H", Frozen: perl.Bytes("x")}
		h.Refs = []perl.Value{perl.Ref{To: h}}
		return perl.NewArray(perl.Ref{To: h})
	}(), `[{"$bless":"H","$hook":{"frozen":"x","refs":[{"$cycle":true}]}}]`},
}

func TestMarshal(t *testing.T) {
	for _, tt := range marshalTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Marshal = %s\nwant      %s", got, tt.want)
			}
		})
	}
}

func TestMarshalAllBytes(t *testing.T) {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	got, err := Marshal(perl.Bytes(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("output is not printable ASCII: %q", got)
		}
	}
	v, err := Unmarshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if d := perl.Diff(perl.Bytes(b), v); d != "" {
		t.Error(d)
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name, path, msg string
		v               perl.Value
	}{
		{"beyond U+10FFFF", "$[1]", "U+110000 is beyond U+10FFFF", perl.NewArray(perl.Int(0), perl.String("\xf4\x90\x80\x80"))},
		{"perl extended utf-8", "$", "U+7FFFFFFF is beyond", perl.String("\xfd\xbf\xbf\xbf\xbf\xbf")},
		{"malformed utf-8", "$.k", "malformed UTF-8", perl.HashRef(hashOf("k", perl.String("\xc3")))},
		{"overlong utf-8", "$", "malformed UTF-8 (byte 0xc0)", perl.String("\xc0\x80")},
		{"overlong 3-byte utf-8", "$", "overlong", perl.String("\xe0\x80\x80")},
		{"key beyond unicode", `$["\xf8\x88\x80\x80\x80"]`, "U+200000 is beyond U+10FFFF", perl.HashRef(&perl.Hash{Entries: []perl.HashEntry{{Key: "\xf8\x88\x80\x80\x80", UTF8: true, Value: perl.Int(1)}}})},
		{"regexp beyond unicode", "$", "beyond U+10FFFF", perl.Ref{To: &perl.Regexp{Pattern: "\xf4\x90\x80\x80", UTF8: true}}},
		{"nil value", "$", "nil perl.Value", nil},
		{"nil element", "$[0]", "nil perl.Value", perl.NewArray(nil)},
		{"nil ref", "$[0]", "reference to nothing", perl.NewArray(perl.Ref{})},
		{"nil array", "$", "nil array", (*perl.Array)(nil)},
		{"array as element", "$[0]", "an array held directly", perl.NewArray(perl.NewArray())},
		{"hash value is a hash", "$.k", "a hash held directly", perl.HashRef(hashOf("k", perl.NewHash(0)))},
		{"scalar holding an array", "$.$ref", "holds an array directly", perl.Ref{To: &perl.Scalar{Value: perl.NewArray()}}},
		{"duplicate key", "$", "key \"\u00e9\" twice", perl.HashRef(&perl.Hash{Entries: []perl.HashEntry{{Key: "\xe9", Value: perl.Int(1)}, {Key: "\u00e9", UTF8: true, Value: perl.Int(2)}}})},
		{"v-string value", "$", "v-string value", perl.VString{Literal: "v1", Value: perl.Int(1)}},
		{"deep path", "$[0].a.$ref.$value[1]", "nil perl.Value",
			perl.NewArray(perl.HashRef(hashOf("a", perl.ScalarRef(perl.Ref{To: &perl.Array{Class: "X", Elems: []perl.Value{perl.Int(1), nil}}}))))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.v)
			var ue *UnsupportedValueError
			if !errors.As(err, &ue) {
				t.Fatalf("Marshal = %s, %v; want an *UnsupportedValueError", got, err)
			}
			if ue.Path != tt.path || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "taggedjson: ") {
				t.Errorf("error %q (path %s), want path %s and %q", err, ue.Path, tt.path, tt.msg)
			}
		})
	}
}

var unmarshalTests = []struct {
	name, in string
	want     perl.Value
}{
	{"null", `null`, perl.Undef{}},
	{"true", ` true `, perl.Bool(true)},
	{"false", `false`, perl.Bool(false)},
	{"integer", `42`, perl.Int(42)},
	{"negative zero integer", `-0`, perl.Int(0)},
	{"min int64", `-9223372036854775808`, perl.Int(math.MinInt64)},
	{"above int64 is uint", `9223372036854775808`, perl.Uint(1 << 63)},
	{"max uint64", `18446744073709551615`, perl.Uint(math.MaxUint64)},
	{"double with point", `1.0`, perl.Float(1)},
	{"double with exponent", `1e2`, perl.Float(100)},
	{"double with capital exponent", `-2.5E-3`, perl.Float(-0.0025)},
	{"double negative zero", `-0.0`, perl.Float(math.Copysign(0, -1))},
	{"ascii string is bytes", `"abc"`, perl.Bytes("abc")},
	{"latin-1 string is bytes", `"caf\u00e9"`, perl.Bytes("caf\xe9")},
	{"raw latin-1 character is bytes", "\"caf\u00e9\"", perl.Bytes("caf\xe9")},
	{"wide string is utf-8", `"caf\u00e9 \u263a"`, perl.String("caf\u00e9 \u263a")},
	{"raw wide character", "\"\u263a\"", perl.String("\u263a")},
	{"surrogate pair", `"\ud83d\ude00"`, perl.String("\U0001F600")},
	{"lone surrogate", `"\ud800x"`, perl.String("\xed\xa0\x80x")},
	{"escapes", `"\"\\\/\b\f\n\r\t"`, perl.Bytes("\"\\/\b\f\n\r\t")},
	{"inf stays a string", `"inf"`, perl.Bytes("inf")},
	{"root array", `[1,[2],{"a":1}]`, perl.NewArray(perl.Int(1), perl.ArrayRef(perl.Int(2)), perl.HashRef(hashOf("a", perl.Int(1))))},
	{"root hash", `{"b":1,"a":2}`, hashOf("b", perl.Int(1), "a", perl.Int(2))},
	{"hash keys latin-1 and utf-8", `{"\u00e9":1,"\u263a":2}`, &perl.Hash{Entries: []perl.HashEntry{
		{Key: "\xe9", Value: perl.Int(1)}, {Key: "\u263a", UTF8: true, Value: perl.Int(2)}}}},
	{"root ref stays a ref", `{"$ref":"a"}`, perl.ScalarRef(perl.Bytes("a"))},
	{"ref to array", `{"$ref":[1]}`, perl.ScalarRef(perl.ArrayRef(perl.Int(1)))},
	{"element ref", `[{"$ref":{"$ref":1}}]`, perl.NewArray(perl.ScalarRef(perl.ScalarRef(perl.Int(1))))},
	{"root blessed array", `{"$bless":"A","$value":[1]}`, &perl.Array{Class: "A", Elems: []perl.Value{perl.Int(1)}}},
	{"root blessed hash", `{"$value":{},"$bless":"A"}`, &perl.Hash{Class: "A", Entries: []perl.HashEntry{}}},
	{"root blessed scalar", `{"$bless":"A","$value":"x"}`, &perl.Scalar{Class: "A", Value: perl.Bytes("x")}},
	{"element blessed scalar", `[{"$bless":"A","$value":"x"}]`, perl.NewArray(perl.Ref{To: &perl.Scalar{Class: "A", Value: perl.Bytes("x")}})},
	{"blessed scalar holding a ref", `{"$bless":"A","$value":{"$ref":1}}`, &perl.Scalar{Class: "A", Value: perl.ScalarRef(perl.Int(1))}},
	{"blessed scalar holding a blessed array", `{"$bless":"A","$value":{"$bless":"B","$value":[]}}`,
		&perl.Scalar{Class: "A", Value: perl.Ref{To: &perl.Array{Class: "B", Elems: []perl.Value{}}}}},
	{"regexp", `[{"$regexp":"^a\\s","$flags":"mi"}]`, perl.NewArray(perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: `^a\s`, Flags: "mi"}})},
	{"regexp without flags", `{"$regexp":"x"}`, &perl.Regexp{Class: "Regexp", Pattern: "x"}},
	{"utf-8 regexp", `{"$regexp":"\u263a","$flags":""}`, &perl.Regexp{Class: "Regexp", Pattern: "\u263a", UTF8: true}},
	{"reblessed regexp", `{"$bless":"Foo","$value":{"$regexp":"y","$flags":"i"}}`, &perl.Regexp{Class: "Foo", Pattern: "y", Flags: "i"}},
	{"hook", `{"$bless":"H","$hook":{"frozen":"f\u00ff","refs":[[1],{"$ref":2}]}}`,
		&perl.Hook{Class: "H", Frozen: perl.Bytes("f\xff"), Refs: []perl.Value{perl.ArrayRef(perl.Int(1)), perl.ScalarRef(perl.Int(2))}}},
	{"dollar keys that are no tag", `{"$ref":1,"x":2}`, hashOf("$ref", perl.Int(1), "x", perl.Int(2))},
	{"dollar key alone", `{"$other":1}`, hashOf("$other", perl.Int(1))},
	{"white space", " \t\r\n[ 1 , 2 ]\n", perl.NewArray(perl.Int(1), perl.Int(2))},
}

func TestUnmarshal(t *testing.T) {
	for _, tt := range unmarshalTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Unmarshal([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if d := perl.Diff(tt.want, got); d != "" {
				t.Errorf("Unmarshal(%s): %s", tt.in, d)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int64
		msg    string
	}{
		{``, 0, "unexpected end of input"},
		{`[1,`, 3, "unexpected end of input"},
		{`[1 2]`, 3, "expected , or ]"},
		{`{"a" 1}`, 5, "expected :"},
		{`{1:2}`, 1, "expected a string"},
		{`{"a":1 "b":2}`, 7, "expected , or }"},
		{`[1] x`, 4, "data after the value"},
		{`01`, 1, "data after the value"},
		{`1.`, 2, "no digit after '.'"},
		{`1e`, 2, "no digit in the exponent"},
		{`-`, 1, "invalid number"},
		{`+1`, 0, "unexpected character"},
		{`tru`, 0, "invalid literal"},
		{`"abc`, 4, "unterminated string"},
		{"\"a\x01\"", 2, "control character"},
		{"\"\xff\"", 1, "invalid UTF-8"},
		{`"\x"`, 1, `invalid escape \x`},
		{`"\u12"`, 3, `invalid \u escape`},
		{`18446744073709551616`, 0, "outside -2**63 .. 2**64-1"},
		{`-9223372036854775809`, 0, "outside -2**63 .. 2**64-1"},
		{`[1e999]`, 1, "beyond the range of a double"},
		{`{"a":1,"a":2}`, 7, `duplicate key "a"`},
		{`{"\u00e9":1,"` + "\u00e9" + `":2}`, 12, "duplicate key"},
		{`[{"$cycle":true}]`, 1, "cannot be read back"},
		{`{"$ref":{"$cycle":true}}`, 8, "cannot be read back"},
		{`{"$bless":1,"$value":[]}`, 10, "$bless is not a class name"},
		{`{"$bless":"","$value":[]}`, 10, "$bless is not a class name"},
		{`{"$regexp":1}`, 11, "$regexp is not a string"},
		{`{"$regexp":"x","$flags":null}`, 24, "$flags is not a string"},
		{`{"$bless":"H","$hook":[]}`, 22, "$hook is not an object"},
		{`{"$bless":"H","$hook":{"frozen":"\u263a"}}`, 32, "frozen is not a byte string"},
		{`{"$bless":"H","$hook":{"refs":[1]}}`, 31, "not a reference"},
		{`{"$bless":"H","$hook":{"x":1}}`, 23, `unknown $hook member "x"`},
		{strings.Repeat("[", DefaultMaxDepth+1), DefaultMaxDepth, "nesting deeper than"},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			v, err := Unmarshal([]byte(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Unmarshal = %#v, %v; want a *SyntaxError", v, err)
			}
			if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("error %q, want offset %d and %q", err, tt.offset, tt.msg)
			}
		})
	}
}

func TestMaxDepthOption(t *testing.T) {
	in := []byte(`[[[1]]]`)
	if _, err := (DecOptions{MaxDepth: 3}).Unmarshal(in); err != nil {
		t.Errorf("depth 3 with MaxDepth 3: %v", err)
	}
	if _, err := (DecOptions{MaxDepth: 2}).Unmarshal(in); err == nil {
		t.Error("depth 3 with MaxDepth 2 was accepted")
	}
}

// TestRoundTrip checks Unmarshal(Marshal(v)) == v for values that tagged
// JSON shows without loss.
func TestRoundTrip(t *testing.T) {
	values := []perl.Value{
		perl.Undef{}, perl.Bool(true), perl.Int(-5), perl.Uint(math.MaxUint64), perl.Float(0.1), perl.Float(-1e-300),
		perl.Bytes("bytes \x00\xff"), perl.String("wide \u263a \U0001F600"),
		perl.NewArray(perl.ArrayRef(), perl.HashRef(hashOf("k", perl.ScalarRef(perl.Undef{})))),
		&perl.Hash{Class: "Obj", Entries: []perl.HashEntry{{Key: "\u263a", UTF8: true, Value: perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: "a|b", Flags: "x"}}}}},
		perl.ScalarRef(perl.ScalarRef(perl.Bytes("deep"))),
		&perl.Scalar{Class: "Box", Value: perl.Ref{To: &perl.Hash{Class: "Inner", Entries: []perl.HashEntry{}}}},
	}
	for _, v := range values {
		text, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%s): %v", perl.Describe(v), err)
		}
		back, err := Unmarshal(text)
		if err != nil {
			t.Fatalf("Unmarshal(%s): %v", text, err)
		}
		if d := perl.Diff(v, back); d != "" {
			t.Errorf("%s: %s", text, d)
		}
	}
}

// TestFloatShortest checks AppendFloat on random doubles: the text reads
// back to the same bits, shows a '.' or an exponent, and has no more
// significant digits than strconv's shortest form.
func TestFloatShortest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 100000 {
		var f float64
		if i%2 == 0 {
			f = math.Float64frombits(r.Uint64())
		} else {
			f = r.NormFloat64() * math.Pow(10, float64(r.IntN(60)-30))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		text := string(AppendFloat(nil, f))
		back, err := strconv.ParseFloat(text, 64)
		if err != nil || math.Float64bits(back) != math.Float64bits(f) {
			t.Fatalf("%v shows as %s, which reads back as %v (%v)", f, text, back, err)
		}
		if !strings.ContainsAny(text, ".e") {
			t.Fatalf("%v shows as %s, without '.' or exponent", f, text)
		}
		if got, want := sigDigits(text), sigDigits(strconv.FormatFloat(f, 'e', -1, 64)); got != want {
			t.Fatalf("%v shows as %s with %d significant digits, shortest has %d", f, text, got, want)
		}
	}
}

func sigDigits(s string) int {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(s), "0")
	s = strings.TrimRight(s, "0")
	return max(len(s), 1)
}

func TestDiff(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{`[1,2]`, `[1,2]`, ""},
		{`3`, `3.0`, ""},
		{`9007199254740992`, `9007199254740992.0`, ""},
		{`9007199254740993`, `9007199254740992.0`, "$: 9007199254740993 != 9007199254740992.0"},
		{`18446744073709551615`, `1.8446744073709552e19`, "$: 18446744073709551615 != 1.8446744073709552e19"},
		{`0.1`, `1e-1`, ""},
		{`0.30000000000000004`, `0.3`, "$: 0.30000000000000004 != 0.3"},
		{`"caf\u00e9"`, "\"caf\u00e9\"", ""},
		{`{"a":1,"b":[1,{"c":"x"}]}`, `{"b":[1,{"c":"y"}],"a":1}`, `$.b[1].c: "x" != "y"`},
		{`{"a":1}`, `{"a":1,"b":2}`, `$: key "b" only in the second`},
		{`{"a":1,"b":2}`, `{"b":2}`, `$: key "a" only in the first`},
		{`[1,2]`, `[1]`, "$: array of 2 elements != array of 1 elements"},
		{`{"k":40001}`, `{"k":"40001"}`, `$.k: 40001 != "40001" (number vs string)`},
		{`{"odd key":true}`, `{"odd key":false}`, `$["odd key"]: true != false`},
		{`[null]`, `[{"$cycle":true}]`, `$[0]: null != {"$cycle"} (null vs object)`},
		{`{"$cycle":true}`, `{"$cycle":true}`, ""},
	}
	for _, tt := range tests {
		got, err := Diff([]byte(tt.a), []byte(tt.b))
		if err != nil {
			t.Errorf("Diff(%s, %s): %v", tt.a, tt.b, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Diff(%s, %s) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
		eq, _ := Equal([]byte(tt.a), []byte(tt.b))
		if eq != (tt.want == "") {
			t.Errorf("Equal(%s, %s) = %v", tt.a, tt.b, eq)
		}
	}
	if _, err := Diff([]byte(`[`), []byte(`1`)); err == nil || !strings.Contains(err.Error(), "first text") {
		t.Errorf("Diff of bad first text: %v", err)
	}
	if _, err := Equal([]byte(`1`), []byte(`x`)); err == nil || !strings.Contains(err.Error(), "second text") {
		t.Errorf("Equal of bad second text: %v", err)
	}
}

func TestEncoderDecoder(t *testing.T) {
	values := []perl.Value{perl.NewArray(perl.Int(1)), perl.Bytes("x"), perl.Int(7), perl.Float(2.5), perl.Bool(true), perl.Undef{}, hashOf("k", perl.String("\u263a"))}
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(buf.String(), "\n"); n != len(values) {
		t.Fatalf("%d lines for %d values: %q", n, len(values), buf.String())
	}
	// Values need no newline between them when they delimit themselves.
	stream := buf.String() + `[2]{"a":1}"s"3 4 true`
	dec := NewDecoder(iotest.OneByteReader(strings.NewReader(stream)))
	want := append(values, perl.NewArray(perl.Int(2)), hashOf("a", perl.Int(1)), perl.Bytes("s"), perl.Int(3), perl.Int(4), perl.Bool(true))
	for i, w := range want {
		got, err := dec.Decode()
		if err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		if d := perl.Diff(w, got); d != "" {
			t.Errorf("value %d: %s", i, d)
		}
	}
	if _, err := dec.Decode(); err != io.EOF {
		t.Errorf("after the last value: %v, want io.EOF", err)
	}
}

func TestDecoderErrors(t *testing.T) {
	dec := NewDecoder(strings.NewReader("[1]\n[1,}"))
	if _, err := dec.Decode(); err != nil {
		t.Fatal(err)
	}
	_, err := dec.Decode()
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 7 {
		t.Errorf("error %v, want a *SyntaxError at stream offset 7", err)
	}
	if _, err := NewDecoder(strings.NewReader(`[1, 2`)).Decode(); err != io.ErrUnexpectedEOF {
		t.Errorf("cut value: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := NewDecoder(strings.NewReader(`"abc`)).Decode(); err != io.ErrUnexpectedEOF {
		t.Errorf("cut string: %v, want io.ErrUnexpectedEOF", err)
	}
	deep := strings.Repeat("[", 5)
	if _, err := (DecOptions{MaxDepth: 3}).NewDecoder(strings.NewReader(deep)).Decode(); !errors.As(err, &se) {
		t.Errorf("deep stream: %v, want a *SyntaxError", err)
	}
}
