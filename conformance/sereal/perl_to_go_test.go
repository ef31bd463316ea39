package sereal_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/sereal"
)

var _ = Describe("Documents written by Perl's Sereal::Encoder", func() {
	DescribeTable("decode in Go to what Perl's Sereal::Decoder makes of them, and Go's encoding of that decodes in Perl to the same",
		func(opts perlOpts) {
			var r struct {
				Docs []perlDoc `json:"docs"`
			}
			call(map[string]any{"op": "corpus", "opts": opts}, &r)
			Expect(len(r.Docs)).To(BeNumerically(">", 50))
			mode := opts.encMode()
			var again [][]byte
			var want []perlDoc
			for _, d := range r.Docs {
				doc := d.bytes()
				v, err := sereal.UnmarshalValue(doc)
				Expect(err).NotTo(HaveOccurred(), "%s: %s", d.Name, d.Hex)
				n, err := sereal.DocumentLength(doc)
				Expect(err).NotTo(HaveOccurred(), d.Name)
				Expect(n).To(Equal(len(doc)), d.Name)
				if d.Error != "" {
					// Perl cannot read what it wrote (REFN ALIAS with
					// aliased_dedupe_strings); Go reads it, and writes
					// it so that Perl can.
					Expect(opts).To(HaveKey("aliased_dedupe_strings"), "%s: Perl: %s", d.Name, d.Error)
				} else {
					expectSameJSON(shown(v), d.JSON, d.Name)
				}
				b, err := mode.MarshalValue(v)
				Expect(err).NotTo(HaveOccurred(), d.Name)
				again = append(again, b)
				want = append(want, d)
			}
			for i, got := range perlDecode(again, nil) {
				Expect(got.Error).To(BeEmpty(), "%s: Perl cannot read Go's %x", want[i].Name, again[i])
				if want[i].Error == "" {
					expectSameJSON(got.JSON, want[i].JSON, want[i].Name+" encoded by Go")
				}
			}
		},
		Entry("with the default options (protocol 5)", perlOpts{}),
		Entry("with protocol_version 1", perlOpts{"protocol_version": 1}),
		Entry("with protocol_version 2", perlOpts{"protocol_version": 2}),
		Entry("with protocol_version 3", perlOpts{"protocol_version": 3}),
		Entry("with protocol_version 4", perlOpts{"protocol_version": 4}),
		Entry("with protocol_version 5", perlOpts{"protocol_version": 5}),
		Entry("compressed with Snappy", perlOpts{"compress": srlSnappy, "compress_threshold": 0}),
		Entry("compressed with zlib", perlOpts{"compress": srlZlib, "compress_threshold": 0}),
		Entry("compressed with zstd", perlOpts{"compress": srlZstd, "compress_threshold": 0}),
		Entry("compressed with Snappy in protocol 1 (not incremental)", perlOpts{"snappy": 1, "protocol_version": 1, "compress_threshold": 0}),
		Entry("compressed with incremental Snappy in protocol 1", perlOpts{"snappy_incr": 1, "protocol_version": 1, "compress_threshold": 0}),
		Entry("compressed with zlib in protocol 3", perlOpts{"compress": srlZlib, "protocol_version": 3, "compress_threshold": 0}),
		Entry("canonical", perlOpts{"canonical": 1}),
		Entry("with sort_keys 2 (Perl's string order)", perlOpts{"sort_keys": 2}),
		Entry("with sort_keys 3 and canonical_refs", perlOpts{"sort_keys": 3, "canonical_refs": 1}),
		Entry("with dedupe_strings", perlOpts{"dedupe_strings": 1}),
		Entry("with aliased_dedupe_strings", perlOpts{"aliased_dedupe_strings": 1}),
		Entry("with no_shared_hashkeys", perlOpts{"no_shared_hashkeys": 1}),
		Entry("with freeze_callbacks (FREEZE/THAW objects)", perlOpts{"freeze_callbacks": 1}),
	)
})
