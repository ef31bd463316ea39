package sereal_test

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/sereal"
)

// randomRuns is how many random structures go each way per run.
const randomRuns = 1000

// randomPerlOpts are the encoder options the random documents cycle
// through, on both sides.
var randomPerlOpts = []perlOpts{
	{}, {"protocol_version": 1}, {"protocol_version": 2}, {"protocol_version": 3}, {"protocol_version": 4},
	{"compress": srlSnappy, "compress_threshold": 0}, {"compress": srlZlib, "compress_threshold": 0},
	{"compress": srlZstd, "compress_threshold": 0}, {"sort_keys": 2}, {"dedupe_strings": 1},
}

// valueGen makes random Perl values: every kind the model has that
// Sereal carries, shared referents, cycles, aliases and weak references.
type valueGen struct {
	r    *rand.Rand
	pool []perl.Referent // referents made so far, which later values share
}

var genWords = []string{"", "a", "key", "meta", "0", "12", "caf\xe9", "x y", strings.Repeat("long", 10)}

func (g *valueGen) bytes() perl.Bytes {
	if g.r.IntN(2) == 0 {
		return perl.Bytes(genWords[g.r.IntN(len(genWords))])
	}
	b := make([]byte, g.r.IntN(40))
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	return b
}

func (g *valueGen) text() perl.String {
	var sb strings.Builder
	for range g.r.IntN(20) {
		switch g.r.IntN(3) {
		case 0:
			sb.WriteRune(rune(0x20 + g.r.IntN(0x60)))
		case 1:
			sb.WriteRune(rune(0xa0 + g.r.IntN(0x700)))
		default:
			sb.WriteRune(rune(0x10000 + g.r.IntN(0x1000)))
		}
	}
	return perl.String(sb.String())
}

func (g *valueGen) key() string {
	if g.r.IntN(3) == 0 {
		return string(g.text())
	}
	return genWords[g.r.IntN(len(genWords))] + fmt.Sprint(g.r.IntN(5))
}

func (g *valueGen) scalar() perl.Value {
	switch g.r.IntN(11) {
	case 0:
		return perl.Undef{}
	case 1:
		return perl.Bool(g.r.IntN(2) == 0)
	case 2:
		return perl.Int(g.r.IntN(40) - 20)
	case 3:
		return perl.Int(g.r.Int64() >> g.r.IntN(64))
	case 4:
		return perl.Int(-(g.r.Int64() >> g.r.IntN(64)))
	case 5:
		return perl.Uint(1<<63 + g.r.Uint64()>>1)
	case 6:
		return perl.Float([]float64{0.5, -1.25, 0.1, 1e300, 1.0 / 3, math.Inf(1), -2.5e-7}[g.r.IntN(7)])
	case 7, 8:
		return g.text()
	default:
		return g.bytes()
	}
}

// value returns a value for an array element or hash value.
func (g *valueGen) value(depth int) perl.Value {
	if depth <= 0 || g.r.IntN(10) < 4 {
		return g.scalar()
	}
	if len(g.pool) > 0 && g.r.IntN(8) == 0 {
		r := g.pool[g.r.IntN(len(g.pool))]
		if s, ok := r.(*perl.Scalar); ok && s.Class == "" && g.r.IntN(2) == 0 {
			return s // an alias of a referenced scalar
		}
		return perl.Ref{To: r, Weak: g.r.IntN(4) == 0}
	}
	var r perl.Referent
	switch g.r.IntN(10) {
	case 0, 1, 2, 3:
		a := perl.NewArray()
		g.pool = append(g.pool, a) // before the elements: cycles
		for range g.r.IntN(6) {
			a.Elems = append(a.Elems, g.value(depth-1))
		}
		r = a
	case 4, 5, 6:
		h := perl.NewHash(0)
		g.pool = append(g.pool, h)
		for range g.r.IntN(6) {
			// A key only once: a value replaced by Set could leave a
			// referent of the pool held by weak references only, which
			// Perl does not keep.
			if k := g.key(); !hasKey(h, k) {
				h.Set(k, g.value(depth-1))
			}
		}
		r = h
	case 7, 8:
		s := &perl.Scalar{Value: g.scalar()}
		if g.r.IntN(4) == 0 {
			s.Value = perl.ScalarRef(g.scalar())
		}
		g.pool = append(g.pool, s)
		r = s
	default:
		flags := []string{"", "i", "msix", "x", "m"}[g.r.IntN(5)]
		pat := []string{"a+b", `^\d+$`, "caf\xe9", "[a-z]{2,3}"}[g.r.IntN(4)]
		re := &perl.Regexp{Class: "Regexp", Pattern: pat, Flags: flags}
		if g.r.IntN(3) == 0 {
			re.Pattern, re.UTF8, re.Flags = "\u263a.", true, "u"+flags
		}
		r = re
	}
	if g.r.IntN(7) == 0 {
		perl.Bless(r, []string{"Foo", "Bar::Baz", "Caf\u00e9"}[g.r.IntN(3)])
	}
	return perl.Ref{To: r}
}

