package handimg

import "strings"

// A Case builds one image.
type Case struct {
	Name string
	// Build appends the image's body (the header is written by New).
	Build func(b *Builder)
	// Only, when set, limits the case to the machines it returns true for.
	Only func(m Machine) bool
	// PerlMisreads, when set, says why Perl's Storable 3.26 does not read
	// this image as Storable writes it.
	PerlMisreads string
}

// Image returns the image of c for m.
func (c Case) Image(m Machine) []byte {
	b := New(m)
	c.Build(b)
	return b.Bytes()
}

// For reports whether c applies to m.
func (c Case) For(m Machine) bool { return c.Only == nil || c.Only(m) }

func native(m Machine) bool   { return !m.Net }
func native64(m Machine) bool { return !m.Net && m.IVSize == 8 }
func bits64(m Machine) bool   { return m.IVSize == 8 }

// perlLargeHash says why Perl does not read large hashes.
const perlLargeHash = "Storable 3.26 reads the key lengths of a large hash with a 4-byte read into an 8-byte " +
	"variable (get_lhash), so it sees garbage, and reads no key flags in a large flagged hash though " +
	"store_lhash writes them"

// Cases are images whose numbers, lengths and tags depend on the machine.
var Cases = []Case{
	{Name: "integers of every size", Build: func(b *Builder) {
		b.Op(Array).Len(8)
		b.Int(0).Int(-128).Int(127).Int(-129).Int(300).Int(-70000).Int(2147483647).Int(-2147483648)
	}},
	{Name: "64-bit integers", Only: native64, Build: func(b *Builder) {
		b.Op(Array).Len(3)
		b.Int(2147483648).Int(-1 << 40).Int(9223372036854775807)
	}},
	{Name: "doubles", Only: native, Build: func(b *Builder) {
		b.Op(Array).Len(6)
		b.NV(0.5).NV(-1.25).NV(0.1).NV(1e300).NV(-4.9e-324).NV(1.0 / 3)
	}},
	{Name: "double at the root", Only: native, Build: func(b *Builder) { b.NV(7.9) }},
	{Name: "long string and UTF-8 string", Build: func(b *Builder) {
		b.Op(Array).Len(3).Str(strings.Repeat("x", 300)).UTF8(strings.Repeat("\u263a", 100)).UTF8("caf\u00e9")
	}},
	{Name: "hash", Build: func(b *Builder) {
		b.Op(Ref, Hash).Len(2)
		b.Int(1).Key("one")
		b.Op(Ref, Array).Len(1).Int(1000).Key(strings.Repeat("k", 300))
	}},
	{Name: "flagged hash with a UTF-8 key", Build: func(b *Builder) {
		b.Op(FlagHash, 0).Len(2)
		b.Int(1).Op(1).Key("\u263a")
		b.Str("v").Op(2).Key("\xe9")
	}},
	{Name: "restricted hash", Build: func(b *Builder) {
		b.Op(FlagHash, 1).Len(2)
		b.Int(1).Op(4).Key("locked")
		b.Op(SvUndef).Op(0x14).Key("allowed")
	}},
	{Name: "shared and cyclic references", Build: func(b *Builder) {
		// [ $a, $a, \$a[0] ... ]: tags 0 root, 1 ref, 2 inner array, 3 its element
		b.Op(Array).Len(4)
		b.Op(Ref, Array).Len(1).Int(5)
		b.Op(Ref).Tag(2)
		b.Op(Ref).Tag(3)
		b.Op(Ref).Tag(0)
	}},
	{Name: "blessed objects, long class name, class index", Build: func(b *Builder) {
		long := "Long::" + strings.Repeat("Name", 40)
		b.Op(Array).Len(3)
		b.Op(Ref, Bless, 3).Raw("Foo").Op(Hash).Len(0)
		b.Op(Ref, Bless, 0x80).Len(len(long)).Raw(long).Op(Array).Len(0)
		b.Op(Ref, IxBless, 1).Op(Array).Len(0)
	}},
	{Name: "hook object with long string and references", Build: func(b *Builder) {
		// SX_HOOK, recursing once to store [1], then the hook itself:
		// flags = hash | large string | has list | large list
		frozen := strings.Repeat("f", 300)
		b.Op(Array).Len(2)
		b.Op(Ref, Hook, 0x40|2).Op(Array).Len(1).Int(1)
		b.Op(0x80 | 0x10 | 0x08 | 2).Op(6).Raw("StHook").Len(len(frozen)).Raw(frozen)
		b.Len(2).Raw("\x00\x00\x00\x03\x00\x00\x00\x02") // tags 3 and 2, big-endian
		b.Op(Ref).Tag(2)
	}},
	{Name: "large objects (SX_LOBJECT)", Only: bits64, Build: func(b *Builder) {
		b.Op(Array).Len(4)
		b.Op(LObject, LScalar).U64(3).Raw("abc")
		b.Op(LObject, LUTF8Str).U64(3).Raw("\u263a")
		b.Op(Ref, LObject, Array).U64(2).Int(1).Int(2)
		b.Op(Ref, LObject, Object).U64(3)
	}},
	{Name: "large hashes (SX_LOBJECT)", Only: bits64, PerlMisreads: perlLargeHash, Build: func(b *Builder) {
		b.Op(Array).Len(2)
		b.Op(Ref, LObject, Hash).U64(1).Int(3).Key("k")
		b.Op(Ref, LObject, FlagHash, 0).U64(1).Int(1).Op(1).Key("\u263a")
	}},
	{Name: "large hook (SX_LOBJECT)", Only: bits64, Build: func(b *Builder) {
		b.Op(LObject, Hook, 2).Op(6).Raw("StHook").U64(2).Raw("ab")
	}},
	{Name: "booleans", Build: func(b *Builder) {
		b.Op(Array).Len(2).Bool(true).Bool(false)
	}},
	{Name: "boolean at the root", Build: func(b *Builder) { b.Bool(true) }},
	{Name: "boolean hash values", Build: func(b *Builder) {
		b.Op(Hash).Len(2).Bool(false).Key("f").Bool(true).Key("t")
	}},
}
