package sereal

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/goimp/imprpc/perl"
)

func mustMode(t testing.TB, o EncOptions) EncMode {
	t.Helper()
	m, err := o.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEncodeBytes checks the bytes of values whose form the corpus of
// Perl documents does not pin down; the expected bytes are what Perl's
// Sereal::Encoder 5.003 writes for the same Perl value.
func TestEncodeBytes(t *testing.T) {
	p5 := EncOptions{Protocol: 5}
	weakShared := perl.NewHash(1)
	weakShared.Set("a", perl.Int(1))
	blessedElem := &perl.Scalar{Class: "S", Value: perl.Bytes("x")}
	for _, c := range []struct {
		name string
		opts EncOptions
		v    perl.Value
		want string // hex of the body
	}{
		// Perl: [!!1, !!0] (protocol 5), \!!1, \undef, undef
		{"bools", p5, perl.ArrayRef(perl.Bool(true), perl.Bool(false)), "423534"},
		{"ref to true", p5, perl.ScalarRef(perl.Bool(true)), "283b"},
		{"ref to undef", p5, perl.ScalarRef(perl.Undef{Of: perl.UndefImmortal}), "2839"},
		{"undef", p5, perl.Undef{}, "25"},
		// Protocol 3 keeps booleans with TRUE and FALSE (Perl writes 1
		// and "" there, which reads back as numbers and strings).
		{"bools v3", EncOptions{}, perl.ArrayRef(perl.Bool(true), perl.Bool(false)), "423b3a"},
		{"immortal undef v2", EncOptions{Protocol: 2}, perl.ArrayRef(perl.Undef{Of: perl.UndefImmortal}), "4125"},
		// Perl: my $h = {a => 1}; my $a = [$h, $h]; weaken($a->[0]);
		// weaken($a->[1]): the last WEAKEN becomes PAD.
		{"all references weak", p5, perl.ArrayRef(perl.Ref{To: weakShared, Weak: true}, perl.Ref{To: weakShared, Weak: true}), "423028aa016161013f2904"},
		// A blessed scalar that is an element before it is referenced.
		{"blessed element", p5, perl.ArrayRef(blessedElem, perl.Ref{To: blessedElem}), "42e1782c61532902"},
		// The root as an array: written as a reference to it, as Perl
		// cannot hold an array as a document's root.
		{"root array", p5, perl.NewArray(perl.Int(1)), "4101"},
		{"canonical refs", EncOptions{CanonicalRefs: true}, perl.ArrayRef(hashRef("k", perl.Int(1))), "282b01282a01616b01"},
		{"no shared hash keys", EncOptions{NoSharedHashKeys: true}, perl.ArrayRef(hashRef("k", perl.Int(1)), hashRef("k", perl.Int(2))), "4251616b0151616b02"},
		{"shared hash keys", EncOptions{}, perl.ArrayRef(hashRef("k", perl.Int(1)), hashRef("k", perl.Int(2))), "4251616b01512f0302"},
		{"dedupe", EncOptions{DedupeStrings: true}, perl.ArrayRef(perl.Bytes("abcd"), perl.Bytes("abcd"), perl.Bytes("abc"), perl.Bytes("abc")), "4464616263642f02" + "63616263" + "63616263"},
		{"aliased dedupe", EncOptions{AliasedDedupeStrings: true}, perl.ArrayRef(perl.Bytes("abcd"), perl.ScalarRef(perl.Bytes("abcd")), perl.Bytes("abcd")), "43e461626364286461626364" + "2e02"},
		{"regexp modifiers in Perl's order", p5, perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: "x", Flags: "uixm"}}, "2c6652656765787028316178636d6978"},
		{"v-string", p5, perl.VString{Literal: "v1.2", Value: perl.Bytes("\x01\x02")}, "620102"},
		{"uint", p5, perl.Uint(1<<64 - 1), "20ffffffffffffffffff01"},
		{"float", p5, perl.Float(0.25), "220000803e"},
		{"double", p5, perl.Float(0.1), "239a9999999999b93f"},
		{"frozen object", EncOptions{Protocol: 5, FreezeCallbacks: true}, perl.Ref{To: &perl.Array{Class: thawArgsClass, Elems: []perl.Value{perl.Int(1), perl.Bytes("Fz")}}}, "3262467a282b0101"},
		{"frozen object's data", p5, perl.Ref{To: &perl.Array{Class: thawArgsClass, Elems: []perl.Value{perl.Int(1), perl.Bytes("Fz")}}},
			"2c7a" + hex.EncodeToString([]byte(thawArgsClass)) + "420162467a"},
		{"sort keys fast", EncOptions{SortKeys: SortKeysFast}, hashRef("bb", perl.Int(1), "a", perl.Int(2), "é", perl.Int(3)), "5361610227" + "02c3a90362626201"},
		{"sort keys reverse", EncOptions{SortKeys: SortKeysPerlReverse}, hashRef("a", perl.Int(1), "b", perl.Int(2)), "52616202616101"},
	} {
		doc, err := mustMode(t, c.opts).MarshalValue(c.v)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		body := hex.EncodeToString(doc[6:])
		if body != c.want {
			t.Errorf("%s: body %s, want %s", c.name, body, c.want)
		}
		if _, err := UnmarshalValue(doc); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestEncodeHeader(t *testing.T) {
	for p, want := range map[int]string{1: "3d73726c0100", 2: "3d73726c0200", 3: "3df3726c0300", 4: "3df3726c0400", 5: "3df3726c0500"} {
		doc, err := mustMode(t, EncOptions{Protocol: p}).MarshalValue(perl.Int(1))
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(doc); got != want+"01" {
			t.Errorf("protocol %d: %s", p, got)
		}
	}
	if got := mustMode(t, EncOptions{}).EncOptions().Protocol; got != DefaultProtocol {
		t.Errorf("default protocol %d", got)
	}
	if got := mustMode(t, EncOptions{Compression: Zstd}).EncOptions().Protocol; got != 4 {
		t.Errorf("default protocol with zstd %d", got)
	}
}

func TestEncOptionsErrors(t *testing.T) {
	for _, o := range []EncOptions{
		{Protocol: 6},
		{Protocol: -1},
		{Compression: 9},
		{SortKeys: 9},
		{Protocol: 2, Compression: Zlib},
		{Protocol: 3, Compression: Zstd},
		{Compression: Zlib, CompressLevel: 10},
		{Compression: Zstd, CompressLevel: 23},
		{MaxDepth: -1},
	} {
		if _, err := o.EncMode(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	deep := perl.Value(perl.Int(1))
	for range 20 {
		deep = perl.ArrayRef(deep)
	}
	shallow := mustMode(t, EncOptions{MaxDepth: 10})
	for _, c := range []struct {
		name string
		mode EncMode
		v    perl.Value
	}{
		{"nil", nil, nil},
		{"nil referent", nil, perl.Ref{}},
		{"nil array", nil, perl.Ref{To: (*perl.Array)(nil)}},
		{"nil element", nil, perl.ArrayRef(nil)},
		{"hook", nil, perl.Ref{To: &perl.Hook{Class: "H"}}},
		{"regexp /n", nil, perl.Ref{To: &perl.Regexp{Pattern: "x", Flags: "n"}}},
		{"regexp /g", nil, perl.Ref{To: &perl.Regexp{Pattern: "x", Flags: "g"}}},
		{"v-string of a v-string", nil, perl.VString{Value: perl.VString{}}},
		{"too deep", shallow, deep},
	} {
		m := c.mode
		if m == nil {
			m = defaultEncMode
		}
		dst := []byte("keep")
		out, err := m.AppendValue(dst, c.v)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if string(out) != "keep" {
			t.Errorf("%s: dst became %q", c.name, out)
		}
		var ue *UnsupportedValueError
		var le *LimitError
		if !errors.As(err, &ue) && !errors.As(err, &le) || !strings.HasPrefix(err.Error(), "sereal: ") {
			t.Errorf("%s: %T %v", c.name, err, err)
		}
	}
}

// TestEncodeIdentity checks shared referents, cycles and weak references
// round trip.
func TestEncodeIdentity(t *testing.T) {
	cyc := perl.NewArray()
	cyc.Elems = []perl.Value{perl.Ref{To: cyc}, perl.Int(1)}
	sh := perl.NewHash(1)
	sh.Set("k", perl.Bytes("v"))
	s := &perl.Scalar{Value: perl.Int(5)}
	self := &perl.Scalar{}
	self.Value = perl.Ref{To: self}
	weakTarget := perl.NewArray(perl.Int(3))
	for name, v := range map[string]perl.Value{
		"cycle":         perl.Ref{To: cyc},
		"shared hash":   perl.ArrayRef(perl.Ref{To: sh}, perl.Ref{To: sh}),
		"shared scalar": perl.ArrayRef(perl.Ref{To: s}, perl.Ref{To: s}, s),
		"self root":     self,
		"weak":          perl.ArrayRef(perl.Ref{To: weakTarget}, perl.Ref{To: weakTarget, Weak: true}),
		"weak first":    perl.ArrayRef(perl.Ref{To: weakTarget, Weak: true}, perl.Ref{To: weakTarget}),
		"ref to ref":    perl.ScalarRef(perl.ScalarRef(perl.Bytes("a"))),
		"blessed": perl.ArrayRef(blessed("A", perl.ArrayRef()), blessed("A", hashRef()),
			perl.Ref{To: &perl.Regexp{Class: "R", Pattern: "é", UTF8: true, Flags: "ui"}}),
	} {
		for p := 1; p <= 5; p++ {
			doc, err := mustMode(t, EncOptions{Protocol: p}).MarshalValue(v)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := UnmarshalValue(doc)
			if err != nil {
				t.Fatalf("%s: %x: %v", name, doc, err)
			}
			if d := perl.Diff(got, v); d != "" {
				t.Errorf("%s protocol %d: %x: %s", name, p, doc, d)
			}
		}
	}
}

// TestEncodeCompressed checks that compressed documents decode, that small
// bodies stay raw, and that incompressible ones are not compressed.
func TestEncodeCompressed(t *testing.T) {
	big := perl.ArrayRef(perl.Bytes(strings.Repeat("compressible ", 200)), perl.Int(7))
	for _, c := range []Compression{Snappy, Zlib, Zstd} {
		for _, level := range []int{0, 1} {
			m := mustMode(t, EncOptions{Compression: c, CompressLevel: level})
			doc, err := m.MarshalValue(big)
			if err != nil {
				t.Fatal(err)
			}
			if doc[4]>>4 == docRaw || len(doc) > 1000 {
				t.Errorf("compression %d: document type %d, %d bytes", c, doc[4]>>4, len(doc))
			}
			got, err := UnmarshalValue(doc)
			if err != nil {
				t.Fatalf("compression %d: %v", c, err)
			}
			if d := perl.Diff(got, big); d != "" {
				t.Fatal(d)
			}
			small, err := m.MarshalValue(perl.Int(1))
			if err != nil || small[4]>>4 != docRaw {
				t.Errorf("compression %d: small body compressed: %x %v", c, small, err)
			}
		}
	}
}

// TestAppendNoAllocs checks that the hot path, an RPC document [op,
// args...] appended to a buffer with room, allocates nothing.
func TestAppendNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop encoders: allocations are not counted under it")
	}
	m := mustMode(t, EncOptions{Protocol: 5})
	data := perl.Bytes(make([]byte, 1024))
	args := []perl.Value{perl.Int(0x4005), perl.Int(17), perl.Int(0), perl.Int(123456), perl.Int(-1), data}
	var rpc perl.Value = perl.ArrayRef(args...) // boxed once, as a caller holding a perl.Value
	buf := make([]byte, 0, 4096)
	if _, err := m.AppendArrayRef(buf, args...); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := m.AppendArrayRef(buf, args...); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("AppendArrayRef: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := m.AppendValue(buf, rpc); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("AppendValue: %v allocations", n)
	}
	a, _ := m.AppendArrayRef(nil, args...)
	b, _ := m.AppendValue(nil, rpc)
	if string(a) != string(b) {
		t.Errorf("AppendArrayRef %x != AppendValue %x", a, b)
	}
}

func TestPerlEncOptions(t *testing.T) {
	o, err := PerlEncOptions(map[string]int{"compress": 2, "compress_threshold": 0, "canonical": 1, "sort_keys": 2})
	if err != nil {
		t.Fatal(err)
	}
	want := EncOptions{Protocol: 5, Compression: Zlib, CompressThreshold: 1, SortKeys: SortKeysPerl, CanonicalRefs: true}
	if o != want {
		t.Errorf("got %+v, want %+v", o, want)
	}
	for _, bad := range []map[string]int{{"croak_on_bless": 1}, {"compress": 7}} {
		if _, err := PerlEncOptions(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
