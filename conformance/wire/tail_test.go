package wire_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/conn/conntest"
)

// expectSameNumbers compares two messages as Net::IMP::Remote uses them:
// a decimal string is the integer it spells (Perl looks ids, ops and
// types up as hash keys and compares offsets as numbers).
func expectSameNumbers(got, want conn.Message) {
	GinkgoHelper()
	g, w := numbersOf(jsonOf(got)), numbersOf(jsonOf(want))
	Expect(g).To(Equal(w), "messages differ\n got %s\nwant %s", jsonOf(got), jsonOf(want))
}

// numbersOf reads JSON with every string that spells an integer as that
// integer.
func numbersOf(j []byte) any {
	GinkgoHelper()
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var v any
	Expect(d.Decode(&v)).To(Succeed())
	return asNumbers(v)
}

func asNumbers(v any) any {
	switch x := v.(type) {
	case string:
		if _, err := strconv.ParseInt(x, 10, 64); err == nil && !strings.HasPrefix(x, "+") {
			return json.Number(x)
		}
		if _, err := strconv.ParseUint(x, 10, 64); err == nil && !strings.HasPrefix(x, "+") {
			return json.Number(x)
		}
	case []any:
		for i := range x {
			x[i] = asNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = asNumbers(x[k])
		}
	}
	return v
}

// tailCuts returns the cuts of a frame at which Perl's decoder is fed
// its beginning: every byte of frames up to 512 bytes, the first 16 and
// the last 64 bytes of longer ones (where the outer array's count and
// the last scalar are).
func tailCuts(n int) []int {
	var cuts []int
	for c := 1; c < n; c++ {
		if n <= 512 || c <= 16 || c >= n-64 {
			cuts = append(cuts, c)
		}
	}
	return cuts
}

// perlMisreads returns the cuts at which Perl's incremental Sereal
// decoder, given the beginning of frame, returns an RPC or consumes
// bytes instead of waiting for the rest. It signals that it needs more
// by dying with the bytes left alone ("Unexpected termination of
// packet", "end of packet reached before varint parsed"), which
// Net::IMP::Remote takes as a wait: its eval fails and it reads more.
func perlMisreads(frame []byte) []string {
	GinkgoHelper()
	var bad []string
	for _, c := range tailCuts(len(frame)) {
		var r decodeReply
		call(map[string]any{"op": "decode", "wire": conntest.Sereal, "hex": hexOf(frame[:c])}, &r)
		if len(r.RPCs) > 0 || r.Rest != c {
			bad = append(bad, fmt.Sprintf("cut %d: %v %q rest %d", c, r.RPCs, r.Failure, r.Rest))
		}
	}
	return bad
}

// hasLongArray reports whether a Sereal document's outer array has 16 or
// more elements (REFN ARRAY count after the 6-byte header): the count is
// a varint that cannot be written otherwise.
func hasLongArray(frame []byte) bool {
	return len(frame) > 7 && frame[6] == 0x28 && frame[7] == 0x2b
}

var _ = Describe("Perl's Sereal decoder fed a frame in pieces", func() {
	It("waits for the rest of every golden RPC Go writes with SerealStringTail, where it misreads Perl's own frames", func() {
		needPerl()
		needVectors()
		w := conn.Options{Format: conn.Sereal, SerealStringTail: true}.MustWire()
		perlWire := wireOf(conntest.Sereal, conn.Options{})
		perlBug := 0
		for _, v := range vectors {
			By(v.Name)
			m := orRaw(perlWire.Decode(v.Frame(conntest.Sereal)))
			frame, err := w.Append(nil, m)
			Expect(err).NotTo(HaveOccurred())
			bad := perlMisreads(frame)
			if hasLongArray(frame) {
				// Unavoidable: the count of an outer array of 16 or more
				// elements ends the bytes Perl has at cut 8.
				Expect(bad).To(HaveLen(1), v.Name)
				Expect(bad[0]).To(HavePrefix("cut 8:"), v.Name)
				continue
			}
			Expect(bad).To(BeEmpty(), v.Name)
			if strings.Contains(v.UpstreamDecode[conntest.Sereal], "UPSTREAM BUG") {
				Expect(perlMisreads(v.Frame(conntest.Sereal))).NotTo(BeEmpty(), "Perl's own frame of %s", v.Name)
				perlBug++
			}
		}
		Expect(perlBug).To(BeNumerically(">", 30), "vectors whose Perl frame Perl misreads in pieces")
	})
})
