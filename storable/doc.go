// Package storable reads and writes the binary format of Perl's Storable
// module: the images of freeze, nfreeze, store and nstore, which Perl's
// thaw and retrieve read. It is written from the format as Storable.xs
// defines it and checked against Perl's Storable 3.26.
//
// The entry points are those of encoding/json:
//
//	data, err := storable.Marshal(v)        // what nfreeze(\$v) writes
//	err = storable.Unmarshal(data, &v)      // what thaw(data) gives
//	dec := storable.NewDecoder(r)           // images from a stream or file
//	enc := storable.NewEncoder(w)
//
// DecOptions and EncOptions configure them (byte order, file images,
// sorted hash keys, how booleans are written, limits); their DecMode and
// EncMode methods validate the options once and give immutable modes that
// are safe for concurrent use. The zero options are safe: every limit has
// a default.
//
// # Values
//
// Decoding gives a perl.Value (package perl), which keeps everything
// Storable keeps: undef of three kinds, booleans, integers, doubles, byte
// and UTF-8 strings, v-strings, arrays, hashes with key flags and
// restricted hashes, references (weak, overloaded), blessed values,
// regular expressions, objects serialised by STORABLE_freeze hooks, and
// shared values and cycles (one Perl value reached twice decodes to one
// Go pointer). The root is the value that was frozen: nfreeze([1]) gives
// an *perl.Array, nfreeze(\"a") a perl.Bytes. How Storable's records map:
//
//	Storable record                     perl.Value
//	SX_UNDEF                            Undef{}
//	SX_SV_UNDEF                         Undef{Of: UndefImmortal}; in an array
//	                                      (a missing element) Undef{Of: UndefHole}
//	SX_SVUNDEF_ELEM                     Undef{Of: UndefImmortal} (an element that is &PL_sv_undef)
//	SX_SV_YES, SX_SV_NO,                Bool
//	  SX_BOOLEAN_TRUE, SX_BOOLEAN_FALSE
//	SX_BYTE, SX_NETINT, SX_INTEGER      Int
//	SX_DOUBLE                           Float (long doubles rounded to float64)
//	SX_SCALAR, SX_LSCALAR               Bytes
//	SX_UTF8STR, SX_LUTF8STR             String
//	SX_VSTRING, SX_LVSTRING             VString
//	SX_ARRAY, SX_HASH, SX_FLAG_HASH     *Array, *Hash (inside a reference: Ref{To: ...})
//	SX_REF, SX_WEAKREF, SX_OVERLOAD,    Ref, with Weak and Overloaded set
//	  SX_WEAKOVERLOAD
//	scalar a reference points at        *Scalar
//	SX_BLESS, SX_IX_BLESS               the Class of the referent
//	SX_REGEXP                           *Regexp
//	SX_HOOK                             *Hook: class, frozen string, references
//	SX_OBJECT (a value seen before)     the same pointer again
//	SX_LOBJECT (sizes beyond 2 GiB)     as the record it wraps
//
// Tied values (SX_TIED_*) and code references (SX_CODE) give an
// *UnsupportedError. Numbers are what the image holds: network order
// writes integers beyond 32 bits and non-integral doubles as strings, so
// nfreeze(\0.5) decodes to Bytes("0.5"), as Perl's thaw gives the string
// "0.5".
//
// Encoding writes a perl.Value as Perl's Storable writes the same value,
// byte for byte where Perl's output does not depend on hash order, and in
// hash order too with EncOptions.Canonical (Perl's $Storable::canonical):
// integers -128..127 as SX_BYTE, other 32-bit integers as SX_NETINT
// (network order) or SX_INTEGER (native), larger ones and unsigned ones
// above 2**63-1 as decimal strings; integral doubles below 2**53 as
// integers, other doubles as SX_DOUBLE (native) or %.15g strings (network
// order, where Perl too loses precision); UTF-8 hash keys that fit in
// Latin-1 as bytes with the SHV_K_WASUTF8 flag; the second use of a value
// as a back-reference, including Perl's immortal true and false.
//
// # Go values
//
// Marshal and Unmarshal accept any Go value: a perl.Value is written as it
// is, other values go through perl.FromGo and perl.ToGo with the struct
// tag key "storable" (`storable:"name,omitempty"`); the table of package
// perl says how Go types map. Unmarshal into a *perl.Value or *any needs
// no reflection on a struct.
//
// # Speed
//
// EncMode.AppendValue appends an image to a buffer and allocates nothing
// when the buffer has room; it suits encoding many small images, such as
// the arguments of IMP RPCs. DecMode.UnmarshalValue decodes without
// reflection; with DecOptions.AliasInput byte strings share the input's
// memory instead of being copied.
//
// The decoder allocates the values of an image in blocks of up to 16 KiB
// shared by many of them (arrays, hashes, elements, copied strings, the
// boxes of scalars), not one by one: a part of a decoded value that a
// program keeps can keep up to the memory of the whole value alive.
//
// # Errors
//
// A damaged image gives a *SyntaxError with the byte offset and the
// opcode ("storable: offset 17: unknown opcode 0x42"); one that exceeds a
// limit a *LimitError naming the limit; unsupported features an
// *UnsupportedError; a value that cannot be written an
// *UnsupportedValueError. Lengths in an image are checked against the
// bytes left and the limits before anything of that size is allocated.
package storable