// root returns a random document root: an array of values.
func (g *valueGen) root() perl.Value {
	g.pool = g.pool[:0]
	a := perl.NewArray()
	for range 1 + g.r.IntN(4) {
		a.Elems = append(a.Elems, g.value(4))
	}
	// A weak reference to a referent the root holds strongly.
	if len(g.pool) > 0 && g.r.IntN(3) == 0 {
		a.Elems = append(a.Elems, perl.Ref{To: g.pool[g.r.IntN(len(g.pool))], Weak: true})
	}
	return perl.Ref{To: a}
}

var _ = Describe("Random structures", func() {
	seed := GinkgoRandomSeed()

	It(fmt.Sprintf("made by Perl (%d per run) decode in Go to what Perl decodes, and Go's encoding of them decodes in Perl to the same", randomRuns), func() {
		By(fmt.Sprintf("seed %d (ginkgo --seed)", seed))
		per := randomRuns / len(randomPerlOpts)
		n := 0
		for i, opts := range randomPerlOpts {
			var r struct {
				Docs []perlDoc `json:"docs"`
			}
			call(map[string]any{"op": "random", "seed": seed + int64(i), "count": per, "opts": opts}, &r)
			Expect(r.Docs).To(HaveLen(per))
			var again [][]byte
			for _, d := range r.Docs {
				v, err := sereal.UnmarshalValue(d.bytes())
				Expect(err).NotTo(HaveOccurred(), "seed %d: %s", seed, d.Hex)
				expectSameJSON(shown(v), d.JSON, fmt.Sprintf("seed %d opts %v: %s", seed, opts, d.Hex))
				b, err := opts.encMode().MarshalValue(v)
				Expect(err).NotTo(HaveOccurred())
				again = append(again, b)
				n++
			}
			for j, got := range perlDecode(again, nil) {
				Expect(got.Error).To(BeEmpty(), "seed %d: Perl cannot read %x", seed, again[j])
				expectSameJSON(got.JSON, r.Docs[j].JSON, fmt.Sprintf("seed %d: Go's encoding of %s", seed, r.Docs[j].Hex))
			}
		}
		Expect(n).To(BeNumerically(">=", randomRuns))
	})

	It(fmt.Sprintf("made by Go (%d per run) decode in Perl to what Go meant, and come back from Perl unchanged", randomRuns), func() {
		By(fmt.Sprintf("seed %d (ginkgo --seed)", seed))
		g := &valueGen{r: rand.New(rand.NewPCG(uint64(seed), 0x5e7ea1))}
		modes := make([]sereal.EncMode, len(randomPerlOpts))
		for i, o := range randomPerlOpts {
			modes[i] = o.encMode()
		}
		const batch = 100
		for done := 0; done < randomRuns; done += batch {
			var vals []perl.Value
			var docs [][]byte
			for i := range batch {
				v := g.root()
				doc, err := modes[(done+i)%len(modes)].MarshalValue(v)
				Expect(err).NotTo(HaveOccurred())
				vals = append(vals, v)
				docs = append(docs, doc)
			}
			for i, got := range perlDecode(docs, perlOpts{}) {
				what := fmt.Sprintf("seed %d, value %d: %s", seed, done+i, hex.EncodeToString(docs[i]))
				Expect(got.Error).To(BeEmpty(), what)
				expectSameJSON(shown(vals[i]), got.JSON, what)
				back, err := sereal.UnmarshalValue(got.Reencoded)
				Expect(err).NotTo(HaveOccurred(), what)
				Expect(perl.Diff(back, vals[i])).To(BeEmpty(), "%s\nPerl wrote %x", what, got.Reencoded)
			}
		}
	})
})

func hasKey(h *perl.Hash, k string) bool {
	_, ok := h.Get(k)
	return ok
}
