package storable

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/goimp/imprpc/perl"
)

// goValues are values built in Go with every kind the model has.
func goValues() map[string]perl.Value {
	h := perl.NewHash(4)
	h.Set("a", perl.Int(1))
	h.Set("\u263a", perl.String("smile"))
	h.Set("caf\u00e9", perl.Bytes("caf\xe9"))
	h.Set("nested", perl.ArrayRef(perl.Undef{}, perl.Float(0.25)))
	shared := perl.NewArray(perl.Int(7))
	cyc := &perl.Hash{Class: "Node"}
	cyc.Set("self", perl.Ref{To: cyc, Weak: true})
	elem := &perl.Scalar{Value: perl.Bytes("elem")}
	self := &perl.Scalar{}
	self.Value = perl.Ref{To: self}
	hook := &perl.Hook{Class: "StHook", Type: perl.HookHash, Frozen: perl.Bytes("f")}
	hook.Refs = []perl.Value{perl.Ref{To: shared}, perl.Ref{To: hook}, perl.ScalarRef(perl.Int(3))}
	restricted := &perl.Hash{Restricted: true, Entries: []perl.HashEntry{
		{Key: "set", Value: perl.Int(1), Flags: perl.KeyLocked},
		{Key: "allowed", Value: perl.Undef{Of: perl.UndefImmortal}, Flags: perl.KeyPlaceholder | perl.KeyLocked},
	}}
	return map[string]perl.Value{
		"scalars": perl.NewArray(perl.Undef{}, perl.Undef{Of: perl.UndefImmortal}, perl.Undef{Of: perl.UndefHole},
			perl.Bool(true), perl.Bool(false), perl.Int(0), perl.Int(-129), perl.Int(1<<40), perl.Int(math.MinInt64),
			perl.Float(0.5), perl.Float(-1e300), perl.Bytes(""), perl.Bytes(strings.Repeat("b", 300)),
			perl.String("\u263a"), perl.String(strings.Repeat("\u263a", 100)),
			perl.VString{Literal: "v1.2", Value: perl.Bytes("\x01\x02")}, perl.VString{Literal: "v9786", Value: perl.String("\u263a")}),
		"hash":       h,
		"shared":     perl.NewArray(perl.Ref{To: shared}, perl.Ref{To: shared}, perl.Ref{To: elem}, elem),
		"cycle":      perl.Ref{To: cyc},
		"self":       self,
		"blessed":    perl.NewArray(perl.Ref{To: &perl.Array{Class: "A"}}, perl.Ref{To: &perl.Hash{Class: "A"}}, perl.Ref{To: &perl.Scalar{Class: "B", Value: perl.Int(1)}, Overloaded: true}),
		"regexp":     perl.NewArray(perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: "a.b", Flags: "i"}}, perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: strings.Repeat("x", 300)}}),
		"hook":       perl.Ref{To: hook},
		"restricted": restricted,
		"root bytes": perl.Bytes("root"),
		"root ref":   perl.ScalarRef(perl.ScalarRef(perl.Int(1))),
	}
}

// Go values encode and decode to equal values, in every order and format.
func TestGoValuesRoundTrip(t *testing.T) {
	opts := []EncOptions{
		{},
		{Canonical: true},
		{Order: NativeOrder},
		{Order: NativeOrder, Format: FileImage},
		{Order: NativeOrder, Machine: Machine{ByteOrder: "87654321"}},
		{Order: NativeOrder, Machine: Machine{ByteOrder: "4321", IntSize: 4, LongSize: 4, PtrSize: 4}},
	}
	for name, v := range goValues() {
		for _, o := range opts {
			m, err := o.EncMode()
			if err != nil {
				t.Fatal(err)
			}
			img, err := m.MarshalValue(v)
			if err != nil {
				t.Errorf("%s %+v: %v", name, o, err)
				continue
			}
			got, err := UnmarshalValue(img)
			if err != nil {
				t.Errorf("%s %+v: decoding %x: %v", name, o, img, err)
				continue
			}
			want := v
			if o.Order == NetworkOrder || len(o.Machine.ByteOrder) == 4 {
				// Network order and 32-bit integers write what does not fit
				// as text, as Perl does; compare with what the wire holds.
				want = wireView(v, o.Order == NetworkOrder)
			}
			if d := perl.Diff(want, got); d != "" {
				t.Errorf("%s %+v: %s", name, o, d)
			}
		}
	}
}

// wireView returns v as a decoder sees it after encoding: integers beyond
// 32 bits (and, in network order, non-integral doubles) become strings.
func wireView(v perl.Value, net bool) perl.Value {
	img, err := MarshalValue(v)
	if !net {
		m, _ := EncOptions{Order: NativeOrder, Machine: Machine{ByteOrder: "1234"}}.EncMode()
		img, err = m.MarshalValue(v)
	}
	if err != nil {
		panic(err)
	}
	w, err := UnmarshalValue(img)
	if err != nil {
		panic(err)
	}
	return w
}

