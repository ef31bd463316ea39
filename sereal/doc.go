// Package sereal reads and writes Sereal documents, the binary format of
// Perl's Sereal::Encoder and Sereal::Decoder, and Net::IMP::Remote's
// second wire format (one document [op, args...] per RPC, documents back
// to back on the connection).
//
// Documents decode into the value model of package perl, which keeps
// everything a Perl program can tell apart, and encode from it, so that
// Perl's Sereal::Decoder reads them as Perl would have written them:
//
//	doc, err := sereal.Marshal(perl.ArrayRef(perl.Int(0x4005), perl.Int(1), perl.Bytes("data")))
//	var v perl.Value
//	err = sereal.Unmarshal(doc, &v)
//
// # Versions
//
// The decoder reads protocol versions 1 to 5, raw and compressed with
// Snappy (both the protocol 1 form and the incremental form), zlib and
// Zstandard: everything Perl's Sereal::Encoder 3.x, 4.x and 5.x write.
// It refuses protocol versions 6 and 7 (the defaults of Sereal 6.x and
// 7.x, whose specification is not public) and the tags FLOAT_128 and
// LONG_DOUBLE (written by Perls built with quadmath or long doubles) with
// an *UnsupportedError that names them and says what a Perl peer can do:
// use Sereal 5.x, or protocol_version => 5, or use_standard_double, or
// the Storable wire.
//
// The encoder writes protocol versions 1 to 5 (EncOptions.Protocol). The
// default is version 3 (DefaultProtocol): every Sereal::Decoder since
// 3.0 reads it, including 5.x, 6.x and 7.x, while Sereal 3.x and 4.x,
// still shipped by many distributions, refuse version 5 documents (and
// Perl's Net::IMP::Remote then neither answers nor closes the
// connection). Version 5 adds only the NO and YES tags for Perl 5.36
// booleans, and booleans keep their meaning in version 3 as well (see
// below). With Protocol 5 the encoder writes what Sereal::Encoder 5.x
// writes by default, byte for byte: the IMP RPCs of the project's golden
// vectors come out identical. Zlib needs protocol 3 and Zstd protocol 4
// (Sereal::Decoder 4.0).
//
// So Perl peers with Sereal 3.x, 4.x and 5.x interoperate in both
// directions with the defaults; peers with Sereal 6.x or 7.x read what
// this package writes, but must be told to write protocol 5 or lower.
//
// # Perl values and Sereal
//
//	Sereal tag                      perl.Value
//	POS, NEG, VARINT, ZIGZAG        Int; Uint above math.MaxInt64
//	FLOAT, DOUBLE                   Float (FLOAT written when exact as float32, as Perl does)
//	UNDEF                           Undef{}
//	CANONICAL_UNDEF                 Undef{Of: UndefImmortal} (\undef, array holes)
//	TRUE, FALSE, YES, NO            Bool
//	SHORT_BINARY, BINARY            Bytes
//	STR_UTF8                        String
//	REFN x                          Ref to the referent x: *Array, *Hash, *Regexp, or a *Scalar holding x
//	ARRAYREF_n, HASHREF_n           Ref to an *Array or *Hash
//	REFP                            Ref to the referent written before (shared, cycles)
//	WEAKEN                          Ref with Weak set
//	OBJECT, OBJECTV                 the Class of the referent
//	REGEXP                          *Regexp (Pattern, UTF8, Flags)
//	ALIAS, track flag               the same *Scalar in two places (an element that is referenced)
//	COPY                            the string it repeats
//	OBJECT_FREEZE, OBJECTV_FREEZE   Ref to an *Array of the FREEZE data and the class name,
//	                                blessed into Sereal::Decoder::THAW_args
//
// A document's root is the value Perl's decode returns: Perl's encode([1])
// decodes to a Ref to an *Array, encode(1) to Int(1). The root is a
// *Scalar only when the document refers to the root itself ($x = \$x).
// Marshal of an *Array, *Hash or *Regexp writes a reference to it, as a
// document cannot hold an array as its root in Perl (the Go Sereal library
// writes one, and Perl's decoder corrupts it).
//
// Details the decoder and encoder keep as Perl does:
//
//   - Byte strings and UTF-8 strings stay apart (Bytes and String), also
//     for hash keys (HashEntry.UTF8; a KeyWasUTF8 key is written as UTF-8,
//     as Perl does) and regexp patterns.
//   - A referent reached twice is one pointer, cycles included; the
//     encoder writes the second reference as REFP and sets the track flag,
//     a repeated *Scalar element as ALIAS.
//   - The encoder writes ARRAYREF_n and HASHREF_n for a container with
//     fewer than 16 elements that nothing else in the document refers to,
//     else REFN ARRAY or REFN HASH (Perl decides by the reference count,
//     which also counts references from outside the document: see
//     EncOptions.CanonicalHashRefs). It writes repeated hash keys and class
//     names as COPY and OBJECTV, and turns the last WEAKEN of a referent
//     that only weak references reach into PAD, as Perl does.
//   - Booleans: protocol 5 documents carry YES and NO, as Perl 5.36
//     writes !!1 and !!0; in earlier versions the encoder writes TRUE and
//     FALSE, which every Sereal::Decoder reads as copies of Perl's
//     booleans (Perl's own encoder writes 1 and "" there, which come back
//     as a number and a string). A reference to an unshared boolean is
//     written as REFN TRUE, as Perl writes \!!1.
//   - Regexps: Perl reports the modifiers of a UTF-8 pattern with "u"
//     first but its encoder leaves it out, and its decoder refuses "u";
//     so the decoder adds "u" for UTF-8 patterns and the encoder leaves
//     out u, a, l and d (as Perl's encoder does). Modifiers come back in
//     Perl's order (msixnp), each once, as Perl's decoder compiles them.
//     Perl's decoder refuses /n, so the encoder refuses to write it.
//   - FREEZE/THAW objects: the decoder cannot call THAW, so it returns
//     what Perl's decoder returns with no_thaw_objects; with
//     EncOptions.FreezeCallbacks the encoder writes such an array as
//     OBJECT_FREEZE again, so that a Perl peer calls THAW (off by default:
//     Sereal::Decoder 5.003 to 5.009 keeps such objects in a table it never
//     clears, and a decoder object used for later documents can then
//     corrupt memory).
//   - A v-string is written as its string, as Perl does; Storable hook
//     objects and the Overloaded flag have no Sereal form (an
//     *UnsupportedValueError, and lost, respectively).
//
// # Go values
//
// Marshal, Unmarshal, Encoder.Encode and Decoder.Decode take Go values
// other than perl.Value too, by package perl's mapping (perl.FromGo,
// perl.ToGo) with struct tags named "sereal":
//
//	type Meta struct {
//		Caddr string `sereal:"caddr"`
//		Cport int    `sereal:"cport"`
//	}
//
// A Go slice or map at the root is written as a reference to an array or
// hash, as Perl's encode([...]) writes it.
//
// # Streams, frames and the hot path
//
// A Decoder reads documents from an io.Reader, one per call, however the
// input is split; DocumentLength tells a frame reader where a document in
// a buffer ends, or that more bytes are needed, without decoding values.
// Both read only the framing of compressed documents.
//
// For one RPC [op, args...] per document, EncMode.AppendArrayRef writes the
// document of the elements into a reused buffer without allocating, and
// UnmarshalArrayRef appends the elements of such a document to a reused
// slice (with DecOptions.AliasInput, byte strings share the frame's
// memory): docs/benchmarks.md compares them with Perl.
//
// The decoder allocates the values of a document in blocks of up to 16 KiB
// shared by many of them (arrays, hashes, elements, copied strings, the
// boxes of scalars), not one by one: a part of a decoded value that a
// program keeps can keep up to the memory of the whole value alive.
//
// # Safety
//
// Decoding never panics and allocates nothing by a length the input
// announces before the input holds it: strings, arrays and hashes are
// checked against the bytes that are there, compressed bodies against
// MaxDecompressedSize and against what the compressed bytes can expand to.
// DecOptions limits the depth, the size of a document, of a decompressed
// body, of strings, arrays and hashes, and the total size of the decoded
// strings (COPY tags can repeat a string). COPY may refer to strings only,
// as every Perl encoder writes it. Errors are *SyntaxError,
// *UnsupportedError and *LimitError with the byte offset in the document,
// and *UnsupportedValueError when encoding.
//
// # The Go Sereal library
//
// github.com/Sereal/Sereal/Go/sereal decodes protocols 1 to 4 only,
// decodes into interface{} values that lose what Perl tells apart (byte
// and UTF-8 strings, shared references, the kinds of undef, booleans),
// allocates by announced lengths when decompressing, needs cgo and the
// clibs build tag for zstd, and writes documents Perl cannot use as IMP
// RPCs (a bare ARRAY at the root, protocol 3 only). This package
// therefore reads and writes the tags itself, with the Snappy library the
// Go library uses, the standard library's zlib and the pure Go zstd of
// github.com/klauspost/compress; its tests check that what the library
// writes decodes here and that what this package writes in protocols 1 to
// 4 decodes there.
package sereal
