// Package perl is a model of Perl data for Go: the values that Perl's
// Storable and Sereal serialisers write, with every distinction Perl itself
// can observe kept intact.
//
// A Perl value is a [Value]. Scalars are plain Go values with no identity:
//
//	Perl                          Go
//	undef                         Undef{}
//	!!1, !!0 (boolean)            Bool(true), Bool(false)
//	42 (IV)                       Int(42)
//	18446744073709551615 (UV)     Uint(18446744073709551615)
//	0.5 (NV)                      Float(0.5)
//	"abc" (byte string)           Bytes("abc")
//	"\x{263a}" (UTF-8 string)     String("\u263a")
//	v1.2.3                        VString{Literal: "v1.2.3", Value: Bytes("\x01\x02\x03")}
//	\@a, \%h, \$s, qr/x/          Ref{To: referent}
//
// Things a reference can point at are [Referent]s: [*Array], [*Hash],
// [*Scalar], [*Regexp] and [*Hook]. They are pointers, and the pointer is
// the Perl value's identity: two references with the same To point at one
// Perl value, so shared data and cycles survive a round trip through any
// codec of this module. Blessing is a property of the referent, as in Perl:
// the Class field of the referent names the package ("" = not blessed).
//
// Arrays and hashes hold scalars only, as in Perl: an element that refers
// to another array is a Ref whose To is an *Array. A *Scalar as an element
// or hash value stands for an element that is itself the target of a
// reference elsewhere (Perl's \$a[0]), which a decoder produces only when
// the data needs it.
//
// The root of a Storable image or a Sereal document is the frozen value
// itself: nfreeze([1]) decodes to an *Array, nfreeze(\"a") to Bytes("a"),
// nfreeze(\\"a") to Ref{To: &Scalar{Value: Bytes("a")}}.
//
// # Go values
//
// [FromGo] and [ToGo] map Go values to Perl values and back; the codecs'
// Marshal and Unmarshal use them. Struct fields are named by the tag key
// of [GoOptions] (`storable:"name,omitempty"`; "-" skips a field;
// omitempty and omitzero as in encoding/json; embedded structs promote
// their fields).
//
//	Go                          FromGo gives               ToGo accepts
//	nil, nil pointer/map/slice  Undef                      Undef (sets the zero value)
//	bool                        Bool                       any scalar, by Perl truth (undef, "", "0", 0 false)
//	int, int8 ... int64         Int                        Int, Uint, integral Float, Bool, decimal string;
//	uint, uint8 ... uintptr     Int, Uint above MaxInt64     overflow is a *TypeError
//	float32, float64            Float                      Float, Int, Uint, Bool, decimal string
//	string                      Str(s): Bytes if ASCII or  Bytes, String, VString (their bytes unchanged),
//	                              invalid UTF-8, else        Int, Uint, Float (as Perl prints them), Bool
//	                              String
//	[]byte, [N]byte             Bytes (nil too; shared,    Bytes, String, VString
//	                              not copied)
//	slice, array                Ref to *Array              Ref to *Array, *Array
//	map (string, integer or     Ref to *Hash, keys sorted  Ref to *Hash, *Hash (placeholders skipped)
//	  TextMarshaler keys)
//	struct                      Ref to *Hash, fields in    Ref to *Hash, *Hash: keys matched to field names,
//	                              declaration order          exactly, then ignoring case; others ignored
//	pointer                     what it points at          undef gives nil; a Ref to a *Scalar gives up its
//	                                                         layer to the pointer
//	interface                   its dynamic value          see "ToGo into any" below
//	perl.Value (any kind)       itself (*Array, *Hash,     itself, into perl.Value, perl.Ref, perl.Referent,
//	                              *Regexp, *Hook wrapped     *perl.Array ... fields; perl.Int, perl.Bytes ...
//	                              in a Ref in elements)      by their Go kinds
//	Marshaler / Unmarshaler     MarshalPerl()              UnmarshalPerl(v)
//	encoding.TextMarshaler      Str(text) (time.Time:      UnmarshalText of a string's bytes
//	  / TextUnmarshaler           RFC 3339)
//	chan, func, complex         *UnsupportedTypeError      *TypeError
//
// At the root FromGo returns the *Array or *Hash itself, not a Ref to it,
// as the root of a Storable image holds it. Go pointers, maps and slices
// reached twice give one referent, so shared data and cycles survive; ToGo
// likewise gives one pointer, map or slice per referent and Go type.
//
// ToGo into any (interface{}) gives: Undef nil, Bool bool, Int int64, Uint
// uint64, Float float64, Bytes []byte, String string, VString its value, a
// reference to an unblessed array []any and to an unblessed hash
// map[string]any (keys as their bytes); references to scalars, blessed
// values, regexps and hooks stay perl.Ref values (a blessed root
// referent stays itself). Byte strings are kept apart from text so that
// data survives a round trip unchanged.
package perl

