package perl

import (
	"math"
	"strings"
	"testing"
)

func cyclicArray() *Array {
	a := &Array{}
	a.Elems = []Value{Int(1), Ref{To: a}}
	return a
}

func TestEqual(t *testing.T) {
	shared := ArrayRef(Int(1))
	sharedB := ArrayRef(Int(1))
	tests := []struct {
		name string
		a, b Value
		diff string // "" = equal; else a part of the expected Diff
	}{
		{"same int", Int(1), Int(1), ""},
		{"int vs float", Int(1), Float(1), "$: int 1 != float 1"},
		{"int vs bytes", Int(1), Bytes("1"), "int 1 != bytes \"1\""},
		{"int vs uint", Int(5), Uint(5), "int 5 != uint 5"},
		{"bytes vs string", Bytes("abc"), String("abc"), `bytes "abc" != string "abc"`},
		{"nil bytes equals empty", Bytes(nil), Bytes{}, ""},
		{"undef kinds differ", Undef{}, Undef{Of: UndefImmortal}, "undef != immortal undef"},
		{"bools", Bool(true), Bool(false), "bool true != bool false"},
		{"nan equals nan", Float(math.NaN()), Float(math.NaN()), ""},
		{"signed zeros differ", Float(0), Float(math.Copysign(0, -1)), "float 0 != float -0"},
		{"v-string literal", VString{Literal: "v1", Value: Bytes("\x01")}, VString{Literal: "v1.0", Value: Bytes("\x01")}, "v-string"},
		{"nested path", NewArray(Int(0), HashRef(hashKV("meta", HashRef(hashKV("cport", Int(40001)))))),
			NewArray(Int(0), HashRef(hashKV("meta", HashRef(hashKV("cport", Bytes("40001")))))), `$[1].meta.cport: int 40001 != bytes "40001"`},
		{"hash order does not matter", HashRef(hashKV("a", Int(1), "b", Int(2))), HashRef(hashKV("b", Int(2), "a", Int(1))), ""},
		{"latin-1 key equals utf-8 key", HashRef(&Hash{Entries: []HashEntry{{Key: "\xe9", Value: Int(1)}}}),
			HashRef(&Hash{Entries: []HashEntry{{Key: "é", UTF8: true, Flags: KeyWasUTF8, Value: Int(1)}}}), ""},
		{"missing key", HashRef(hashKV("a", Int(1))), HashRef(hashKV("b", Int(1))), "$.a: key only in the first hash"},
		{"hash sizes", HashRef(hashKV("a", Int(1))), HashRef(hashKV("a", Int(1), "b", Int(2))), "hash of 1 keys != hash of 2 keys"},
		{"locked key", HashRef(&Hash{Entries: []HashEntry{{Key: "a", Flags: KeyLocked, Value: Int(1)}}}),
			HashRef(&Hash{Entries: []HashEntry{{Key: "a", Value: Int(1)}}}), "key flags"},
		{"restricted", &Hash{Restricted: true}, &Hash{}, "restricted hash"},
		{"array lengths", NewArray(Int(1)), NewArray(Int(1), Int(2)), "array of 1 elements != array of 2 elements"},
		{"class", &Array{Class: "A"}, &Array{Class: "B"}, `blessed into "A" != "B"`},
		{"scalar ref", ScalarRef(Int(1)), ScalarRef(Int(2)), "$.$ref: int 1 != int 2"},
		{"weak ref", Ref{To: &Array{}, Weak: true}, Ref{To: &Array{}}, "weak=true"},
		{"regexp flags", Ref{To: &Regexp{Pattern: "x", Flags: "i"}}, Ref{To: &Regexp{Pattern: "x"}}, "regexp qr/x/i != regexp qr/x/"},
		{"hook", &Hook{Class: "H", Frozen: Bytes("a"), Refs: []Value{ArrayRef()}}, &Hook{Class: "H", Frozen: Bytes("a"), Refs: []Value{ArrayRef(Int(1))}}, "$.refs[0]"},
		{"hook frozen", &Hook{Class: "H", Frozen: Bytes("a")}, &Hook{Class: "H", Frozen: Bytes("b")}, "hook object"},
		{"element scalar vs plain", NewArray(&Scalar{Value: Int(1)}), NewArray(Int(1)), "scalar holding int 1 != int 1"},
		{"cycles equal", cyclicArray(), cyclicArray(), ""},
		{"cycle vs copy", cyclicArray(), NewArray(Int(1), ArrayRef(Int(1), ArrayRef())), "shared"},
		{"shared vs shared", NewArray(shared, shared), NewArray(sharedB, sharedB), ""},
		{"shared vs copies", NewArray(shared, shared), NewArray(ArrayRef(Int(1)), ArrayRef(Int(1))), "$[1]: the first value is shared here"},
		{"copies vs shared", NewArray(ArrayRef(Int(1)), ArrayRef(Int(1))), NewArray(shared, shared), "$[1]: the second value is shared here"},
		{"nil values", nil, nil, ""},
		{"nil vs undef", nil, Undef{}, "nil != undef"},
		{"nil referents", Ref{To: (*Array)(nil)}, Ref{To: (*Array)(nil)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diff(tt.a, tt.b)
			if tt.diff == "" {
				if d != "" {
					t.Errorf("Diff = %q, want equal", d)
				}
			} else if !strings.Contains(d, tt.diff) {
				t.Errorf("Diff = %q, want it to contain %q", d, tt.diff)
			}
			if Equal(tt.a, tt.b) != (tt.diff == "") {
				t.Errorf("Equal = %v", !(tt.diff == ""))
			}
			if rev := Diff(tt.b, tt.a); (rev == "") != (d == "") {
				t.Errorf("Diff is not symmetric: %q vs %q", d, rev)
			}
		})
	}
}

func hashKV(kv ...any) *Hash {
	h := NewHash(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i].(string), kv[i+1].(Value))
	}
	return h
}

func TestBless(t *testing.T) {
	for _, r := range []Referent{&Array{}, &Hash{}, &Scalar{}, &Regexp{}, &Hook{}} {
		Bless(r, "Pkg")
		if r.Blessed() != "Pkg" {
			t.Errorf("Bless(%s) left class %q", r.Kind(), r.Blessed())
		}
	}
}

func TestDescribe(t *testing.T) {
	self := &Scalar{}
	self.Value = Ref{To: self} // $x = \$x
	tests := []struct {
		v    Value
		want string
	}{
		{nil, "nil"},
		{Undef{Of: UndefHole}, "nonexistent element"},
		{Uint(math.MaxUint64), "uint 18446744073709551615"},
		{Bytes(strings.Repeat("x", 50)), `bytes "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"... (50 bytes)`},
		{&Hash{Class: "Foo", Entries: make([]HashEntry, 2)}, `hash of 2 keys blessed into "Foo"`},
		{ScalarRef(Int(1)), "reference to scalar holding int 1"},
		{(*Array)(nil), "nil array"},
		{self, "scalar holding reference to scalar holding reference to scalar holding ..."},
	}
	for _, tt := range tests {
		if got := Describe(tt.v); got != tt.want {
			t.Errorf("Describe(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
