package wire_test

import (
	"bytes"
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/conn/conntest"
	"github.com/goimp/imprpc/perl"
)

// vectorEntries makes one table entry per golden vector and wire.
func vectorEntries() []TableEntry {
	if vectorsErr != nil {
		return []TableEntry{Entry("golden vectors are missing", conntest.Vector{}, "")}
	}
	var es []TableEntry
	for _, v := range vectors {
		for _, w := range wireNames {
			es = append(es, Entry(v.Name+" on "+w, v, w))
		}
	}
	return es
}

func needVectors() {
	if vectorsErr != nil {
		Skip("golden vectors: " + vectorsErr.Error())
	}
}

// knownDeviation says why a vector's bytes cannot be reproduced, or "".
func knownDeviation(v conntest.Vector, wire string) string {
	if v.Name == "new_analyzer_repeated_keys" && wire == conntest.Sereal {
		// Perl's encoder writes REFN HASH or HASHREF_n by the hash's
		// reference count, which a decoded value does not show: here
		// the outer hash was held by the sender and the inner ones
		// were not. Our encoder writes every hash of a new_analyzer
		// context as REFN HASH, as the real client's {meta => {...}}
		// goes out.
		return "Sereal REFN HASH vs HASHREF_n of inner hashes"
	}
	return ""
}

var _ = Describe("Golden vectors", func() {
	DescribeTable("decode to the message Perl encoded, by the fast path and in a stream",
		func(v conntest.Vector, wire string) {
			needVectors()
			w := wireOf(wire, conn.Options{})
			frame := v.Frame(wire)
			m, err := w.Decode(frame)
			m = orRaw(m, err)
			expectSameMessage(m, messageOf(v.Opcode, v.WireArgs(wire)))
			Expect(m.Op()).To(Equal(conn.Op(v.Opcode)))

			// The same inside a stream, after another frame.
			first, err := w.Append(nil, &conn.DeleteAnalyzer{ID: 9})
			Expect(err).NotTo(HaveOccurred())
			all, err := decodeAll(w, append(first, frame...))
			Expect(err).NotTo(HaveOccurred())
			Expect(all).To(HaveLen(2))
			expectSameMessage(all[1], m)
		},
		vectorEntries())

	DescribeTable("re-encode to the bytes Perl wrote",
		func(v conntest.Vector, wire string) {
			needVectors()
			if why := knownDeviation(v, wire); why != "" {
				Skip("known deviation: " + why)
			}
			w := wireOf(wire, conn.Options{})
			m := orRaw(w.Decode(v.Frame(wire)))
			got, err := w.Append(nil, m)
			Expect(err).NotTo(HaveOccurred())
			Expect(hexOf(got)).To(Equal(hexOf(v.Frame(wire))))
		},
		vectorEntries())

	DescribeTable("encode Perl's arguments to Perl's bytes (sorted keys for hashes in Perl's random order)",
		func(v conntest.Vector, wire string) {
			needVectors()
			if why := knownDeviation(v, wire); why != "" {
				Skip("known deviation: " + why)
			}
			m := messageOf(v.Opcode, v.Args)
			switch v.Name {
			case "data_latin1_upgraded":
				// Tagged JSON does not show the UTF-8 flag of a string of
				// Latin-1 characters; the frame shows it.
				d := m.(*conn.Data)
				d.Data, d.UTF8 = []byte(perl.Latin1ToUTF8(string(d.Data))), true
			case "result_log_doubles":
				// 2**53 and 3.0 are doubles in Perl; the JSON shows them
				// as integers.
				args := m.(*conn.Result).Result.Args
				for i := 6; i < len(args); i += 2 {
					if n, ok := args[i].(perl.Int); ok {
						args[i] = perl.Float(n)
					}
				}
			}
			opts := conn.Options{}
			want := v.Frame(wire)
			if !v.Deterministic {
				opts.SortKeys = true
				want = v.SortedFrame(wire)
			}
			got, err := wireOf(wire, opts).Append(nil, m)
			Expect(err).NotTo(HaveOccurred())
			Expect(hexOf(got)).To(Equal(hexOf(want)))
		},
		vectorEntries())

	DescribeTable("survive any cut: a frame fed in two pieces decodes the same, a frame cut short is \"eof inside operation\"",
		func(v conntest.Vector, wire string) {
			needVectors()
			w := wireOf(wire, conn.Options{})
			frame := v.Frame(wire)
			whole, err := decodeAll(w, frame)
			Expect(err).NotTo(HaveOccurred())
			for cut := 1; cut < len(frame); cut = nextCut(cut, len(frame)) {
				got, err := decodeAllSplit(w, frame, cut)
				Expect(err).NotTo(HaveOccurred(), "split at %d", cut)
				Expect(got).To(HaveLen(1))
				expectSameMessage(got[0], whole[0])

				_, err = decodeAll(w, frame[:cut])
				Expect(errors.Is(err, errUnexpectedEOF)).To(BeTrue(), "cut at %d: %v", cut, err)
				Expect(err.Error()).To(ContainSubstring("eof inside operation"))
			}
		},
		vectorEntries())
})

var _ = Describe("The default Sereal protocol", func() {
	It("writes protocol 3 documents that differ from Perl's 5 only in the version byte for plain RPCs", func() {
		needVectors()
		w3 := conn.Options{Format: conn.Sereal}.MustWire()
		Expect(w3.Options().SerealProtocol).To(Equal(3))
		w5 := wireOf(conntest.Sereal, conn.Options{})
		for _, v := range vectors {
			m := orRaw(w5.Decode(v.Frame(conntest.Sereal)))
			got, err := w3.Append(nil, m)
			Expect(err).NotTo(HaveOccurred())
			want := bytes.Clone(v.Frame(conntest.Sereal))
			want[4] = 3
			if knownDeviation(v, conntest.Sereal) == "" {
				Expect(hexOf(got)).To(Equal(hexOf(want)), v.Name)
			}
		}
	})
})

// nextCut returns the cut after cut: every position in frames up to 4 KiB
// and in the first and last 512 bytes of longer ones, every 509th byte in
// between (a 70000-byte frame would otherwise take minutes).
func nextCut(cut, n int) int {
	if n <= 4096 || cut < 512 || cut >= n-512 {
		return cut + 1
	}
	return min(cut+509, n-512)
}
