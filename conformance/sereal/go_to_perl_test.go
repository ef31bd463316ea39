package sereal_test

import (
	"math"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/sereal"
)

// Shorthands for building values.
func bs(s string) perl.Value          { return perl.Bytes(s) }
func str(s string) perl.Value         { return perl.String(s) }
func num(i int64) perl.Value          { return perl.Int(i) }
func aref(e ...perl.Value) perl.Value { return perl.ArrayRef(e...) }

func href(kv ...any) perl.Value {
	h := perl.NewHash(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i].(string), kv[i+1].(perl.Value))
	}
	return perl.HashRef(h)
}

func blessed(class string, v perl.Value) perl.Value {
	perl.Bless(v.(perl.Ref).To, class)
	return v
}

func re(pattern, flags string, utf8 bool) perl.Value {
	return perl.Ref{To: &perl.Regexp{Class: "Regexp", Pattern: pattern, Flags: flags, UTF8: utf8}}
}

// goEncodings are the encoder options every Go value is written with.
var goEncodings = map[string]sereal.EncOptions{
	"protocol 1":        {Protocol: 1},
	"protocol 2":        {Protocol: 2},
	"protocol 3":        {},
	"protocol 4":        {Protocol: 4},
	"protocol 5":        {Protocol: 5},
	"Snappy":            {Compression: sereal.Snappy, CompressThreshold: 1},
	"zlib":              {Compression: sereal.Zlib, CompressThreshold: 1},
	"zstd":              {Compression: sereal.Zstd, CompressThreshold: 1},
	"sorted, canonical": {SortKeys: sereal.SortKeysPerl, CanonicalRefs: true},
	"deduplicated":      {DedupeStrings: true},
	"aliased":           {AliasedDedupeStrings: true},
	"freeze callbacks":  {Protocol: 5, FreezeCallbacks: true},
}

// expectPerlReads encodes v with every option set of goEncodings, has
// Perl decode each document, compares what Perl shows with what v shows,
// and has Perl encode its value again (protocol 5), which must decode in
// Go to v itself: kinds, UTF-8 flags, sharing and weak references
// included.
func expectPerlReads(name string, v perl.Value) {
	GinkgoHelper()
	expectPerlReadsExcept(name, v, nil)
}

// expectPerlReadsExcept is expectPerlReads that does not require the
// value to come back unchanged from the option sets in lossy.
func expectPerlReadsExcept(name string, v perl.Value, lossy map[string]bool) {
	GinkgoHelper()
	var docs [][]byte
	var labels []string
	for label, o := range goEncodings {
		m, err := o.EncMode()
		Expect(err).NotTo(HaveOccurred())
		doc, err := m.MarshalValue(v)
		Expect(err).NotTo(HaveOccurred(), "%s %s", name, label)
		docs = append(docs, doc)
		labels = append(labels, label)
	}
	want := shown(v)
	for i, got := range perlDecode(docs, perlOpts{}) {
		Expect(got.Error).To(BeEmpty(), "%s %s: Perl cannot read %x", name, labels[i], docs[i])
		expectSameJSON(want, got.JSON, name+" "+labels[i])
		back, err := sereal.UnmarshalValue(got.Reencoded)
		Expect(err).NotTo(HaveOccurred())
		if lossy[labels[i]] {
			continue
		}
		Expect(perl.Diff(back, v)).To(BeEmpty(), "%s %s: what Perl encodes again differs\nours: %x\nperl: %x", name, labels[i], docs[i], got.Reencoded)
	}
}

