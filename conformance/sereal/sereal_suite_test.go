// Package sereal_test checks the sereal package against Perl's own
// Sereal::Encoder and Sereal::Decoder (5.003 here) in both directions:
// documents Perl writes, with every protocol version, compression and
// option that changes the bytes, decode in Go to what Perl's decoder makes
// of them; documents Go writes decode in Perl to what Go meant; seeded
// random structures go both ways; and a stream of Perl's documents cut at
// every byte gives every document back. Perl's side is
// perl-fixtures/sereal-helper.pl, started once.
package sereal_test

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
	"github.com/goimp/imprpc/sereal"
)

func TestSereal(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Sereal: Go and Perl")
}

var helper *perlproc.Proc

var _ = BeforeSuite(func() {
	if ok, reason := perlproc.HaveModule("Sereal::Encoder", "Sereal::Decoder", "JSON::PP", "Scalar::Util"); !ok {
		Skip(reason)
	}
	var err error
	helper, err = perlproc.Start("sereal-helper.pl", perlproc.Options{Stderr: GinkgoWriter})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if helper != nil {
		Expect(helper.Close()).To(Succeed())
	}
})

// call sends a request to the helper.
func call(req map[string]any, reply any) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	Expect(helper.Call(ctx, req, reply)).To(Succeed())
}

// perlOpts are options of Perl's Sereal::Encoder->new.
type perlOpts map[string]int

// Perl's compression constants (SRL_SNAPPY, SRL_ZLIB, SRL_ZSTD).
const (
	srlSnappy = 1
	srlZlib   = 2
	srlZstd   = 3
)

// encMode returns the EncMode that writes what Perl writes with o.
func (o perlOpts) encMode() sereal.EncMode {
	GinkgoHelper()
	eo, err := sereal.PerlEncOptions(o)
	Expect(err).NotTo(HaveOccurred())
	m, err := eo.EncMode()
	Expect(err).NotTo(HaveOccurred())
	return m
}

// perlDoc is a document Perl wrote, with what Perl's decoder makes of it
// (or why it cannot read it).
type perlDoc struct {
	Name  string `json:"name"`
	Hex   string `json:"hex"`
	JSON  string `json:"json"`
	Error string `json:"error"`
}

func (d perlDoc) bytes() []byte {
	GinkgoHelper()
	b, err := hex.DecodeString(d.Hex)
	Expect(err).NotTo(HaveOccurred())
	return b
}

// perlDecoded is what Perl's decoder made of one of our documents.
type perlDecoded struct {
	JSON      string // tagged JSON, "" when Perl refused it
	Error     string
	Reencoded []byte // the value encoded again by Perl, when asked
}

// perlDecode has Perl decode docs, and encode each value again with
// reencode when it is not nil.
func perlDecode(docs [][]byte, reencode perlOpts) []perlDecoded {
	GinkgoHelper()
	hexes := make([]string, len(docs))
	for i, d := range docs {
		hexes[i] = hex.EncodeToString(d)
	}
	req := map[string]any{"op": "decode", "docs": hexes}
	if reencode != nil {
		req["reencode"] = reencode
	}
	var r struct {
		Values    []*string `json:"values"`
		Errors    []string  `json:"errors"`
		Reencoded []string  `json:"reencoded"`
	}
	call(req, &r)
	Expect(r.Values).To(HaveLen(len(docs)))
	out := make([]perlDecoded, len(docs))
	for i := range docs {
		out[i].Error = r.Errors[i]
		if r.Values[i] != nil {
			out[i].JSON = *r.Values[i]
		}
		if r.Reencoded[i] != "" {
			b, err := hex.DecodeString(r.Reencoded[i])
			Expect(err).NotTo(HaveOccurred())
			out[i].Reencoded = b
		}
	}
	return out
}

// shown returns the tagged JSON of a value.
func shown(v perl.Value) string {
	GinkgoHelper()
	j, err := taggedjson.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return string(j)
}

// expectSameJSON compares two tagged JSON texts as values.
func expectSameJSON(goJSON, perlJSON string, what string) {
	GinkgoHelper()
	d, err := taggedjson.Diff([]byte(goJSON), []byte(perlJSON))
	Expect(err).NotTo(HaveOccurred(), "%s: go %s, perl %s", what, goJSON, perlJSON)
	Expect(d).To(BeEmpty(), "%s: Go and Perl differ\ngo:   %s\nperl: %s", what, goJSON, perlJSON)
}
