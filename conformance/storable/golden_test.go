package storable_test

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
	"github.com/goimp/imprpc/storable"
)

// The golden vectors of ../shared/golden: IMP RPC frames that the Perl
// modules Net::IMP::Remote::Storable wrote, each a 6-byte header and the
// nfreeze image of the arguments.

type goldenVector struct {
	Name          string          `json:"name"`
	StorableHex   string          `json:"storable_hex"`
	SortedHex     string          `json:"storable_sorted_hex"`
	Args          json.RawMessage `json:"args"`
	Decoded       json.RawMessage `json:"storable_decoded"`
	Deterministic bool            `json:"deterministic"`
}

// goldenArgsDiffer lists vectors whose args do not hold the value Perl
// encoded, with the reason.
var goldenArgsDiffer = map[string]string{
	"result_log_doubles": "args show the double 2**53 as 9007199254740992, without the '.0' tagged JSON " +
		"gives doubles, so it reads back as an integer, which nfreeze writes in full, not as %.15g",
}

func readGolden(file string, v any) {
	GinkgoHelper()
	dir, err := perlproc.SharedDir()
	if err != nil {
		Skip("golden vectors: " + err.Error())
	}
	data, err := os.ReadFile(filepath.Join(dir, "golden", file))
	if err != nil {
		Skip("golden vectors: " + err.Error())
	}
	Expect(json.Unmarshal(data, v)).To(Succeed())
}

// payload returns the nfreeze image of a frame, checking its header.
func payload(frame []byte) []byte {
	GinkgoHelper()
	Expect(len(frame)).To(BeNumerically(">=", 6))
	n := binary.LittleEndian.Uint32(frame[2:6])
	Expect(int(n)).To(Equal(len(frame) - 6))
	return frame[6:]
}

// latin1UTF8 reports whether v holds a UTF-8 string or key whose
// characters all fit in Latin-1, which tagged JSON cannot tell from bytes.
func latin1UTF8(v perl.Value) bool {
	found := false
	walk(v, func(x perl.Value) {
		switch x := x.(type) {
		case perl.String:
			if _, ok := latin1Only(string(x)); ok {
				found = true
			}
		case *perl.Hash:
			for _, e := range x.Entries {
				if e.Flags&perl.KeyWasUTF8 != 0 {
					found = true
				}
			}
		}
	})
	return found
}

func latin1Only(s string) (string, bool) {
	for _, r := range s {
		if r > 0xff {
			return "", false
		}
	}
	return s, true
}

var _ = Describe("Golden IMP RPC vectors written by Net::IMP::Remote::Storable", func() {
	It("decode to the arguments Perl sent, encode to Perl's bytes, and the arguments encode to them too", func() {
		var f struct {
			Vectors []goldenVector `json:"vectors"`
		}
		readGolden("imprpc-vectors.json", &f)
		Expect(f.Vectors).NotTo(BeEmpty())
		fromArgs := 0
		for _, vec := range f.Vectors {
			img := payload(unhex(vec.StorableHex))
			v, err := storable.UnmarshalValue(img)
			Expect(err).NotTo(HaveOccurred(), vec.Name)
			again, err := storable.MarshalValue(v)
			Expect(err).NotTo(HaveOccurred())
			Expect(again).To(Equal(img), "%s encoded again: %s", vec.Name, hexDiff(again, img))
			want := vec.Decoded
			if want == nil {
				want = vec.Args
			}
			lossy := latin1UTF8(v)
			expectSameJSON(shown(v), string(want), vec.Name)

			// The arguments as tagged JSON give the same image, with keys
			// sorted where Perl's order was random, unless they hold UTF-8
			// strings of Latin-1 characters, which tagged JSON reads back
			// as bytes.
			args, err := taggedjson.Unmarshal(vec.Args)
			Expect(err).NotTo(HaveOccurred(), vec.Name)
			target, mode := img, storable.EncMode(mustEncMode(storable.EncOptions{}))
			if !vec.Deterministic {
				target, mode = payload(unhex(vec.SortedHex)), nfreezeMode
			}
			got, err := mode.MarshalValue(args)
			Expect(err).NotTo(HaveOccurred(), vec.Name)
			if why := goldenArgsDiffer[vec.Name]; why != "" {
				Expect(got).NotTo(Equal(target), "%s: the exception (%s) is no longer needed", vec.Name, why)
				continue
			}
			if lossy {
				Expect(got).NotTo(Equal(target), "%s holds UTF-8 Latin-1 text, yet its arguments encode the same", vec.Name)
				continue
			}
			fromArgs++
			Expect(got).To(Equal(target), "%s from its arguments: %s", vec.Name, hexDiff(got, target))
		}
		Expect(fromArgs).To(BeNumerically(">", 100))
	})

	It("decode frame by frame from the recorded streams", func() {
		var f struct {
			Streams []struct {
				Name   string `json:"name"`
				Wire   string `json:"wire"`
				Hex    string `json:"hex"`
				Frames []struct {
					Offset int             `json:"offset"`
					Length int             `json:"length"`
					Args   json.RawMessage `json:"args"`
				} `json:"frames"`
			} `json:"streams"`
		}
		readGolden("imprpc-streams.json", &f)
		n := 0
		for _, s := range f.Streams {
			if s.Wire != "storable" {
				continue
			}
			stream := unhex(s.Hex)
			for _, fr := range s.Frames {
				v, err := storable.UnmarshalValue(payload(stream[fr.Offset : fr.Offset+fr.Length]))
				Expect(err).NotTo(HaveOccurred(), s.Name)
				expectSameJSON(shown(v), string(fr.Args), s.Name)
				n++
			}
		}
		Expect(n).To(BeNumerically(">", 10))
	})
})
