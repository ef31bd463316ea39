package storable_test

import (
	"encoding/binary"
	"math"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/storable/handimg"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/storable"
)

// Images of other machines cannot be thawed by the Perl here (it refuses
// another byte order or other sizes), so the same image is built for this
// machine, Perl thaws that one, and Go's decoding of the other machine's
// image must show the same.
var _ = Describe("Hand-made images of other machines", func() {
	var entries []TableEntry
	for _, c := range handimg.Cases {
		for _, m := range handimg.Others {
			if c.For(m) {
				entries = append(entries, Entry(c.Name+", written by "+m.Name, c, m))
			}
		}
	}
	DescribeTable("decode in Go to what Perl thaws from the same image of this machine",
		func(c handimg.Case, m handimg.Machine) {
			host := c.Image(handimg.Host)
			v, err := storable.UnmarshalValue(c.Image(m))
			Expect(err).NotTo(HaveOccurred(), "%x", c.Image(m))
			var want string
			if c.PerlMisreads != "" {
				By("Perl does not read this image: " + c.PerlMisreads + "; comparing with Go's decoding of this machine's image")
				hv, err := storable.UnmarshalValue(host)
				Expect(err).NotTo(HaveOccurred())
				want = shown(hv)
			} else {
				t := perlThaw([][]byte{host}, "")[0]
				Expect(t.Error).To(BeEmpty(), "Perl thawing %x", host)
				want = t.JSON
			}
			expectSameJSON(shown(v), want, c.Name+" of "+m.Name)
		},
		entries,
	)
})

// decodeCase decodes the image of the case named name for m.
func decodeCase(name string, m handimg.Machine) perl.Value {
	GinkgoHelper()
	for _, c := range handimg.Cases {
		if c.Name == name {
			v, err := storable.UnmarshalValue(c.Image(m))
			Expect(err).NotTo(HaveOccurred())
			return v
		}
	}
	Fail("no hand-made case " + name)
	return nil
}

var _ = Describe("Hand-made images", func() {
	It("mean what the format says: shared and cyclic references", func() {
		inner := &perl.Array{Elems: []perl.Value{nil}}
		five := &perl.Scalar{Value: perl.Int(5)}
		inner.Elems[0] = five
		root := &perl.Array{}
		root.Elems = []perl.Value{perl.Ref{To: inner}, perl.Ref{To: inner}, perl.Ref{To: five}, perl.Ref{To: root}}
		Expect(perl.Diff(root, decodeCase("shared and cyclic references", handimg.Host))).To(BeEmpty())
	})

	It("mean what the format says: large objects (SX_LOBJECT)", func() {
		big := &perl.Scalar{Value: perl.Ref{To: perl.NewArray(perl.Int(1), perl.Int(2))}}
		want := perl.NewArray(perl.Bytes("abc"), perl.String("\u263a"), big, perl.Ref{To: big})
		Expect(perl.Diff(want, decodeCase("large objects (SX_LOBJECT)", handimg.Host))).To(BeEmpty())
		h := perl.NewHash(1)
		h.Set("k", perl.Int(3))
		Expect(perl.Diff(perl.NewArray(perl.HashRef(h), perl.HashRef(hash("\u263a", perl.Int(1)))),
			decodeCase("large hashes (SX_LOBJECT)", handimg.Host))).To(BeEmpty())
		hook := &perl.Hook{Class: "StHook", Type: perl.HookHash, Frozen: perl.Bytes("ab")}
		Expect(perl.Diff(hook, decodeCase("large hook (SX_LOBJECT)", handimg.Host))).To(BeEmpty())
	})

	It("mean what the format says: booleans of binary minor 12 (SX_BOOLEAN_TRUE, SX_BOOLEAN_FALSE)", func() {
		m := handimg.Machine{Net: true, Minor: 12, Booleans: true}
		want := perl.NewArray(perl.Bool(true), perl.Bool(false))
		Expect(perl.Diff(want, decodeCase("booleans", m))).To(BeEmpty())
		Expect(perl.Diff(perl.Bool(true), decodeCase("boolean at the root", m))).To(BeEmpty())
	})

	It("round long doubles to the nearest float64, in every format and with each LongDouble option", func() {
		// 1 + 2**-60 in x87: a mantissa bit below float64's precision.
		x87 := make([]byte, 16)
		binary.LittleEndian.PutUint64(x87, 1<<63|1<<3)
		binary.LittleEndian.PutUint16(x87[8:], 16383)
		m := handimg.Machine{IVSize: 8, IntSize: 4, LongSize: 8, PtrSize: 8, NVSize: 16, NV: handimg.X87}
		img := append(handimg.New(m).Op(handimg.Double).Bytes(), x87...)
		for _, ld := range []storable.LongDouble{storable.LongDoubleAuto, storable.LongDoubleX87} {
			dm, err := storable.DecOptions{LongDouble: ld}.DecMode()
			Expect(err).NotTo(HaveOccurred())
			Expect(dm.UnmarshalValue(img)).To(Equal(perl.Float(1)), "LongDouble %d", ld)
		}
		for _, c := range []struct {
			m    handimg.Machine
			opt  storable.LongDouble
			want float64
		}{
			{handimg.Machine{IVSize: 8, NVSize: 16, NV: handimg.Binary128}, storable.LongDoubleBinary128, math.Inf(-1)},
			{handimg.Machine{IVSize: 8, NVSize: 16, NV: handimg.Binary128, BigEndian: true}, storable.LongDoubleAuto, 5e-324},
			{handimg.Machine{IVSize: 8, NVSize: 16, NV: handimg.DoubleDbl, BigEndian: true}, storable.LongDoubleDoubleDouble, -2.5},
			{handimg.Machine{IVSize: 4, NVSize: 12, NV: handimg.X87}, storable.LongDoubleAuto, 1e-310},
		} {
			c.m.IntSize, c.m.LongSize, c.m.PtrSize = 4, 8, 8
			dm, err := storable.DecOptions{LongDouble: c.opt}.DecMode()
			Expect(err).NotTo(HaveOccurred())
			Expect(dm.UnmarshalValue(handimg.New(c.m).NV(c.want).Bytes())).To(Equal(perl.Float(c.want)), "%+v", c.m)
		}
		v, err := storable.UnmarshalValue(handimg.New(m).NV(math.NaN()).Bytes())
		Expect(err).NotTo(HaveOccurred())
		Expect(math.IsNaN(float64(v.(perl.Float)))).To(BeTrue())
	})
})
