package storable_test

import (
	"math"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/storable"
)

// valueCase is a value Perl builds from expr (a Perl expression giving a
// reference to it). goValue, when set, builds the same value in Go.
type valueCase struct {
	expr    string
	goValue func() perl.Value
	// notSameBytes says why Go's encoding of goValue is not Perl's, byte
	// for byte, though Perl thaws it equal.
	notSameBytes string
}

// Shorthands for building Go values.
func bs(s string) perl.Value          { return perl.Bytes(s) }
func str(s string) perl.Value         { return perl.String(s) }
func num(i int64) perl.Value          { return perl.Int(i) }
func dbl(f float64) perl.Value        { return perl.Float(f) }
func arr(e ...perl.Value) *perl.Array { return perl.NewArray(e...) }
func aref(e ...perl.Value) perl.Value { return perl.ArrayRef(e...) }
func sref(v perl.Value) perl.Value    { return perl.ScalarRef(v) }
func href(kv ...any) perl.Value       { return perl.HashRef(hash(kv...)) }

var (
	undef     = perl.Undef{}
	immortal  = perl.Undef{Of: perl.UndefImmortal}
	hole      = perl.Undef{Of: perl.UndefHole}
	regexpCls = "Regexp"
)

// hash builds a hash from keys (Go text) and values.
func hash(kv ...any) *perl.Hash {
	h := perl.NewHash(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i].(string), kv[i+1].(perl.Value))
	}
	return h
}

func val(v perl.Value) func() perl.Value { return func() perl.Value { return v } }