var _ = Describe("Documents written by Go", func() {
	It("with a reference to the immortal undef (\\undef) decode in Perl to it from protocol 3 on, and to a reference to undef before", func() {
		v := aref(perl.ScalarRef(perl.Undef{Of: perl.UndefImmortal}), perl.Undef{})
		// Protocols 1 and 2 have no CANONICAL_UNDEF.
		expectPerlReadsExcept("\\undef", v, map[string]bool{"protocol 1": true, "protocol 2": true})
	})

	DescribeTable("decode in Perl to the value Go meant, with every protocol and compression, and come back from Perl unchanged",
		func(v func() perl.Value) {
			expectPerlReads(CurrentSpecReport().LeafNodeText, v())
		},
		Entry("integers of every size", func() perl.Value {
			return aref(num(0), num(15), num(16), num(-1), num(-16), num(-17), num(math.MaxInt64), num(math.MinInt64), perl.Uint(math.MaxUint64))
		}),
		Entry("doubles, exact as float32 or not, and infinities", func() perl.Value {
			return aref(perl.Float(0.5), perl.Float(0.1), perl.Float(-1.5e-300), perl.Float(3), perl.Float(math.Inf(1)), perl.Float(math.Inf(-1)))
		}),
		Entry("byte strings of every length form", func() perl.Value {
			return aref(bs(""), bs("a"), bs(strings.Repeat("x", 31)), bs(strings.Repeat("y", 32)), bs("\x00\xff\xe9"), bs(strings.Repeat("z", 70000)))
		}),
		Entry("UTF-8 strings, also of Latin-1 characters only", func() perl.Value {
			return aref(str("\u263a"), str("caf\u00e9"), str("\U0001F600"), str("ascii"))
		}),
		Entry("booleans, also behind references", func() perl.Value {
			return aref(perl.Bool(true), perl.Bool(false), perl.ScalarRef(perl.Bool(true)), perl.ScalarRef(perl.Bool(false)))
		}),
		Entry("undef and a reference to an ordinary undef", func() perl.Value {
			return aref(perl.Undef{}, perl.ScalarRef(perl.Undef{}))
		}),
		Entry("hashes with byte, Latin-1 and UTF-8 keys, repeated across hashes", func() perl.Value {
			return aref(href("a", num(1), "caf\u00e9", num(2), "\u263a", num(3)), href("a", num(4), "\u263a", bs("v")), href())
		}),
		Entry("a hash of 16 keys and an array of 16 elements", func() perl.Value {
			var kv []any
			var el []perl.Value
			for i := range 16 {
				kv = append(kv, "k"+strings.Repeat("x", i), num(int64(i)))
				el = append(el, num(int64(i)))
			}
			return aref(href(kv...), aref(el...))
		}),
		Entry("references to scalars and to references", func() perl.Value {
			return aref(perl.ScalarRef(bs("a")), perl.ScalarRef(perl.ScalarRef(num(1))), perl.ScalarRef(aref()))
		}),
		Entry("blessed arrays, hashes and scalars, with class names repeated and in UTF-8", func() perl.Value {
			return aref(blessed("Foo", aref(num(1))), blessed("Foo", href("k", num(2))), blessed("Bar::Baz", perl.ScalarRef(bs("s"))),
				blessed("Caf\u00e9::\u263a", aref()))
		}),
		Entry("regexps with modifiers, UTF-8 and Latin-1 patterns, reblessed", func() perl.Value {
			return aref(re("a.c", "", false), re("^x", "msix", false), re("\u263a+", "ui", true), re("caf\xe9", "", false),
				blessed("My::Re", re("y", "i", false)), perl.Ref{To: &perl.Regexp{Pattern: "unblessed"}})
		}),
		Entry("shared references and cycles", func() perl.Value {
			shared := perl.NewArray(num(1))
			cyc := perl.NewHash(1)
			cyc.Set("self", perl.HashRef(cyc))
			s := &perl.Scalar{Value: bs("shared scalar")}
			return aref(perl.Ref{To: shared}, perl.Ref{To: shared}, perl.HashRef(cyc), perl.Ref{To: s}, perl.Ref{To: s})
		}),
		Entry("an element referenced elsewhere (an alias)", func() perl.Value {
			s := &perl.Scalar{Value: num(7)}
			return aref(perl.Ref{To: s}, aref(s, s))
		}),
		Entry("weak references, with a strong one before or after, and weak only", func() perl.Value {
			a, b, c := perl.NewArray(num(1)), perl.NewArray(num(2)), perl.NewArray(num(3))
			return aref(perl.Ref{To: a}, perl.Ref{To: a, Weak: true}, perl.Ref{To: b, Weak: true}, perl.Ref{To: b}, perl.Ref{To: c, Weak: true}, perl.Ref{To: c})
		}),
		Entry("a FREEZE/THAW object's data (blessed into Sereal::Decoder::THAW_args)", func() perl.Value {
			return aref(perl.Ref{To: &perl.Array{Class: "Sereal::Decoder::THAW_args", Elems: []perl.Value{num(1), bs("two"), bs("Some::Class")}}})
		}),
		Entry("an IMP data RPC", func() perl.Value {
			return aref(num(0x4005), num(1), num(0), num(0), num(-1), bs("GET / HTTP/1.0\r\n\r\n"))
		}),
		Entry("a scalar at the root", func() perl.Value { return bs("root") }),
		Entry("deep nesting", func() perl.Value {
			v := bs("bottom")
			for range 200 {
				v = aref(v)
			}
			return v
		}),
	)
})