import (
	"strconv"
	"unicode/utf8"
)

// Value is any Perl value: one of Undef, Bool, Int, Uint, Float, Bytes,
// String, VString, Ref, or a Referent (*Array, *Hash, *Scalar, *Regexp,
// *Hook). The set is closed; a type switch over these cases is exhaustive.
type Value interface {
	// Kind reports which of the closed set of kinds the value is.
	Kind() Kind
}

// Kind names the kind of a Value.
type Kind uint8

// The kinds of Value, one per concrete type.
const (
	KindUndef Kind = iota
	KindBool
	KindInt
	KindUint
	KindFloat
	KindBytes
	KindString
	KindVString
	KindRef
	KindArray
	KindHash
	KindScalar
	KindRegexp
	KindHook
)

var kindNames = [...]string{
	KindUndef:   "undef",
	KindBool:    "bool",
	KindInt:     "int",
	KindUint:    "uint",
	KindFloat:   "float",
	KindBytes:   "bytes",
	KindString:  "string",
	KindVString: "vstring",
	KindRef:     "ref",
	KindArray:   "array",
	KindHash:    "hash",
	KindScalar:  "scalar",
	KindRegexp:  "regexp",
	KindHook:    "hook",
}

// String returns the kind's name as used in error messages ("array",
// "bytes", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// UndefKind tells the undefined values apart that Perl and Storable tell
// apart. The zero value is an ordinary undef.
type UndefKind uint8

const (
	// UndefPlain is an ordinary undefined scalar (Storable SX_UNDEF,
	// Sereal UNDEF).
	UndefPlain UndefKind = iota
	// UndefImmortal is Perl's read-only &PL_sv_undef, as in \undef
	// (Storable SX_SV_UNDEF outside arrays and SX_SVUNDEF_ELEM inside,
	// Sereal CANONICAL_UNDEF).
	UndefImmortal
	// UndefHole is an array slot that does not exist (exists $a[i] is
	// false; Storable writes it as SX_SV_UNDEF inside an array).
	UndefHole
)

// Undef is Perl's undef.
type Undef struct {
	// Which undef this is; the zero value is an ordinary undef.
	Of UndefKind
}

// Bool is a Perl boolean: the immortals PL_sv_yes and PL_sv_no, or a Perl
// 5.36 boolean.
type Bool bool

// Int is a Perl integer (IV).
type Int int64

// Uint is a Perl unsigned integer (UV) above the range of Int. Decoders
// produce Uint only for values above math.MaxInt64.
type Uint uint64

// Float is a Perl floating point number (NV).
type Float float64

// Bytes is a Perl string without the UTF-8 flag: a sequence of bytes
// (characters U+0000 to U+00FF).
type Bytes []byte

// String is a Perl string with the UTF-8 flag on. It holds Perl's internal
// encoding of the characters, which is UTF-8 for every character Unicode
// defines, and Perl's extended UTF-8 for the code points beyond U+10FFFF
// that Perl allows; it is therefore not always valid UTF-8 in Go's sense.
type String string

// VString is a Perl version string (v1.2.3): the literal as written and the
// string value it evaluates to.
type VString struct {
	// Literal is the v-string as written in the source ("v1.2.3").
	Literal string
	// Value is the string value: Bytes or String.
	Value Value
}

// Ref is a Perl reference.
type Ref struct {
	// To is the referenced value; a nil To is invalid.
	To Referent
	// Weak marks a weak reference (Scalar::Util::weaken).
	Weak bool
	// Overloaded marks a reference to an object whose class has
	// overloaded operators (Storable SX_OVERLOAD): Perl's Storable
	// requires the class to be loadable when it thaws it.
	Overloaded bool
}

// Referent is a value a reference can point at: *Array, *Hash, *Scalar,
// *Regexp or *Hook. The pointer is the value's identity.
type Referent interface {
	Value
	// Blessed returns the package the value is blessed into, or "".
	Blessed() string
	referent()
}

