package perl

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

type point struct {
	X, Y int
}

type tagged struct {
	Name    string  `storable:"name"`
	Port    uint16  `storable:"port,omitempty"`
	Skip    string  `storable:"-"`
	Dash    int     `storable:"-,"`
	Ratio   float64 `storable:",omitempty"`
	When    time.Time
	Zero    point `storable:"zero,omitzero"`
	private int
}

type Inner struct {
	A int
	B int `storable:"b"`
}

// Coord is embedded by pointer.
type Coord struct {
	X, Y int
}

type outer struct {
	Inner
	*Coord
	B string // shallower than Inner.B: wins
	C int
}

type node struct {
	Name string
	Next *node
}

// upper is a Marshaler with a value receiver.
type upper string

func (u upper) MarshalPerl() (Value, error) { return Bytes(strings.ToUpper(string(u))), nil }

func (u *upper) UnmarshalPerl(v Value) error {
	b, ok := v.(Bytes)
	if !ok {
		return errors.New("want bytes")
	}
	*u = upper(strings.ToLower(string(b)))
	return nil
}

// pair is a Marshaler with a pointer receiver.
type pair struct{ a, b int }

func (p *pair) MarshalPerl() (Value, error) { return ArrayRef(Int(p.a), Int(p.b)), nil }

type failing struct{}

func (failing) MarshalPerl() (Value, error) { return nil, errors.New("no way") }

var storableOpts = GoOptions{TagKey: "storable"}