func TestScalarEncodings(t *testing.T) {
	native, _ := EncOptions{Order: NativeOrder, Machine: Machine{ByteOrder: "12345678"}}.EncMode()
	for _, c := range []struct {
		v        perl.Value
		net, nat string
	}{
		{perl.Int(-128), "\x08\x00", "\x08\x00"},
		{perl.Int(128), "\x09\x00\x00\x00\x80", "\x06\x80\x00\x00\x00\x00\x00\x00\x00"},
		{perl.Int(1 << 31), "\x0a\x0a2147483648", "\x06\x00\x00\x00\x80\x00\x00\x00\x00"},
		{perl.Uint(1 << 63), "\x0a\x139223372036854775808", "\x0a\x139223372036854775808"},
		{perl.Uint(5), "\x08\x85", "\x08\x85"},
		{perl.Float(3), "\x08\x83", "\x08\x83"},
		{perl.Float(math.Copysign(0, -1)), "\x08\x80", "\x08\x80"},
		{perl.Float(1e15), "\x0a\x101000000000000000", "\x06\x00\x80\xc6\xa4\x7e\x8d\x03\x00"},
		{perl.Float(1 << 53), "\x0a\x149.00719925474099e+15", "\x07\x00\x00\x00\x00\x00\x00\x40\x43"},
		{perl.Float(0.1), "\x0a\x030.1", "\x07\x9a\x99\x99\x99\x99\x99\xb9\x3f"},
		{perl.Float(math.Inf(-1)), "\x0a\x04-Inf", "\x07\x00\x00\x00\x00\x00\x00\xf0\xff"},
		{perl.Float(math.NaN()), "\x0a\x03NaN", ""},
		{perl.Undef{Of: perl.UndefHole}, "\x0e", "\x0e"},
	} {
		got, err := MarshalValue(c.v)
		if err != nil || string(got[2:]) != c.net {
			t.Errorf("%#v network: got %q, %v; want %q", c.v, got, err, c.net)
		}
		if c.nat == "" {
			continue
		}
		got, err = native.MarshalValue(c.v)
		if err != nil || string(got[15:]) != c.nat {
			t.Errorf("%#v native: got %q, %v; want %q", c.v, got, err, c.nat)
		}
	}
}

// Perl cannot bless its immortals: a blessed scalar holding one is
// written as its copy.
func TestBlessedImmortals(t *testing.T) {
	for _, c := range []struct {
		v    perl.Value
		want string
	}{
		{&perl.Scalar{Class: "A", Value: perl.Undef{Of: perl.UndefImmortal}}, "\x11\x01A\x05"},
		{&perl.Scalar{Class: "A", Value: perl.Bool(true)}, "\x11\x01A\x0a\x011"},
		{&perl.Scalar{Class: "A", Value: perl.Bool(false)}, "\x11\x01A\x0a\x00"},
	} {
		got, err := MarshalValue(c.v)
		if err != nil || string(got[2:]) != c.want {
			t.Errorf("%#v: got %q, %v; want %q", c.v, got, err, c.want)
		}
	}
	b, _ := EncOptions{Bools: BoolBoolean}.EncMode()
	got, err := b.MarshalValue(&perl.Scalar{Class: "A", Value: perl.Bool(true)})
	if err != nil || string(got[2:]) != "\x11\x01A\x22" {
		t.Errorf("BoolBoolean: got %q, %v", got, err)
	}
}

func TestBoolModes(t *testing.T) {
	v := perl.NewArray(perl.Bool(true), perl.Bool(false))
	for mode, want := range map[BoolMode]string{
		BoolImmortal: "\x0f\x10",
		BoolString:   "\x0a\x011\x0a\x00",
		BoolBoolean:  "\x22\x23",
	} {
		m, _ := EncOptions{Bools: mode}.EncMode()
		got, err := m.MarshalValue(v)
		if err != nil || string(got[7:]) != want {
			t.Errorf("mode %d: got %q, %v; want %q", mode, got, err, want)
		}
	}
}