// Array is a Perl array.
type Array struct {
	// Class is the package the array is blessed into, or "".
	Class string
	// Elems are the elements in order.
	Elems []Value
}

// Scalar is a scalar that has an identity of its own: the target of a
// reference to a scalar (\"a", \$x, \\@a), or an array element or hash
// value that some reference points at.
type Scalar struct {
	// Class is the package the scalar is blessed into, or "".
	Class string
	// Value is the scalar's value: never a *Array or *Hash (those are
	// reached through a Ref).
	Value Value
}

// Regexp is a compiled Perl regular expression, the referent of a qr//
// reference (blessed into "Regexp" unless reblessed).
type Regexp struct {
	// Class is the package; Perl's qr// objects are in "Regexp".
	Class string
	// Pattern is the source of the pattern.
	Pattern string
	// UTF8 reports whether Perl holds the pattern as a UTF-8 string.
	UTF8 bool
	// Flags are the modifiers, such as "i" or "msix".
	Flags string
}

// HookType says what kind of value a Storable hook object was made from.
type HookType uint8

// The Perl types a STORABLE_freeze hook object can be.
const (
	HookScalar HookType = 0
	HookArray  HookType = 1
	HookHash   HookType = 2
)

// Hook is an object that Storable serialised through its class's
// STORABLE_freeze hook: the class, the frozen string the hook returned, and
// the references it returned besides, which STORABLE_thaw gets back.
type Hook struct {
	// Class is the object's class.
	Class string
	// Type is the Perl type of the object.
	Type HookType
	// Frozen is the serialised string STORABLE_freeze returned.
	Frozen Bytes
	// Refs are the extra values STORABLE_freeze returned, each a Ref.
	Refs []Value
}

// Kind implements Value.
func (Undef) Kind() Kind { return KindUndef }

// Kind implements Value.
func (Bool) Kind() Kind { return KindBool }

// Kind implements Value.
func (Int) Kind() Kind { return KindInt }

// Kind implements Value.
func (Uint) Kind() Kind { return KindUint }

// Kind implements Value.
func (Float) Kind() Kind { return KindFloat }

// Kind implements Value.
func (Bytes) Kind() Kind { return KindBytes }

// Kind implements Value.
func (String) Kind() Kind { return KindString }

// Kind implements Value.
func (VString) Kind() Kind { return KindVString }

// Kind implements Value.
func (Ref) Kind() Kind { return KindRef }

// Kind implements Value.
func (*Array) Kind() Kind { return KindArray }

// Kind implements Value.
func (*Hash) Kind() Kind { return KindHash }

// Kind implements Value.
func (*Scalar) Kind() Kind { return KindScalar }

// Kind implements Value.
func (*Regexp) Kind() Kind { return KindRegexp }

// Kind implements Value.
func (*Hook) Kind() Kind { return KindHook }

// Blessed implements Referent.
func (a *Array) Blessed() string { return a.Class }

// Blessed implements Referent.
func (h *Hash) Blessed() string { return h.Class }

// Blessed implements Referent.
func (s *Scalar) Blessed() string { return s.Class }

// Blessed implements Referent.
func (r *Regexp) Blessed() string { return r.Class }

// Blessed implements Referent.
func (h *Hook) Blessed() string { return h.Class }

func (*Array) referent()  {}
func (*Hash) referent()   {}
func (*Scalar) referent() {}
func (*Regexp) referent() {}
func (*Hook) referent()   {}

// NewArray returns an unblessed array holding elems.
func NewArray(elems ...Value) *Array { return &Array{Elems: elems} }

// ArrayRef returns a reference to a new unblessed array holding elems, as
// Perl's [ ... ] does.
func ArrayRef(elems ...Value) Ref { return Ref{To: &Array{Elems: elems}} }

// HashRef returns a reference to h, as Perl's { ... } does.
func HashRef(h *Hash) Ref { return Ref{To: h} }

// ScalarRef returns a reference to a new scalar holding v, as Perl's \"x"
// does.
func ScalarRef(v Value) Ref { return Ref{To: &Scalar{Value: v}} }

// Str returns s as a Perl string the way a Perl program with "use utf8"
// would hold the same text: Bytes when s is ASCII (or not valid UTF-8),
// String when it holds other characters.
func Str(s string) Value {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			if utf8.ValidString(s) {
				return String(s)
			}
			return Bytes(s)
		}
	}
	return Bytes(s)
}
