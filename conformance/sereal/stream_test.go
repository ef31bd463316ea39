package sereal_test

import (
	"bytes"
	"io"
	"strconv"
	"testing/iotest"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/sereal"
)

var _ = Describe("A stream of Perl's documents", func() {
	It("cut at every byte position gives every document back, in order, equal to what Perl decodes", func() {
		var stream []byte
		var want []perlDoc
		for _, opts := range []perlOpts{{}, {"protocol_version": 1}, {"compress": srlZlib, "compress_threshold": 0}, {"snappy": 1, "protocol_version": 1, "compress_threshold": 0}} {
			var r struct {
				Docs []perlDoc `json:"docs"`
			}
			call(map[string]any{"op": "random", "seed": GinkgoRandomSeed(), "count": 5, "opts": opts}, &r)
			for _, d := range r.Docs {
				stream = append(stream, d.bytes()...)
				want = append(want, d)
			}
		}
		wantJSON := make([]string, len(want))
		for i, d := range want {
			v, err := sereal.UnmarshalValue(d.bytes())
			Expect(err).NotTo(HaveOccurred())
			wantJSON[i] = shown(v)
			expectSameJSON(wantJSON[i], d.JSON, d.Hex)
		}
		By("feeding the stream in two pieces, cut at each of its " + strconv.Itoa(len(stream)) + " bytes")
		for cut := 0; cut <= len(stream); cut++ {
			// Each Read returns at most what one part holds, as a socket
			// returns what has arrived.
			dec := sereal.NewDecoder(io.MultiReader(bytes.NewReader(stream[:cut]), bytes.NewReader(stream[cut:])))
			for i := range want {
				var v perl.Value
				Expect(dec.Decode(&v)).To(Succeed(), "cut at %d: document %d", cut, i)
				Expect(shown(v)).To(Equal(wantJSON[i]), "cut at %d: document %d", cut, i)
			}
			Expect(dec.Decode(new(perl.Value))).To(MatchError(io.EOF), "cut at %d", cut)
		}
		By("feeding it one byte at a time")
		dec := sereal.NewDecoder(iotest.OneByteReader(bytes.NewReader(stream)))
		for i := range want {
			var v perl.Value
			Expect(dec.Decode(&v)).To(Succeed())
			Expect(shown(v)).To(Equal(wantJSON[i]))
		}
		Expect(dec.Decode(new(perl.Value))).To(MatchError(io.EOF))
	})
})
