package storable_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/storable"
)

const (
	randomCount = 1000 // structures per direction and run
	randomBatch = 100  // structures per call to Perl
)

var _ = Describe("Random nested structures", func() {
	It("made by Go, go through Perl unchanged: Perl thaws Go's image and freezes it again to the same bytes", func() {
		seed := uint64(GinkgoRandomSeed())
		By(fmt.Sprintf("generating %d structures from seed %d (rerun with ginkgo --seed %d)", randomCount, seed, seed))
		for batch := 0; batch < randomCount/randomBatch; batch++ {
			for _, kind := range []string{"nfreeze", "freeze"} {
				var values []perl.Value
				var images [][]byte
				for i := range randomBatch {
					n := batch*randomBatch + i
					g := newGen(seed, uint64(n))
					v := g.root()
					img, err := modeOf[kind].MarshalValue(v)
					Expect(err).NotTo(HaveOccurred(), "structure %d of seed %d", n, seed)
					values = append(values, v)
					images = append(images, img)
				}
				for i, t := range perlThaw(images, kind) {
					n := batch*randomBatch + i
					Expect(t.Error).To(BeEmpty(), "%s of structure %d of seed %d: %x", kind, n, seed, images[i])
					back := unhex(t.Refrozen)
					Expect(back).To(Equal(images[i]), "%s of structure %d of seed %d: Perl froze it again differently: %s",
						kind, n, seed, hexDiff(images[i], back))
					v, err := storable.UnmarshalValue(back)
					Expect(err).NotTo(HaveOccurred())
					expectSameJSON(shown(v), t.JSON, fmt.Sprintf("%s of structure %d of seed %d", kind, n, seed))
				}
			}
		}
	})

	It("made by Perl, go through Go unchanged: Go decodes what Perl thaws and encodes Perl's bytes, and Perl thaws Go's image equal", func() {
		seed := GinkgoRandomSeed()
		By(fmt.Sprintf("Perl generates %d structures from seed %d (rerun with ginkgo --seed %d)", randomCount, seed, seed))
		type result struct {
			Nfreeze   string `json:"nfreeze_hex"`
			Freeze    string `json:"freeze_hex"`
			CNfreeze  string `json:"canonical_nfreeze_hex"`
			CFreeze   string `json:"canonical_freeze_hex"`
			NfreezeJS string `json:"nfreeze_json"`
			FreezeJS  string `json:"freeze_json"`
		}
		for batch := 0; batch < randomCount/randomBatch; batch++ {
			var r struct {
				Results []result `json:"results"`
			}
			call(map[string]any{"op": "random", "seed": seed + int64(batch), "count": randomBatch}, &r)
			Expect(r.Results).To(HaveLen(randomBatch))
			var goImages [][]byte
			var want [][]byte
			for i, res := range r.Results {
				where := fmt.Sprintf("structure %d of batch %d, seed %d", i, batch, seed)
				for _, c := range []struct {
					kind, own, canonical, json string
				}{{"nfreeze", res.Nfreeze, res.CNfreeze, res.NfreezeJS}, {"freeze", res.Freeze, res.CFreeze, res.FreezeJS}} {
					own, canonical := unhex(c.own), unhex(c.canonical)
					v, err := storable.UnmarshalValue(own)
					Expect(err).NotTo(HaveOccurred(), "%s %s: %x", c.kind, where, own)
					plain := storable.EncOptions{}
					if c.kind == "freeze" {
						plain.Order = storable.NativeOrder
					}
					again, err := mustEncMode(plain).MarshalValue(v)
					Expect(err).NotTo(HaveOccurred())
					Expect(again).To(Equal(own), "%s %s in Perl's hash order: %s", c.kind, where, hexDiff(again, own))
					sorted, err := modeOf[c.kind].MarshalValue(v)
					Expect(err).NotTo(HaveOccurred())
					Expect(sorted).To(Equal(canonical), "%s %s sorted: %s", c.kind, where, hexDiff(sorted, canonical))
					cv, err := storable.UnmarshalValue(canonical)
					Expect(err).NotTo(HaveOccurred())
					expectSameJSON(shown(cv), c.json, c.kind+" "+where)
					goImages = append(goImages, sorted)
					want = append(want, canonical)
				}
			}
			// Perl thaws Go's images and freezes them again to what it makes
			// of its own images (Perl's thaw is not always lossless: an empty
			// UTF-8 string comes back as bytes).
			for _, kind := range []string{"nfreeze", "freeze"} {
				var imgs [][]byte
				for i := range goImages {
					if (i%2 == 0) == (kind == "nfreeze") {
						imgs = append(imgs, goImages[i], want[i])
					}
				}
				res := perlThaw(imgs, kind)
				for i := 0; i < len(res); i += 2 {
					Expect(res[i].Error).To(BeEmpty(), "Perl thawing Go's %s %d of batch %d, seed %d", kind, i/2, batch, seed)
					Expect(res[i+1].Error).To(BeEmpty())
					got, perlOwn := unhex(res[i].Refrozen), unhex(res[i+1].Refrozen)
					Expect(got).To(Equal(perlOwn), "%s %d of batch %d, seed %d: %s", kind, i/2, batch, seed, hexDiff(got, perlOwn))
				}
			}
		}
	})
})