func mustFromGo(t *testing.T, x any, opts GoOptions) Value {
	t.Helper()
	v, err := FromGo(x, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFromGo(t *testing.T) {
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name string
		x    any
		opts GoOptions
		want Value
	}{
		{"nil", nil, GoOptions{}, Undef{}},
		{"bool", true, GoOptions{}, Bool(true)},
		{"int8", int8(-5), GoOptions{}, Int(-5)},
		{"int16", int16(300), GoOptions{}, Int(300)},
		{"uint8", uint8(200), GoOptions{}, Int(200)},
		{"uint64 small", uint64(7), GoOptions{}, Int(7)},
		{"uint64 max", uint64(math.MaxUint64), GoOptions{}, Uint(math.MaxUint64)},
		{"uintptr", uintptr(9), GoOptions{}, Int(9)},
		{"float32", float32(0.5), GoOptions{}, Float(0.5)},
		{"named int", time.Duration(3), GoOptions{}, Int(3)},
		{"ascii string", "abc", GoOptions{}, Bytes("abc")},
		{"utf-8 string", "caf\u00e9", GoOptions{}, String("caf\u00e9")},
		{"invalid utf-8 string", "caf\xe9", GoOptions{}, Bytes("caf\xe9")},
		{"bytes", []byte{0, 0xff}, GoOptions{}, Bytes{0, 0xff}},
		{"nil bytes", []byte(nil), GoOptions{}, Bytes{}},
		{"byte array", [3]byte{1, 2, 3}, GoOptions{}, Bytes{1, 2, 3}},
		{"slice at the root", []int{1, 2}, GoOptions{}, NewArray(Int(1), Int(2))},
		{"nested slice is a ref", [][]string{{"a"}, nil}, GoOptions{}, NewArray(ArrayRef(Bytes("a")), Undef{})},
		{"any slice", []any{1, "x", nil, 2.5, []byte("b"), uint64(math.MaxUint64)}, GoOptions{}, NewArray(Int(1), Bytes("x"), Undef{}, Float(2.5), Bytes("b"), Uint(math.MaxUint64))},
		{"any slice with a map", []any{1, map[string]any{"k": true}}, GoOptions{}, NewArray(Int(1), HashRef(hashKV("k", Bool(true))))},
		{"map sorted", map[string]int{"b": 2, "a": 1, "\u263a": 3}, GoOptions{}, &Hash{Entries: []HashEntry{
			{Key: "a", Value: Int(1)}, {Key: "b", Value: Int(2)}, {Key: "\u263a", UTF8: true, Value: Int(3)}}}},
		{"map int keys", map[int]bool{10: true, -1: false}, GoOptions{}, hashKV("-1", Bool(false), "10", Bool(true))},
		{"nil map in a struct", struct{ M map[string]int }{}, GoOptions{}, hashKV("M", Undef{})},
		{"struct with tags", tagged{Name: "n", Skip: "s", Dash: 4, When: when, private: 1}, storableOpts,
			hashKV("name", Bytes("n"), "-", Int(4), "When", Bytes("2024-05-06T07:08:09Z"))},
		{"struct tags filled", tagged{Name: "n", Port: 80, Ratio: 0.5, Zero: point{1, 0}}, storableOpts,
			hashKV("name", Bytes("n"), "port", Int(80), "-", Int(0), "Ratio", Float(0.5), "When", Bytes("0001-01-01T00:00:00Z"), "zero", HashRef(hashKV("X", Int(1), "Y", Int(0))))},
		{"other tag key ignored", tagged{Name: "n"}, GoOptions{TagKey: "sereal"},
			hashKV("Name", Bytes("n"), "Port", Int(0), "Skip", Bytes(""), "Dash", Int(0), "Ratio", Float(0), "When", Bytes("0001-01-01T00:00:00Z"), "Zero", HashRef(hashKV("X", Int(0), "Y", Int(0))))},
		{"embedded", outer{Inner: Inner{A: 1, B: 2}, Coord: &Coord{X: 3, Y: 4}, B: "b", C: 5}, storableOpts,
			hashKV("A", Int(1), "b", Int(2), "X", Int(3), "Y", Int(4), "B", Bytes("b"), "C", Int(5))},
		{"embedded nil pointer", outer{C: 1}, storableOpts, hashKV("A", Int(0), "b", Int(0), "B", Bytes(""), "C", Int(1))},
		{"nil pointer", (*point)(nil), GoOptions{}, Undef{}},
		{"pointer to struct", &point{1, 2}, GoOptions{}, hashKV("X", Int(1), "Y", Int(2))},
		{"pointer to int", func() any { i := 5; return &i }(), GoOptions{}, Int(5)},
		{"interface field", struct{ V any }{V: []int{1}}, GoOptions{}, hashKV("V", ArrayRef(Int(1)))},
		{"marshaler", upper("abc"), GoOptions{}, Bytes("ABC")},
		{"pointer marshaler in a slice", []pair{{1, 2}}, GoOptions{}, NewArray(ArrayRef(Int(1), Int(2)))},
		{"marshaler at the root gives the referent", &pair{1, 2}, GoOptions{}, NewArray(Int(1), Int(2))},
		{"perl value unchanged", ScalarRef(Int(1)), GoOptions{}, ScalarRef(Int(1))},
		{"perl value unchanged at the root", NewArray(), GoOptions{}, NewArray()},
		{"perl referent in a field becomes a ref", struct{ A *Array }{NewArray(Int(1))}, GoOptions{}, hashKV("A", ArrayRef(Int(1)))},
		{"perl value fields", struct {
			V Value
			B Bytes
			S String
		}{Float(1), Bytes("x"), String("\u263a")}, GoOptions{}, hashKV("V", Float(1), "B", Bytes("x"), "S", String("\u263a"))},
		{"text marshaler", when, GoOptions{}, Bytes("2024-05-06T07:08:09Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustFromGo(t, tt.x, tt.opts)
			if d := Diff(tt.want, got); d != "" {
				t.Error(d)
			}
		})
	}
}

func TestFromGoIdentity(t *testing.T) {
	p := &point{1, 2}
	m := map[string]int{"a": 1}
	s := []int{7, 8}
	v := mustFromGo(t, []any{p, p, m, m, s, s, &point{1, 2}}, GoOptions{})
	a := v.(*Array)
	ref := func(i int) Referent { return a.Elems[i].(Ref).To }
	if ref(0) != ref(1) || ref(2) != ref(3) || ref(4) != ref(5) {
		t.Error("shared pointer, map or slice gave separate referents")
	}
	if ref(0) == ref(6) {
		t.Error("distinct pointers gave one referent")
	}

	// Many shared pointers (more than the walk keeps without a map).
	var many []*point
	for i := range 20 {
		many = append(many, &point{X: i})
	}
	all := mustFromGo(t, [][]*point{many, many[:10], many[10:]}, GoOptions{}).(*Array)
	first := all.Elems[0].(Ref).To.(*Array).Elems
	for i, half := range []*Array{all.Elems[1].(Ref).To.(*Array), all.Elems[2].(Ref).To.(*Array)} {
		for j, el := range half.Elems {
			if el.(Ref).To != first[i*10+j].(Ref).To {
				t.Errorf("pointer %d gave two referents", i*10+j)
			}
		}
	}

	// A cycle through pointers stays a cycle.
	n := &node{Name: "a"}
	n.Next = &node{Name: "b", Next: n}
	h := mustFromGo(t, n, GoOptions{}).(*Hash)
	next, _ := h.Get("Next")
	back, _ := next.(Ref).To.(*Hash).Get("Next")
	if back.(Ref).To != h {
		t.Error("cycle through pointers was not kept")
	}

	// A slice that holds itself.
	self := make([]any, 1)
	self[0] = self
	arr := mustFromGo(t, self, GoOptions{}).(*Array)
	if arr.Elems[0].(Ref).To != arr {
		t.Error("slice holding itself is not a cycle")
	}
}

func TestFromGoErrors(t *testing.T) {
	type withChan struct {
		List []any
	}
	_, err := FromGo(withChan{List: []any{1, make(chan int)}}, GoOptions{})
	var ue *UnsupportedTypeError
	if !errors.As(err, &ue) || ue.Path != "$.List[1]" || ue.GoType != reflect.TypeFor[chan int]() {
		t.Errorf("channel: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "perl: $.List[1]: unsupported Go type chan int") {
		t.Errorf("message %q", err)
	}
	_, err = FromGo(map[string]any{"k": failing{}}, GoOptions{})
	var me *MarshalerError
	if !errors.As(err, &me) || me.Path != "$.k" || me.Err.Error() != "no way" || errors.Unwrap(err) != me.Err {
		t.Errorf("marshaler error: %v", err)
	}
	_, err = FromGo(map[[2]int]int{{1, 2}: 3}, GoOptions{})
	if !errors.As(err, &ue) {
		t.Errorf("array map key: %v", err)
	}
	_, err = FromGo(complex(1, 2), GoOptions{})
	if !errors.As(err, &ue) {
		t.Errorf("complex: %v", err)
	}
	var loop any
	loop = &loop
	_, err = FromGo(loop, GoOptions{MaxDepth: 50})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "nested more than 50 levels") {
		t.Errorf("pointer loop: %v", err)
	}
}

func TestToGoScalars(t *testing.T) {
	var (
		i8   int8
		u16  uint16
		i64  int64
		u64  uint64
		f32  float32
		f64  float64
		b    bool
		s    string
		bs   []byte
		arr  [4]byte
		dur  time.Duration
		pstr *string
		pint *int
	)
	tests := []struct {
		v    Value
		dst  any
		want any
	}{
		{Int(-128), &i8, int8(-128)},
		{Bytes("-7"), &i8, int8(-7)},
		{Float(3), &i8, int8(3)},
		{Bool(true), &i8, int8(1)},
		{Int(65535), &u16, uint16(65535)},
		{String("42"), &u16, uint16(42)},
		{Uint(math.MaxUint64), &u64, uint64(math.MaxUint64)},
		{Bytes("18446744073709551615"), &u64, uint64(math.MaxUint64)},
		{Bytes("-9223372036854775808"), &i64, int64(math.MinInt64)},
		{Float(-9.223372036854776e18), &i64, int64(math.MinInt64)},
		{Undef{}, &i64, int64(0)},
		{Float(0.5), &f32, float32(0.5)},
		{Int(3), &f64, 3.0},
		{Bytes("0.1"), &f64, 0.1},
		{Bytes("9.00719925474099e+15"), &f64, 9.00719925474099e+15},
		{Float(math.Inf(1)), &f32, float32(math.Inf(1))},
		{Bytes("0"), &b, false},
		{Bytes("0.0"), &b, true},
		{Bytes(""), &b, false},
		{Int(2), &b, true},
		{ArrayRef(), &b, true},
		{Bytes("caf\xe9"), &s, "caf\xe9"},
		{String("caf\u00e9"), &s, "caf\u00e9"},
		{Int(40001), &s, "40001"},
		{Float(1.0 / 3), &s, "0.333333333333333"},
		{Bool(false), &s, ""},
		{VString{Literal: "v1.2", Value: Bytes("\x01\x02")}, &s, "\x01\x02"},
		{Bytes("raw"), &bs, []byte("raw")},
		{Undef{}, &bs, []byte(nil)},
		{Bytes("ab"), &arr, [4]byte{'a', 'b'}},
		{Int(5), &dur, time.Duration(5)},
		{Bytes("x"), &pstr, func() *string { x := "x"; return &x }()},
		{ScalarRef(Int(3)), &pint, func() *int { x := 3; return &x }()},
		{Undef{}, &pint, (*int)(nil)},
	}
	for _, tt := range tests {
		if err := ToGo(tt.v, tt.dst, GoOptions{}); err != nil {
			t.Errorf("ToGo(%s) into %T: %v", Describe(tt.v), tt.dst, err)
			continue
		}
		if got := reflect.ValueOf(tt.dst).Elem().Interface(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ToGo(%s) into %T = %#v, want %#v", Describe(tt.v), tt.dst, got, tt.want)
		}
	}
}

func TestToGoErrors(t *testing.T) {
	var (
		u8  uint8
		i32 int32
		u32 uint32
		f32 float32
		s   string
		pts []point
		m   map[int]string
		arr [1]int
		ref Ref
		ap  *Array
	)
	tests := []struct {
		v      Value
		dst    any
		goType string
		kind   Kind
		path   string
		msg    string
	}{
		{Int(300), &u8, "uint8", KindInt, "$", "int 300 overflows"},
		{Int(-1), &u32, "uint32", KindInt, "$", "int -1 overflows"},
		{Uint(math.MaxUint64), &i32, "int32", KindUint, "$", "overflows"},
		{Bytes("4294967296"), &u32, "uint32", KindBytes, "$", "overflows"},
		{Bytes("99999999999999999999"), &u32, "uint32", KindBytes, "$", "overflows"},
		{Bytes("-99999999999999999999"), &i32, "int32", KindBytes, "$", "overflows"},
		{Bytes("12abc"), &i32, "int32", KindBytes, "$", `cannot store bytes "12abc"`},
		{Float(0.5), &i32, "int32", KindFloat, "$", "cannot store float 0.5"},
		{Float(1e300), &f32, "float32", KindFloat, "$", "overflows"},
		{ArrayRef(), &s, "string", KindRef, "$", "cannot store reference to array"},
		{NewArray(HashRef(hashKV("X", Bytes("x")))), &pts, "int", KindBytes, "$[0].X", `cannot store bytes "x"`},
		{HashRef(hashKV("nan", Bytes("v"))), &m, "int", KindBytes, "$.nan", `cannot use key "nan" as a map key`},
		{NewArray(Int(1), Int(2)), &arr, "[1]int", KindArray, "$", "2 elements do not fit"},
		{Int(1), &ref, "perl.Ref", KindInt, "$", "cannot store int 1"},
		{HashRef(NewHash(0)), &ap, "*perl.Array", KindRef, "$", "cannot store reference to hash"},
	}
	for _, tt := range tests {
		err := ToGo(tt.v, tt.dst, GoOptions{})
		var te *TypeError
		if !errors.As(err, &te) {
			t.Errorf("ToGo(%s) into %T: %v, want a *TypeError", Describe(tt.v), tt.dst, err)
			continue
		}
		if te.GoType.String() != tt.goType || te.Kind != tt.kind || te.Path != tt.path || !strings.Contains(te.Msg, tt.msg) {
			t.Errorf("ToGo(%s) into %T: %q (type %v, kind %v, path %s)", Describe(tt.v), tt.dst, err, te.GoType, te.Kind, te.Path)
		}
		if !strings.HasPrefix(err.Error(), "perl: "+tt.path+": ") {
			t.Errorf("message %q", err)
		}
	}
	if err := ToGo(Int(1), nil, GoOptions{}); err == nil {
		t.Error("ToGo into nil succeeded")
	}
	var i int
	if err := ToGo(Int(1), i, GoOptions{}); err == nil {
		t.Error("ToGo into a non-pointer succeeded")
	}
	var u upper
	err := ToGo(Int(1), &u, GoOptions{})
	var me *MarshalerError
	if !errors.As(err, &me) || me.Err.Error() != "want bytes" {
		t.Errorf("unmarshaler error: %v", err)
	}
}

func TestToGoNatural(t *testing.T) {
	blessed := Ref{To: &Hash{Class: "Obj"}}
	re := Ref{To: &Regexp{Class: "Regexp", Pattern: "x"}}
	v := NewArray(Undef{}, Bool(true), Int(-1), Uint(math.MaxUint64), Float(0.5), Bytes("b"), String("\u263a"),
		ArrayRef(Int(1)), HashRef(hashKV("k", Bytes("v"))), ScalarRef(Int(1)), blessed, re,
		VString{Literal: "v1", Value: Bytes("\x01")}, &Scalar{Value: Int(9)})
	var got any
	if err := ToGo(v, &got, GoOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []any{nil, true, int64(-1), uint64(math.MaxUint64), 0.5, []byte("b"), "\u263a",
		[]any{int64(1)}, map[string]any{"k": []byte("v")}, ScalarRef(Int(1)), blessed, re, []byte("\x01"), int64(9)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ToGo into any:\n got  %#v\n want %#v", got, want)
	}
	// A cycle comes back as a cycle of []any.
	var c any
	if err := ToGo(cyclicArray(), &c, GoOptions{}); err != nil {
		t.Fatal(err)
	}
	cs := c.([]any)
	if inner := cs[1].([]any); &inner[0] != &cs[0] {
		t.Error("cycle not kept in []any")
	}
}

func TestToGoStructs(t *testing.T) {
	h := hashKV("name", Bytes("svc"), "PORT", Int(8080), "unknown", Int(1), "When", Bytes("2024-05-06T07:08:09Z"),
		"zero", HashRef(hashKV("x", Int(4))))
	var got tagged
	if err := ToGo(h, &got, storableOpts); err != nil {
		t.Fatal(err)
	}
	want := tagged{Name: "svc", Port: 8080, When: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), Zero: point{X: 4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	var o outer
	if err := ToGo(HashRef(hashKV("A", Int(1), "b", Int(2), "X", Int(3), "B", Bytes("s"))), &o, storableOpts); err != nil {
		t.Fatal(err)
	}
	if o.A != 1 || o.Inner.B != 2 || o.Coord == nil || o.X != 3 || o.B != "s" {
		t.Errorf("embedded: %+v %+v", o, o.Coord)
	}

	// Perl types in fields take the value as it is.
	var pf struct {
		V   Value
		R   Ref
		A   *Array
		H   *Hash
		Any any
		U   upper
	}
	arr := NewArray(Int(1))
	src := hashKV("V", Float(2), "R", ScalarRef(Int(1)), "A", Ref{To: arr}, "H", Undef{}, "Any", HashRef(hashKV("x", Int(1))), "U", Bytes("LOW"))
	if err := ToGo(src, &pf, GoOptions{}); err != nil {
		t.Fatal(err)
	}
	if pf.V != Float(2) || !Equal(pf.R, ScalarRef(Int(1))) || pf.A != arr || pf.H != nil || pf.U != "low" {
		t.Errorf("perl fields: %+v", pf)
	}
	if m, ok := pf.Any.(map[string]any); !ok || m["x"] != int64(1) {
		t.Errorf("any field: %#v", pf.Any)
	}
}

func TestToGoIdentity(t *testing.T) {
	shared := &Hash{Entries: []HashEntry{{Key: "Name", Value: Bytes("s")}}}
	var pair struct{ A, B *node }
	if err := ToGo(HashRef(hashKV("A", Ref{To: shared}, "B", Ref{To: shared})), &pair, GoOptions{}); err != nil {
		t.Fatal(err)
	}
	if pair.A == nil || pair.A != pair.B {
		t.Error("shared hash gave two pointers")
	}

	// A cycle: $a = {Name => "a", Next => {Name => "b", Next => $a}}.
	a := &Hash{}
	b := &Hash{}
	a.Set("Name", Bytes("a"))
	a.Set("Next", Ref{To: b})
	b.Set("Name", Bytes("b"))
	b.Set("Next", Ref{To: a})
	var n *node
	if err := ToGo(Ref{To: a}, &n, GoOptions{}); err != nil {
		t.Fatal(err)
	}
	if n.Name != "a" || n.Next.Name != "b" || n.Next.Next != n {
		t.Error("cycle not kept")
	}

	// A map holding itself.
	type selfMap map[string]selfMap
	m := &Hash{}
	m.Set("me", Ref{To: m})
	var sm selfMap
	if err := ToGo(m, &sm, GoOptions{}); err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(sm["me"]).UnsafePointer() != reflect.ValueOf(sm).UnsafePointer() {
		t.Error("map cycle not kept")
	}
}

// TestGoRoundTrip checks ToGo(FromGo(x)) == x for a value that uses most
// of the mapping.
func TestGoRoundTrip(t *testing.T) {
	type record struct {
		ID      uint64            `sereal:"id"`
		Neg     int32             `sereal:"neg"`
		Name    string            `sereal:"name"`
		Data    []byte            `sereal:"data"`
		Ratio   float64           `sereal:"ratio"`
		OK      bool              `sereal:"ok"`
		Tags    []string          `sereal:"tags"`
		Meta    map[string]string `sereal:"meta"`
		Counts  map[int]int       `sereal:"counts"`
		Next    *record           `sereal:"next,omitempty"`
		When    time.Time         `sereal:"when"`
		Raw     Value             `sereal:"raw"`
		Nothing []int             `sereal:"nothing"`
	}
	in := record{ID: math.MaxUint64, Neg: -5, Name: "J\u00fcrgen", Data: []byte{0, 1, 0xff}, Ratio: 0.1, OK: true,
		Tags: []string{"a", "b"}, Meta: map[string]string{"k": "v"}, Counts: map[int]int{1: 2},
		Next: &record{ID: 2, Name: "inner", Data: []byte{}, Tags: []string{}, Meta: map[string]string{}, Counts: map[int]int{}, Raw: Undef{}},
		When: time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC), Raw: ScalarRef(Bytes("x"))}
	opts := GoOptions{TagKey: "sereal"}
	v := mustFromGo(t, in, opts)
	var out record
	if err := ToGo(v, &out, opts); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n in  %+v\n out %+v\n in.Next  %+v\n out.Next %+v", in, out, *in.Next, *out.Next)
	}
}