// Canonical order is Perl's: by character, whatever the representation.
func TestCanonicalOrder(t *testing.T) {
	h := &perl.Hash{}
	for _, k := range []string{"\u263a", "b", "\u00e9", "B", "a", "\u00ff", "\u0100", ""} {
		h.Set(k, perl.Int(1))
	}
	h.Entries = append(h.Entries, perl.HashEntry{Key: "\xfe", Value: perl.Int(2)}) // a byte key
	m, _ := EncOptions{Canonical: true}.EncMode()
	img, err := m.MarshalValue(h)
	if err != nil {
		t.Fatal(err)
	}
	v, err := UnmarshalValue(img)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range v.(*perl.Hash).Entries {
		keys = append(keys, e.Text())
	}
	want := []string{"", "B", "a", "b", "\u00e9", "\u00fe", "\u00ff", "\u0100", "\u263a"}
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("got %q, want %q", keys, want)
	}
	// UTF-8 keys that fit in Latin-1 are written as bytes, as Perl does.
	if !bytes.Contains(img, []byte("\x02\x00\x00\x00\x01\xe9")) {
		t.Errorf("key é not written as a Latin-1 byte with SHV_K_WASUTF8: %x", img)
	}
}

func TestEncodeErrors(t *testing.T) {
	loop := &perl.Array{}
	deep := perl.Value(perl.Int(1))
	for range 100 {
		deep = perl.ArrayRef(deep)
	}
	for _, c := range []struct {
		v    perl.Value
		opts EncOptions
		msg  string
	}{
		{nil, EncOptions{}, "storable: cannot encode nil perl.Value"},
		{perl.Ref{}, EncOptions{}, "storable: cannot encode a Ref with a nil To"},
		{perl.NewArray(perl.Ref{To: loop, Overloaded: true}), EncOptions{}, "storable: cannot encode an overloaded reference to an unblessed value"},
		{&perl.Hook{Class: "X", Refs: []perl.Value{perl.Int(1)}}, EncOptions{}, "storable: cannot encode a Hook whose Refs[0] is not a Ref"},
		{&perl.Hook{}, EncOptions{}, "storable: cannot encode a Hook without a class"},
		{&perl.Scalar{Value: perl.NewArray()}, EncOptions{}, "storable: cannot encode a array as a scalar's value"},
		{perl.VString{Literal: "v1", Value: perl.Int(1)}, EncOptions{}, "storable: cannot encode a v-string whose Value is not Bytes or String"},
		{deep, EncOptions{MaxDepth: 50}, "storable: exceeds MaxDepth (50)"},
	} {
		m, err := c.opts.EncMode()
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.MarshalValue(c.v)
		if err == nil || err.Error() != c.msg {
			t.Errorf("%#v: got %v, want %q", c.v, err, c.msg)
		}
	}
	var le *LimitError
	m, _ := EncOptions{MaxDepth: 50}.EncMode()
	if _, err := m.MarshalValue(deep); !errors.As(err, &le) {
		t.Errorf("got %v, want a LimitError", err)
	}
	for _, o := range []EncOptions{
		{Order: 2}, {Format: 2}, {Bools: 3}, {MaxDepth: -1},
		{Machine: Machine{ByteOrder: "3412"}}, {Machine: Machine{ByteOrder: "1234", NVSize: 16}},
	} {
		if _, err := o.EncMode(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// AppendValue allocates nothing for the arguments of an IMP data RPC when
// the buffer has room.
func TestAppendValueAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items, so allocations cannot be counted")
	}
	args := perl.NewArray(perl.Int(1), perl.Int(0), perl.Undef{}, perl.Int(-1), perl.Bytes(strings.Repeat("x", 1024)))
	ctx := perl.NewHash(1)
	meta := perl.NewHash(2)
	meta.Set("caddr", perl.Bytes("192.0.2.10"))
	meta.Set("cport", perl.Int(40001))
	ctx.Set("meta", perl.HashRef(meta))
	rpc := perl.NewArray(perl.Int(1), perl.HashRef(ctx))
	buf := make([]byte, 0, 4096)
	sorted, _ := EncOptions{Canonical: true}.EncMode()
	for _, m := range []EncMode{defaultEncMode, sorted} {
		for _, v := range []perl.Value{args, rpc, contextHash()} {
			n := testing.AllocsPerRun(100, func() {
				var err error
				if buf, err = m.AppendValue(buf[:0], v); err != nil {
					t.Fatal(err)
				}
			})
			if n != 0 {
				t.Errorf("%+v: %d allocations per AppendValue", m.EncOptions(), int(n))
			}
		}
	}
}

// Modes are shared by goroutines: each call has state of its own.
func TestModesConcurrent(t *testing.T) {
	values := goValues()
	want := map[string][]byte{}
	for name, v := range values {
		img, err := MarshalValue(v)
		if err != nil {
			t.Fatal(err)
		}
		want[name] = img
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				for name, v := range values {
					img, err := MarshalValue(v)
					if err != nil || !bytes.Equal(img, want[name]) {
						errs <- fmt.Errorf("%s: encoding differs (%v)", name, err)
						return
					}
					if _, err := UnmarshalValue(img); err != nil {
						errs <- fmt.Errorf("%s: %v", name, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