// gen makes a random structure that Perl's Storable thaws and freezes
// again to the same bytes: it avoids what Perl changes on the way (a
// second boolean immortal becomes a back-reference in Perl, a weak
// reference needs a strong one, an immortal cannot be blessed, every reference to an object of a class
// with overloading is an overloaded one, hook objects have the types of
// their classes, read-only immortals stay out of restricted hashes).
type gen struct {
	r     *rand.Rand
	pool  []perl.Referent
	nodes int
	bool  bool // a boolean was used
}

func newGen(seed, n uint64) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, n))}
}

func (g *gen) n(k int) int { return g.r.IntN(k) }

func (g *gen) root() perl.Value {
	switch g.n(6) {
	case 0:
		return g.scalar()
	case 1:
		return g.array(0)
	case 2:
		return g.hash(0)
	case 3:
		s := &perl.Scalar{}
		g.pool = append(g.pool, s)
		s.Value = g.value(1, false)
		return s
	}
	return g.value(0, false)
}

func (g *gen) text(max int) string {
	n := g.n(max)
	var b strings.Builder
	switch g.n(3) {
	case 0:
		for range n {
			b.WriteByte(byte(32 + g.n(95)))
		}
	case 1:
		for range n {
			b.WriteByte(byte(g.n(256)))
		}
	default:
		for range n {
			b.WriteRune([]rune{'A', 0xe9, 0x263a, 0x1F600, 0x10FFFD, rune(0x100 + g.n(0xD000))}[g.n(6)])
		}
	}
	return b.String()
}

func (g *gen) scalar() perl.Value {
	switch g.n(15) {
	case 0:
		return perl.Undef{}
	case 1:
		return perl.Int(g.n(256) - 128)
	case 2:
		return perl.Int(g.r.Int32())
	case 3:
		return perl.Int(g.r.Int64() - g.r.Int64())
	case 4:
		return perl.Uint(math.MaxUint64 - g.r.Uint64N(1000))
	case 5:
		return perl.Float((g.r.Float64() - 0.5) * math.Pow(10, float64(g.n(40)-20)))
	case 6:
		return perl.Float([]float64{0.5, -0.25, 1e300, 1 << 53, 1 << 63, math.Inf(1), math.Inf(-1), 3}[g.n(8)])
	case 7:
		return perl.Str(g.text(300))
	case 8:
		return perl.Bytes(g.text(20))
	case 9:
		return perl.VString{Literal: "v1.2.3", Value: perl.Bytes("\x01\x02\x03")}
	case 10:
		if !g.bool {
			g.bool = true
			return perl.Bool(g.n(2) == 0)
		}
		return perl.Bytes("1")
	case 11:
		return perl.Bytes(strings.Repeat("x", 256+g.n(300)))
	case 12:
		return perl.Bytes(fmt.Sprint(g.n(100)))
	case 13:
		// Never empty: Perl thaws an empty UTF-8 string as bytes.
		return perl.String(string(rune(0xa0+g.n(0x1000))) + "\u00e9")
	}
	return perl.Undef{Of: perl.UndefImmortal}
}

// value returns a scalar, maybe a reference. plain keeps immortals out.
func (g *gen) value(depth int, plain bool) perl.Value {
	g.nodes++
	k := g.n(14)
	if depth > 4 || g.nodes > 60 {
		k = 0
	}
	switch {
	case k <= 4:
		v := g.scalar()
		if plain {
			switch v.(type) {
			case perl.Bool:
				return perl.Bytes("b")
			case perl.Undef:
				return perl.Undef{}
			}
		}
		return v
	case k == 5 && len(g.pool) > 0:
		to := g.pool[g.n(len(g.pool))]
		// Weak references only to arrays and hashes: Perl cannot thaw a
		// weak reference to a scalar that holds a reference still being
		// thawed ("sv_upgrade from type 7 down to type 1").
		weak := g.n(3) == 0 && (to.Kind() == perl.KindArray || to.Kind() == perl.KindHash)
		return g.ref(to, weak)
	case k <= 7:
		return g.ref(g.array(depth), false)
	case k <= 9:
		return g.ref(g.hash(depth), false)
	case k == 10:
		s := &perl.Scalar{}
		g.pool = append(g.pool, s)
		if g.n(4) == 0 {
			s.Class = "Sc"
			s.Value = g.scalar()
			switch s.Value.(type) {
			case perl.Bool, perl.Undef:
				s.Value = perl.Int(1) // Perl cannot bless an immortal
			}
		} else {
			s.Value = g.value(depth+1, false)
		}
		return g.ref(s, false)
	case k == 11:
		return g.ref(g.object(depth), false)
	case k == 12:
		return g.ref(g.hook(depth), false)
	}
	re := &perl.Regexp{Class: "Regexp", Pattern: []string{"a.b", "x+y*", `\d+`, "caf\xe9"}[g.n(4)], Flags: []string{"", "i", "ms", "msix", "n"}[g.n(5)]}
	g.pool = append(g.pool, re)
	return g.ref(re, false)
}