var _ = Describe("Values frozen by Perl", func() {
	DescribeTable("decode in Go to what Perl thaws, encode again to Perl's bytes, and Go's own encoding thaws equal in Perl",
		func(c valueCase) {
			r := perlFreeze(c.expr)
			var goImages [][]byte
			var goKinds []string
			for _, kind := range imageKinds {
				img := r.image(kind)
				v, err := storable.UnmarshalValue(img)
				Expect(err).NotTo(HaveOccurred(), "%s image %x", kind, img)
				again, err := encModeLike(img).MarshalValue(v)
				Expect(err).NotTo(HaveOccurred(), kind)
				Expect(again).To(Equal(img), "%s decoded and encoded again: %s", kind, hexDiff(again, img))
				expectSameJSON(shown(v), r.JSON[kind], kind+" decoded by Go")
			}
			if c.goValue != nil {
				for _, kind := range imageKinds {
					img, err := modeOf[kind].MarshalValue(c.goValue())
					Expect(err).NotTo(HaveOccurred(), kind)
					if c.notSameBytes == "" {
						Expect(img).To(Equal(r.image(kind)), "%s of the Go value: %s", kind, hexDiff(img, r.image(kind)))
					}
					goImages = append(goImages, img)
					goKinds = append(goKinds, kind)
				}
				for i, t := range perlThaw(goImages, "") {
					Expect(t.Error).To(BeEmpty(), "Perl thawing Go's %s image", goKinds[i])
					expectSameJSON(t.JSON, r.JSON[goKinds[i]], "Go's "+goKinds[i]+" image thawed by Perl")
				}
			}
		},
		// Scalars at the root.
		Entry("an undefined scalar (SX_UNDEF)", valueCase{expr: `\my $u`, goValue: val(undef)}),
		Entry("Perl's immortal undef, as \\undef (SX_SV_UNDEF)", valueCase{expr: `\undef`, goValue: val(immortal)}),
		Entry("the immortal true, as \\!!1 (SX_SV_YES)", valueCase{expr: `\!!1`, goValue: val(perl.Bool(true))}),
		Entry("the immortal false, as \\!!0 (SX_SV_NO)", valueCase{expr: `\!!0`, goValue: val(perl.Bool(false))}),
		Entry("boolean copies in an array, which Storable 3.26 writes as strings", valueCase{expr: `[!!1, !!0]`, goValue: val(arr(bs("1"), bs("")))}),
		Entry("small integers (SX_BYTE)", valueCase{expr: `[0, 1, -1, 127, -128]`, goValue: val(arr(num(0), num(1), num(-1), num(127), num(-128)))}),
		Entry("32-bit integers (SX_NETINT, SX_INTEGER)", valueCase{expr: `[128, -129, 65536, 2147483647, -2147483648]`,
			goValue: val(arr(num(128), num(-129), num(65536), num(math.MaxInt32), num(math.MinInt32)))}),
		Entry("64-bit integers (strings in network order)", valueCase{expr: `[2147483648, -2147483649, 9223372036854775807, -9223372036854775808]`,
			goValue: val(arr(num(1<<31), num(-1<<31-1), num(math.MaxInt64), num(math.MinInt64)))}),
		Entry("the largest unsigned integer, always a string", valueCase{expr: `\18446744073709551615`, goValue: val(perl.Uint(math.MaxUint64))}),
		Entry("an unsigned integer just above the signed range", valueCase{expr: `\9223372036854775808`, goValue: val(perl.Uint(1 << 63))}),
		Entry("doubles (SX_DOUBLE; %.15g strings in network order)", valueCase{expr: `[0.5, -1.25, 1e300, -1e-300, 1.5e-7]`,
			goValue: val(arr(dbl(0.5), dbl(-1.25), dbl(1e300), dbl(-1e-300), dbl(1.5e-7)))}),
		Entry("doubles that %.15g rounds: 0.1 and 1/3", valueCase{expr: `[0.1, 1/3, 2/3]`, goValue: val(arr(dbl(0.1), dbl(1.0/3), dbl(2.0/3)))}),
		Entry("integral doubles, which Storable writes as integers", valueCase{expr: `[3.0, -2.0, 1e15, 2**40]`,
			goValue: val(arr(dbl(3), dbl(-2), dbl(1e15), dbl(1<<40)))}),
		Entry("integral doubles at and beyond 2**53, which stay doubles", valueCase{expr: `[2**53, 2**63, -2**60, 1e20]`,
			goValue: val(arr(dbl(1<<53), dbl(1<<63), dbl(-(1 << 60)), dbl(1e20)))}),
		Entry("infinities", valueCase{expr: `[9**9**9, -9**9**9]`, goValue: val(arr(dbl(math.Inf(1)), dbl(math.Inf(-1))))}),
		Entry("not a number", valueCase{expr: `\(-sin(9**9**9))`, goValue: val(dbl(math.NaN())), notSameBytes: "Perl's NaN has other payload bits than Go's"}),
		Entry("negative zero, which Storable writes as the integer 0", valueCase{expr: `\(0.0 * -1)`, goValue: val(dbl(math.Copysign(0, -1)))}),
		Entry("the empty string", valueCase{expr: `\""`, goValue: val(bs(""))}),
		Entry("a byte string (SX_SCALAR)", valueCase{expr: `\"abc"`, goValue: val(bs("abc"))}),
		Entry("a Latin-1 byte string", valueCase{expr: `\"caf\xe9"`, goValue: val(bs("caf\xe9"))}),
		Entry("a UTF-8 string (SX_UTF8STR)", valueCase{expr: `\"\x{263a}"`, goValue: val(str("\u263a"))}),
		Entry("a UTF-8 flagged string of Latin-1 characters", valueCase{expr: `do { my $s = "caf\xe9"; utf8::upgrade($s); \$s }`, goValue: val(str("caf\u00e9"))}),
		Entry("characters beyond U+FFFF", valueCase{expr: `\"\x{1F600}\x{10FFFD}"`, goValue: val(str("\U0001F600\U0010FFFD"))}),
		Entry("a string of 255 bytes, the longest short form", valueCase{expr: `\("x" x 255)`, goValue: val(bs(strings.Repeat("x", 255)))}),
		Entry("a string of 256 bytes (SX_LSCALAR)", valueCase{expr: `\("y" x 256)`, goValue: val(bs(strings.Repeat("y", 256)))}),
		Entry("a long UTF-8 string (SX_LUTF8STR)", valueCase{expr: `\("\x{263a}" x 100)`, goValue: val(str(strings.Repeat("\u263a", 100)))}),
		Entry("a string of 70000 bytes", valueCase{expr: `\("z" x 70000)`, goValue: val(bs(strings.Repeat("z", 70000)))}),
		Entry("every byte value", valueCase{expr: `\join("", map { chr } 0 .. 255)`, goValue: val(bs(allBytes()))}),
		Entry("bytes with NUL and CR LF", valueCase{expr: `\"a\0b\r\nc"`, goValue: val(bs("a\x00b\r\nc"))}),
		Entry("a string of digits stays a string", valueCase{expr: `\"12"`, goValue: val(bs("12"))}),
		Entry("a number that was printed stays a number", valueCase{expr: `do { my $n = 12; my $s = "$n"; \$n }`, goValue: val(num(12))}),
		Entry("a dual variable is written as its string", valueCase{expr: `\Scalar::Util::dualvar(5, "five")`, goValue: val(bs("five"))}),
		Entry("a v-string (SX_VSTRING)", valueCase{expr: `\v1.2.3`, goValue: val(perl.VString{Literal: "v1.2.3", Value: bs("\x01\x02\x03")})}),
		Entry("a v-string with a UTF-8 value", valueCase{expr: `\v9786.65`, goValue: val(perl.VString{Literal: "v9786.65", Value: str("\u263aA")})}),
		Entry("a long v-string (SX_LVSTRING)", valueCase{expr: `do { my $v = eval "v" . join(".", (1) x 130); \$v }`,
			goValue: val(perl.VString{Literal: "v" + strings.TrimSuffix(strings.Repeat("1.", 130), "."), Value: bs(strings.Repeat("\x01", 130))})}),

		// Arrays.
		Entry("an empty array", valueCase{expr: `[]`, goValue: val(arr())}),
		Entry("an array of scalars", valueCase{expr: `[1, "a", undef, 2.5]`, goValue: val(arr(num(1), bs("a"), undef, dbl(2.5)))}),
		Entry("nested arrays", valueCase{expr: `[[1, [2, [3, []]]]]`, goValue: val(arr(aref(num(1), aref(num(2), aref(num(3), aref())))))}),
		Entry("an array with missing elements (SX_SV_UNDEF in an array)", valueCase{expr: `holes(4, 1 => "x")`, goValue: val(arr(hole, bs("x"), hole, hole))}),
		Entry("an element that is &PL_sv_undef (SX_SVUNDEF_ELEM)", valueCase{expr: `alias(undef, 1)`, goValue: val(arr(immortal, num(1)))}),
		Entry("two elements that are one scalar", valueCase{expr: `do { my $x = "same"; alias($x, $x) }`, goValue: func() perl.Value {
			s := &perl.Scalar{Value: bs("same")}
			return arr(s, s)
		}}),
		Entry("a reference to an array element", valueCase{expr: `do { my @a = (7, 8); [\@a, \$a[1]] }`, goValue: func() perl.Value {
			e := &perl.Scalar{Value: num(8)}
			return arr(perl.Ref{To: arr(num(7), e)}, perl.Ref{To: e})
		}}),
		Entry("an array of 1000 elements", valueCase{expr: `[1 .. 1000]`, goValue: func() perl.Value {
			a := arr()
			for i := 1; i <= 1000; i++ {
				a.Elems = append(a.Elems, num(int64(i)))
			}
			return a
		}}),
		Entry("arrays nested 200 deep", valueCase{expr: `do { my $v = 1; $v = [$v] for 1 .. 200; $v }`, goValue: func() perl.Value {
			v := perl.Value(num(1))
			for range 199 {
				v = aref(v)
			}
			return arr(v)
		}}),

		// Hashes.
		Entry("an empty hash", valueCase{expr: `{}`, goValue: val(hash())}),
		Entry("a hash of one key", valueCase{expr: `{a => 1}`, goValue: val(hash("a", num(1)))}),
		Entry("a hash of several keys, sorted as $Storable::canonical sorts", valueCase{expr: `{b => 1, a => 2, c => [3], A => undef}`,
			goValue: val(hash("b", num(1), "a", num(2), "c", aref(num(3)), "A", undef))}),
		Entry("the empty key", valueCase{expr: `{"" => 1}`, goValue: val(hash("", num(1)))}),
		Entry("a UTF-8 key (SX_FLAG_HASH, SHV_K_UTF8)", valueCase{expr: `{"\x{263a}" => 1}`, goValue: val(hash("\u263a", num(1)))}),
		Entry("a Latin-1 byte key", valueCase{expr: `{"caf\xe9" => 1}`, goValue: func() perl.Value {
			return &perl.Hash{Entries: []perl.HashEntry{{Key: "caf\xe9", Value: num(1)}}}
		}}),
		Entry("a UTF-8 key of Latin-1 characters, kept as bytes (SHV_K_WASUTF8)", valueCase{expr: `do { my $k = "caf\xe9"; utf8::upgrade($k); +{ $k => 1 } }`,
			goValue: val(hash("caf\u00e9", num(1)))}),
		Entry("an ASCII key that was UTF-8 (SHV_K_WASUTF8)", valueCase{expr: `do { my $k = "a"; utf8::upgrade($k); +{ $k => 1 } }`, goValue: func() perl.Value {
			return &perl.Hash{Entries: []perl.HashEntry{{Key: "a", UTF8: true, Value: num(1)}}}
		}}),
		Entry("keys of every kind sorted by character", valueCase{expr: `{"\x{263a}" => 1, b => 2, "\xe9" => 3, B => 4, "\x{100}" => 5, "\xff" => 6}`,
			goValue: func() perl.Value {
				h := hash("\u263a", num(1), "b", num(2), "B", num(4), "\u0100", num(5))
				// Perl holds "\xe9" and "\xff" as byte keys.
				h.Entries = append(h.Entries, perl.HashEntry{Key: "\xe9", Value: num(3)}, perl.HashEntry{Key: "\xff", Value: num(6)})
				return h
			}}),
		Entry("numeric keys sorted as strings", valueCase{expr: `{1 => "a", 10 => "b", 2 => "c", -1 => "d"}`,
			goValue: val(hash("1", bs("a"), "10", bs("b"), "2", bs("c"), "-1", bs("d")))}),
		Entry("a key of 300 bytes", valueCase{expr: `+{ ("k" x 300) => 1 }`, goValue: val(hash(strings.Repeat("k", 300), num(1)))}),
		Entry("a hash of 1000 keys", valueCase{expr: `+{ map { ("key$_" => $_) } 1 .. 1000 }`, goValue: func() perl.Value {
			h := perl.NewHash(1000)
			for i := 1; i <= 1000; i++ {
				h.Set("key"+itoa(i), num(int64(i)))
			}
			return h
		}}),
		Entry("a restricted hash with an allowed key it does not hold (placeholder)", valueCase{expr: `do { my %h = (a => 1); Hash::Util::lock_keys(%h, qw(a b)); \%h }`,
			goValue: func() perl.Value {
				return &perl.Hash{Restricted: true, Entries: []perl.HashEntry{
					{Key: "a", Value: num(1)},
					{Key: "b", Value: immortal, Flags: perl.KeyPlaceholder},
				}}
			}}),
		Entry("a locked hash (read-only values, SHV_K_LOCKED)", valueCase{expr: `do { my %h = (a => 1, b => [2]); Hash::Util::lock_hash(%h); \%h }`,
			goValue: func() perl.Value {
				return &perl.Hash{Restricted: true, Entries: []perl.HashEntry{
					{Key: "a", Value: num(1), Flags: perl.KeyLocked},
					{Key: "b", Value: aref(num(2)), Flags: perl.KeyLocked},
				}}
			}}),
		Entry("a restricted hash with a UTF-8 key", valueCase{expr: `do { my %h = ("\x{263a}" => 1); Hash::Util::lock_keys(%h); \%h }`,
			goValue: func() perl.Value {
				return &perl.Hash{Restricted: true, Entries: []perl.HashEntry{{Key: "\u263a", UTF8: true, Value: num(1)}}}
			}}),
		Entry("nested hashes", valueCase{expr: `{a => {b => {c => [1, {}]}}}`, goValue: val(hash("a", href("b", href("c", aref(num(1), href())))))}),
		Entry("hash values of every scalar kind", valueCase{expr: `{u => undef, i => 300, d => 0.5, s => "s", t => "\x{263a}"}`,
			goValue: val(hash("u", undef, "i", num(300), "d", dbl(0.5), "s", bs("s"), "t", str("\u263a")))}),

		// References.
		Entry("a reference to a string at the root", valueCase{expr: `\\"a"`, goValue: val(sref(bs("a")))}),
		Entry("references to references", valueCase{expr: `\\\"x"`, goValue: val(sref(sref(bs("x"))))}),
		Entry("a reference to the immortal undef", valueCase{expr: `\\undef`, goValue: val(sref(immortal))}),
		Entry("references to the immortal undef, never shared", valueCase{expr: `[\undef, \undef]`, goValue: val(arr(sref(immortal), sref(immortal)))}),
		Entry("references to the immortal true, which Perl shares", valueCase{expr: `[\!!1, \!!1]`}),
		Entry("one array referred to twice (SX_OBJECT)", valueCase{expr: `do { my $a = [1]; [$a, $a] }`, goValue: func() perl.Value {
			a := arr(num(1))
			return arr(perl.Ref{To: a}, perl.Ref{To: a})
		}}),
		Entry("one hash referred to twice", valueCase{expr: `do { my $h = {k => 1}; {x => $h, y => $h} }`, goValue: func() perl.Value {
			h := hash("k", num(1))
			return hash("x", perl.HashRef(h), "y", perl.HashRef(h))
		}}),
		Entry("one scalar referred to twice", valueCase{expr: `do { my $s = 5; [\$s, \$s] }`, goValue: func() perl.Value {
			s := &perl.Scalar{Value: num(5)}
			return arr(perl.Ref{To: s}, perl.Ref{To: s})
		}}),
		Entry("a scalar that refers to itself", valueCase{expr: `do { my $x; $x = \$x; \$x }`, goValue: func() perl.Value {
			s := &perl.Scalar{}
			s.Value = perl.Ref{To: s}
			return s
		}}),
		Entry("an array that contains itself", valueCase{expr: `do { my @a = (1); push @a, \@a; \@a }`, goValue: func() perl.Value {
			a := arr(num(1))
			a.Elems = append(a.Elems, perl.Ref{To: a})
			return a
		}}),
		Entry("a hash that contains itself", valueCase{expr: `do { my %h = (n => 1); $h{self} = \%h; \%h }`, goValue: func() perl.Value {
			h := hash("n", num(1))
			h.Set("self", perl.HashRef(h))
			return h
		}}),
		Entry("a weak reference (SX_WEAKREF)", valueCase{expr: `do { my $a = [1]; my $r = [$a, $a]; Scalar::Util::weaken($r->[1]); $r }`, goValue: func() perl.Value {
			a := arr(num(1))
			return arr(perl.Ref{To: a}, perl.Ref{To: a, Weak: true})
		}}),
		Entry("a weak reference closing a cycle", valueCase{expr: `do { my %h = (n => 1); $h{up} = \%h; Scalar::Util::weaken($h{up}); \%h }`, goValue: func() perl.Value {
			h := hash("n", num(1))
			h.Set("up", perl.Ref{To: h, Weak: true})
			return h
		}}),

		// Blessed values.
		Entry("a blessed hash (SX_BLESS)", valueCase{expr: `bless {a => 1}, "Foo"`, goValue: func() perl.Value { h := hash("a", num(1)); h.Class = "Foo"; return h }}),
		Entry("a blessed array", valueCase{expr: `bless [1], "Foo::Bar"`, goValue: val(&perl.Array{Class: "Foo::Bar", Elems: []perl.Value{num(1)}})}),
		Entry("a blessed scalar", valueCase{expr: `bless \(my $s = "x"), "Bar"`, goValue: val(&perl.Scalar{Class: "Bar", Value: bs("x")})}),
		Entry("a blessed scalar holding a reference", valueCase{expr: `bless \(my $r = [1]), "Baz"`, goValue: val(&perl.Scalar{Class: "Baz", Value: aref(num(1))})}),
		Entry("one class twice (SX_IX_BLESS)", valueCase{expr: `[bless({}, "Foo"), bless([], "Foo")]`,
			goValue: val(arr(perl.Ref{To: &perl.Hash{Class: "Foo"}}, perl.Ref{To: &perl.Array{Class: "Foo"}}))}),
		Entry("a class name of 200 bytes (4-byte length)", valueCase{expr: `bless [], "A::" . ("Long" x 49) . "x"`,
			goValue: val(&perl.Array{Class: "A::" + strings.Repeat("Long", 49) + "x"})}),
		Entry("more than 128 classes (4-byte class index)", valueCase{expr: `[(map { bless [], "C$_" } 1 .. 130), bless({}, "C130")]`, goValue: func() perl.Value {
			a := arr()
			for i := 1; i <= 130; i++ {
				a.Elems = append(a.Elems, perl.Ref{To: &perl.Array{Class: "C" + itoa(i)}})
			}
			a.Elems = append(a.Elems, perl.Ref{To: &perl.Hash{Class: "C130"}})
			return a
		}}),
		Entry("an object of a class with overloading (SX_OVERLOAD)", valueCase{expr: `[StOverload->new(1)]`,
			goValue: val(arr(perl.Ref{To: &perl.Hash{Class: "StOverload", Entries: []perl.HashEntry{{Key: "v", Value: num(1)}}}, Overloaded: true}))}),
		Entry("a weak reference to an overloaded object (SX_WEAKOVERLOAD)", valueCase{expr: `do { my $o = StOverload->new(2); my $r = [$o, $o]; Scalar::Util::weaken($r->[1]); $r }`,
			goValue: func() perl.Value {
				o := &perl.Hash{Class: "StOverload", Entries: []perl.HashEntry{{Key: "v", Value: num(2)}}}
				return arr(perl.Ref{To: o, Overloaded: true}, perl.Ref{To: o, Overloaded: true, Weak: true})
			}}),

		// Regular expressions.
		Entry("a regexp (SX_REGEXP)", valueCase{expr: `qr/a.b/`, goValue: val(&perl.Regexp{Class: regexpCls, Pattern: "a.b", Flags: "u"})}),
		Entry("a regexp with flags", valueCase{expr: `qr/x y/msix`, goValue: val(&perl.Regexp{Class: regexpCls, Pattern: "x y", Flags: "umsix"})}),
		Entry("a regexp pattern longer than 255 bytes", valueCase{expr: `do { my $p = "a" x 300; qr/$p/ }`,
			goValue: val(&perl.Regexp{Class: regexpCls, Pattern: strings.Repeat("a", 300), Flags: "u"})}),
		Entry("a UTF-8 regexp pattern, which Storable keeps as its bytes", valueCase{expr: `do { my $p = "\x{263a}"; qr/$p/ }`,
			goValue: val(&perl.Regexp{Class: regexpCls, Pattern: "\u263a", UTF8: true, Flags: "u"})}),
		Entry("a reblessed regexp", valueCase{expr: `bless qr/z/, "MyRe"`, goValue: val(&perl.Regexp{Class: "MyRe", Pattern: "z", Flags: "u"})}),
		Entry("one regexp referred to twice", valueCase{expr: `do { my $r = qr/q/i; [$r, $r] }`, goValue: func() perl.Value {
			r := &perl.Regexp{Class: regexpCls, Pattern: "q", Flags: "ui"}
			return arr(perl.Ref{To: r}, perl.Ref{To: r})
		}}),

		// Objects with STORABLE_freeze hooks (SX_HOOK).
		Entry("a hook object with a frozen string only", valueCase{expr: `StHook->new(f => "frozen")`,
			goValue: val(&perl.Hook{Class: "StHook", Type: perl.HookHash, Frozen: perl.Bytes("frozen")})}),
		Entry("a hook object with references", valueCase{expr: `do { my $s = [1, 2]; [StHook->new(f => "one", r => [$s, \"sc"]), $s] }`, goValue: func() perl.Value {
			s := arr(num(1), num(2))
			h := &perl.Hook{Class: "StHook", Type: perl.HookHash, Frozen: perl.Bytes("one"), Refs: []perl.Value{perl.Ref{To: s}, sref(bs("sc"))}}
			return arr(perl.Ref{To: h}, perl.Ref{To: s})
		}}),
		Entry("a hook object referring to itself", valueCase{expr: `do { my $h = StHook->new(f => "self"); $h->{r} = [$h]; $h }`, goValue: func() perl.Value {
			h := &perl.Hook{Class: "StHook", Type: perl.HookHash, Frozen: perl.Bytes("self")}
			h.Refs = []perl.Value{perl.Ref{To: h}}
			return h
		}}),
		Entry("hook objects of array type", valueCase{expr: `[StHookArray->new("a", \"x"), StHookArray->new("b")]`, goValue: func() perl.Value {
			return arr(
				perl.Ref{To: &perl.Hook{Class: "StHookArray", Type: perl.HookArray, Frozen: perl.Bytes("a"), Refs: []perl.Value{sref(bs("x"))}}},
				perl.Ref{To: &perl.Hook{Class: "StHookArray", Type: perl.HookArray, Frozen: perl.Bytes("b")}})
		}}),
		Entry("a hook object of scalar type", valueCase{expr: `StHookScalar->new("s")`,
			goValue: val(&perl.Hook{Class: "StHookScalar", Type: perl.HookScalar, Frozen: perl.Bytes("s")})}),
		Entry("a hook object with a long string and 300 references", valueCase{expr: `StHook->new(f => "z" x 300, r => [map { [$_] } 1 .. 300])`, goValue: func() perl.Value {
			h := &perl.Hook{Class: "StHook", Type: perl.HookHash, Frozen: perl.Bytes(strings.Repeat("z", 300))}
			for i := 1; i <= 300; i++ {
				h.Refs = append(h.Refs, aref(num(int64(i))))
			}
			return h
		}}),
		Entry("a hook object inside a hook object", valueCase{expr: `StHook->new(f => "outer", r => [StHook->new(f => "inner", r => [{}])])`, goValue: func() perl.Value {
			in := &perl.Hook{Class: "StHook", Type: perl.HookHash, Frozen: perl.Bytes("inner"), Refs: []perl.Value{href()}}
			return &perl.Hook{Class: "StHook", Type: perl.HookHash, Frozen: perl.Bytes("outer"), Refs: []perl.Value{perl.Ref{To: in}}}
		}}),
		Entry("a hook class after 260 other classes (4-byte class index)", valueCase{expr: `[(map { bless [], "K$_" } 1 .. 260), StHook->new(f => 1), StHook->new(f => 2)]`, goValue: func() perl.Value {
			a := arr()
			for i := 1; i <= 260; i++ {
				a.Elems = append(a.Elems, perl.Ref{To: &perl.Array{Class: "K" + itoa(i)}})
			}
			for _, f := range []string{"1", "2"} {
				a.Elems = append(a.Elems, perl.Ref{To: &perl.Hook{Class: "StHook", Type: perl.HookHash, Frozen: perl.Bytes(f)}})
			}
			return a
		}}),

		// What IMP RPCs carry.
		Entry("the arguments of a data RPC", valueCase{expr: `[1, 0, 0, -1, "GET / HTTP/1.0\r\n\r\n"]`,
			goValue: val(arr(num(1), num(0), num(0), num(-1), bs("GET / HTTP/1.0\r\n\r\n")))}),
		Entry("a data RPC at a large offset", valueCase{expr: `[1, 1, 4294967296, 1, "x"]`, goValue: val(arr(num(1), num(1), num(1<<32), num(1), bs("x")))}),
		Entry("a pass_pattern result with a regexp", valueCase{expr: `[3, 4098, 0, qr/secret/i, 6]`,
			goValue: val(arr(num(3), num(4098), num(0), perl.Ref{To: &perl.Regexp{Class: regexpCls, Pattern: "secret", Flags: "ui"}}, num(6)))}),
		Entry("the context of new_analyzer as imp-relay.pl builds it", valueCase{
			expr:    `[1, {meta => {caddr => "192.0.2.10", cport => 40001, laddr => "192.0.2.1", lport => "3000"}}]`,
			goValue: val(arr(num(1), href("meta", href("caddr", bs("192.0.2.10"), "cport", num(40001), "laddr", bs("192.0.2.1"), "lport", bs("3000")))))}),
		Entry("an interface list", valueCase{expr: `[[-1, [4097, 4352, 4354]], [undef]]`,
			goValue: val(arr(aref(num(-1), aref(num(4097), num(4352), num(4354))), aref(undef)))}),
		Entry("a log result with a UTF-8 message", valueCase{expr: `[2, 1, 0, 10, 5, 3, "na\x{ef}ve \x{263a}", "k", "v"]`,
			goValue: val(arr(num(2), num(1), num(0), num(10), num(5), num(3), str("na\u00efve \u263a"), bs("k"), bs("v")))}),

		// Larger structures.
		Entry("a thousand records sharing keys", valueCase{expr: `[map { {id => $_, name => "n$_", tags => ["a", "b"]} } 1 .. 1000]`, goValue: func() perl.Value {
			a := arr()
			for i := 1; i <= 1000; i++ {
				a.Elems = append(a.Elems, href("id", num(int64(i)), "name", bs("n"+itoa(i)), "tags", aref(bs("a"), bs("b"))))
			}
			return a
		}}),
		Entry("a mixture of everything", valueCase{expr: `do { my $s = "shared"; my $a = [\$s]; {
				list => [1, 2.5, "x", undef, \$s, $a, $a], obj => bless({re => qr/m/}, "Obj"),
				hook => StHook->new(f => "h", r => [$a]), "\x{263a}" => \v1.2, big => 2**40 } }`},
		),
	)
})

func allBytes() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}

func itoa(i int) string { return strconv.Itoa(i) }
