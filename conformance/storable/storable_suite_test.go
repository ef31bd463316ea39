// Package storable_test checks the storable package against Perl's own
// Storable (3.26 here) in both directions: images Perl freezes decode in
// Go to what Perl thaws, images Go encodes thaw in Perl to what Go meant,
// and both write the same bytes wherever Perl's output is deterministic.
// Perl's side is perl-fixtures/storable-helper.pl, started once.
package storable_test

import (
	"context"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
	"github.com/goimp/imprpc/storable"
)

func TestStorable(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Storable: Go and Perl")
}

var helper *perlproc.Proc

var _ = BeforeSuite(func() {
	if ok, reason := perlproc.HaveModule("Storable", "JSON::PP", "Hash::Util", "Scalar::Util"); !ok {
		Skip(reason)
	}
	var err error
	helper, err = perlproc.Start("storable-helper.pl", perlproc.Options{Stderr: GinkgoWriter})
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
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	Expect(helper.Call(ctx, req, reply)).To(Succeed())
}

// images are the four images Perl writes of one value.
var imageKinds = []string{"nfreeze", "freeze", "nstore", "store"}

type freezeReply struct {
	Nfreeze string            `json:"nfreeze_hex"`
	Freeze  string            `json:"freeze_hex"`
	Nstore  string            `json:"nstore_hex"`
	Store   string            `json:"store_hex"`
	JSON    map[string]string `json:"json"`
}

func (r freezeReply) image(kind string) []byte {
	GinkgoHelper()
	h := map[string]string{"nfreeze": r.Nfreeze, "freeze": r.Freeze, "nstore": r.Nstore, "store": r.Store}[kind]
	return unhex(h)
}

// perlFreeze has Perl evaluate expr and freeze the result in every way,
// with sorted hash keys.
func perlFreeze(expr string) freezeReply {
	GinkgoHelper()
	var r freezeReply
	call(map[string]any{"op": "freeze", "expr": expr, "canonical": 1}, &r)
	return r
}

type thawResult struct {
	JSON     string `json:"json"`
	Refrozen string `json:"refrozen_hex"`
	Error    string `json:"error"`
}

// perlThaw has Perl thaw each image; refreeze ("nfreeze", "freeze" or "")
// makes it freeze the result again, with sorted keys.
func perlThaw(images [][]byte, refreeze string) []thawResult {
	GinkgoHelper()
	hexes := make([]string, len(images))
	for i, img := range images {
		hexes[i] = hex.EncodeToString(img)
	}
	var r struct {
		Results []thawResult `json:"results"`
	}
	call(map[string]any{"op": "thaw", "images_hex": hexes, "refreeze": refreeze, "canonical": 1}, &r)
	Expect(r.Results).To(HaveLen(len(images)))
	return r.Results
}

func unhex(s string) []byte {
	GinkgoHelper()
	b, err := hex.DecodeString(s)
	Expect(err).NotTo(HaveOccurred())
	return b
}

// shown returns the tagged JSON of a decoded value as Perl shows it after
// thawing: hook objects become what the test classes' STORABLE_thaw makes
// of them (which changes v: show a value last).
func shown(v perl.Value) string {
	GinkgoHelper()
	j, err := taggedjson.Marshal(thawHooks(v))
	Expect(err).NotTo(HaveOccurred())
	return string(j)
}

// expectSameJSON compares two tagged JSON texts as values.
func expectSameJSON(goJSON, perlJSON string, what string) {
	GinkgoHelper()
	d, err := taggedjson.Diff([]byte(goJSON), []byte(perlJSON))
	Expect(err).NotTo(HaveOccurred())
	Expect(d).To(BeEmpty(), "%s: Go and Perl differ\ngo:   %s\nperl: %s", what, goJSON, perlJSON)
}

// encModeLike returns the EncMode that writes images like img (same order
// and format), with sorted keys.
func encModeLike(img []byte) storable.EncMode {
	GinkgoHelper()
	h, err := storable.ParseHeader(img)
	Expect(err).NotTo(HaveOccurred())
	o := storable.EncOptions{Canonical: true}
	if h.File {
		o.Format = storable.FileImage
	}
	if !h.NetOrder {
		o.Order = storable.NativeOrder
	}
	m, err := o.EncMode()
	Expect(err).NotTo(HaveOccurred())
	return m
}

func mustEncMode(o storable.EncOptions) storable.EncMode {
	m, err := o.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}

var (
	nfreezeMode = mustEncMode(storable.EncOptions{Canonical: true})
	freezeMode  = mustEncMode(storable.EncOptions{Canonical: true, Order: storable.NativeOrder})
	nstoreMode  = mustEncMode(storable.EncOptions{Canonical: true, Format: storable.FileImage})
	storeMode   = mustEncMode(storable.EncOptions{Canonical: true, Order: storable.NativeOrder, Format: storable.FileImage})
	modeOf      = map[string]storable.EncMode{"nfreeze": nfreezeMode, "freeze": freezeMode, "nstore": nstoreMode, "store": storeMode}
)

// hexDiff shows where two images part, for failure messages.
func hexDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-24)
	return "first difference at byte " + strconv.Itoa(i) + " of " + strconv.Itoa(len(a)) + " and " + strconv.Itoa(len(b)) +
		"\n  ..." + hex.EncodeToString(a[lo:min(len(a), i+24)]) + "\n  ..." + hex.EncodeToString(b[lo:min(len(b), i+24)]) +
		"\n  " + hex.EncodeToString(a) + "\n  " + hex.EncodeToString(b)
}