func (g *gen) ref(to perl.Referent, weak bool) perl.Ref {
	return perl.Ref{To: to, Weak: weak, Overloaded: to.Blessed() == "StOverload"}
}

func (g *gen) array(depth int) *perl.Array {
	a := &perl.Array{}
	g.pool = append(g.pool, a)
	for range g.n(6) {
		switch g.n(12) {
		case 0:
			a.Elems = append(a.Elems, perl.Undef{Of: perl.UndefHole})
		case 1:
			s := &perl.Scalar{Value: g.scalar()} // an element something may refer to
			g.pool = append(g.pool, s)
			a.Elems = append(a.Elems, s)
		default:
			a.Elems = append(a.Elems, g.value(depth+1, false))
		}
	}
	return a
}

func (g *gen) hash(depth int) *perl.Hash {
	h := &perl.Hash{}
	g.pool = append(g.pool, h)
	restricted := g.n(8) == 0
	for range g.n(6) {
		k := g.text(12)
		if _, dup := h.Get(k); dup {
			continue // a value replaced would leave what it refers to unreferenced
		}
		if restricted {
			h.Set(k, g.value(depth+1, true))
		} else {
			h.Set(k, g.hashValue(depth))
		}
	}
	if restricted {
		h.Restricted = true
		for i := range h.Entries {
			if _, ok := h.Entries[i].Value.(perl.Ref); !ok && g.n(2) == 0 {
				h.Entries[i].Flags |= perl.KeyLocked
			}
		}
		if _, ok := h.Get("absent"); !ok {
			h.Entries = append(h.Entries, perl.HashEntry{Key: "absent", Value: perl.Undef{Of: perl.UndefImmortal}, Flags: perl.KeyPlaceholder | perl.KeyLocked})
		}
	}
	return h
}

func (g *gen) object(depth int) perl.Referent {
	switch g.n(3) {
	case 0:
		h := g.hash(depth)
		h.Class = []string{"Foo", "Bar::Baz"}[g.n(2)]
		return h
	case 1:
		a := g.array(depth)
		a.Class = []string{"Foo", "A::" + strings.Repeat("Long", 40)}[g.n(2)]
		return a
	}
	h := &perl.Hash{Class: "StOverload"}
	g.pool = append(g.pool, h)
	h.Set("v", g.hashValue(depth))
	return h
}

// hashValue returns a value for a hash that is not restricted.
func (g *gen) hashValue(depth int) perl.Value {
	v := g.value(depth+1, false)
	if u, ok := v.(perl.Undef); ok && u.Of == perl.UndefImmortal {
		// Perl thaws it as a hash value that cannot be referenced
		// (ImpFixture::TaggedJSON dies on it); Perl never writes one.
		v = perl.Undef{}
	}
	return v
}

func (g *gen) hook(depth int) perl.Referent {
	switch g.n(3) {
	case 0:
		return &perl.Hook{Class: "StHookScalar", Type: perl.HookScalar, Frozen: perl.Bytes(g.text(10))}
	case 1:
		h := &perl.Hook{Class: "StHookArray", Type: perl.HookArray, Frozen: perl.Bytes(g.text(10))}
		g.pool = append(g.pool, h)
		h.Refs = g.hookRefs(depth)
		return h
	}
	h := &perl.Hook{Class: "StHook", Type: perl.HookHash, Frozen: perl.Bytes(g.text(300))}
	g.pool = append(g.pool, h)
	h.Refs = g.hookRefs(depth)
	return h
}

func (g *gen) hookRefs(depth int) []perl.Value {
	var refs []perl.Value
	for range g.n(3) {
		if len(g.pool) > 0 && g.n(3) == 0 {
			refs = append(refs, g.ref(g.pool[g.n(len(g.pool))], false))
			continue
		}
		v := g.value(depth+1, false)
		if r, ok := v.(perl.Ref); ok && !r.Weak {
			refs = append(refs, perl.Ref{To: r.To})
			continue
		}
		s := &perl.Scalar{Value: v}
		g.pool = append(g.pool, s)
		refs = append(refs, perl.Ref{To: s})
	}
	return refs
}
