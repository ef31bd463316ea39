package wire_test

import (
	"bytes"
	"io"
	"testing/iotest"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/conn/conntest"
)

var errUnexpectedEOF = io.ErrUnexpectedEOF

// decodeAllSplit reads a stream that arrives in two pieces, split at cut.
func decodeAllSplit(w conn.Wire, b []byte, cut int) ([]conn.Message, error) {
	return readAll(w.NewReader(io.MultiReader(bytes.NewReader(b[:cut]), bytes.NewReader(b[cut:]))))
}

func readAll(r *conn.Reader) ([]conn.Message, error) {
	var out []conn.Message
	for {
		m, err := r.ReadMessage()
		if ue, ok := err.(*conn.UnknownOpError); ok {
			m, err = ue.Message(), nil
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

func streamEntries() []TableEntry {
	if streamsErr != nil {
		return []TableEntry{Entry("golden streams are missing", conntest.Stream{})}
	}
	var es []TableEntry
	for _, s := range streams {
		es = append(es, Entry(s.Name+" ("+s.Source+", "+s.Direction+")", s))
	}
	return es
}

func needStreams() {
	if streamsErr != nil {
		Skip("golden streams: " + streamsErr.Error())
	}
}

// expectStreamFrames checks messages against a stream's frames.
func expectStreamFrames(got []conn.Message, s conntest.Stream) {
	GinkgoHelper()
	Expect(got).To(HaveLen(len(s.Frames)))
	for i, f := range s.Frames {
		expectSameMessage(got[i], messageOf(f.Opcode, f.Args))
	}
}

var _ = Describe("Golden streams", func() {
	DescribeTable("read as their frames, at their offsets",
		func(s conntest.Stream) {
			needStreams()
			w := wireOf(s.Wire, conn.Options{})
			r := w.NewReader(bytes.NewReader(s.Bytes()))
			var got []conn.Message
			for i, f := range s.Frames {
				Expect(r.Offset()).To(Equal(int64(f.Offset)), "frame %d", i)
				m, err := r.ReadMessage()
				Expect(err).NotTo(HaveOccurred())
				got = append(got, m)
			}
			_, err := r.ReadMessage()
			Expect(err).To(Equal(io.EOF))
			Expect(r.Offset()).To(Equal(int64(s.Length)))
			expectStreamFrames(got, s)
		},
		streamEntries())

	DescribeTable("read as the same frames when split at every byte position, and fed a byte at a time",
		func(s conntest.Stream) {
			needStreams()
			w := wireOf(s.Wire, conn.Options{})
			b := s.Bytes()
			got, err := readAll(w.NewReader(iotest.OneByteReader(bytes.NewReader(b))))
			Expect(err).NotTo(HaveOccurred())
			expectStreamFrames(got, s)
			for cut := 0; cut <= len(b); cut++ {
				got, err := decodeAllSplit(w, b, cut)
				Expect(err).NotTo(HaveOccurred(), "split at %d", cut)
				expectStreamFrames(got, s)
			}
		},
		streamEntries())

	DescribeTable("cut short anywhere, give the frames before the cut, then a clean end or \"eof inside operation\"",
		func(s conntest.Stream) {
			needStreams()
			w := wireOf(s.Wire, conn.Options{})
			b := s.Bytes()
			for cut := 0; cut <= len(b); cut++ {
				complete := 0
				for _, f := range s.Frames {
					if f.Offset+f.Length <= cut {
						complete++
					}
				}
				got, err := readAll(w.NewReader(bytes.NewReader(b[:cut])))
				Expect(got).To(HaveLen(complete), "cut at %d", cut)
				atBoundary := complete == len(s.Frames) && cut == len(b) || complete < len(s.Frames) && s.Frames[complete].Offset == cut
				if atBoundary {
					Expect(err).NotTo(HaveOccurred(), "cut at %d", cut)
					continue
				}
				var fe *conn.FrameError
				Expect(err).To(BeAssignableToTypeOf(fe), "cut at %d", cut)
				Expect(err.Error()).To(ContainSubstring("eof inside operation"))
				Expect(err.(*conn.FrameError).Offset).To(Equal(int64(s.Frames[complete].Offset)))
			}
		},
		streamEntries())

	DescribeTable("re-encode frame by frame to the bytes of the stream (Storable always; Sereal where the hash order is Perl's)",
		func(s conntest.Stream) {
			needStreams()
			w := wireOf(s.Wire, conn.Options{})
			got, err := readAll(w.NewReader(bytes.NewReader(s.Bytes())))
			Expect(err).NotTo(HaveOccurred())
			var out []byte
			for _, m := range got {
				out, err = w.Append(out, m)
				Expect(err).NotTo(HaveOccurred())
			}
			Expect(hexOf(out)).To(Equal(s.Hex))
		},
		streamEntries())
})
