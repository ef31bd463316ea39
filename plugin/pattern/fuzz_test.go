package pattern

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/imp/imptest"
	"github.com/goimp/imprpc/plugin/internal/recording"
)

// FuzzReplace feeds data, cut into chunks as the fuzzer says, to a
// replacing plugin and requires every result to be valid and the data a
// data provider makes of the results to be the data with every match
// replaced, whatever the chunks.
func FuzzReplace(f *testing.F) {
	f.Add([]byte("xxabyy abab a\xffb abd acbd"), []byte{1, 2, 3})
	f.Add([]byte("abcbd"), []byte{0})
	f.Add([]byte("aab"), []byte{1})
	configs := []struct {
		cfg Config
		re  *regexp.Regexp
	}{
		{Config{String: "ab", Action: Replace, ActData: "X"}, regexp.MustCompile(`ab`)},
		{Config{String: "ab", Action: Reject, ActData: "no"}, regexp.MustCompile(`ab`)},
		{Config{Rx: `a[bc]{1,2}d`, RxLen: 4, Action: Replace, ActData: ""}, regexp.MustCompile(`a[bc]{1,2}d`)},
	}
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		if len(data) > 4096 {
			return
		}
		for _, c := range configs {
			fac, err := New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var chunks []imptest.Chunk
			rest := data
			for i := 0; len(rest) > 0; i++ {
				n := len(rest)
				if len(cuts) > 0 {
					n = min(n, int(cuts[i%len(cuts)])%11+1)
				}
				chunks = append(chunks, imptest.Chunk{Type: imp.DataStream, Data: rest[:n]})
				rest = rest[n:]
			}
			chunks = append(chunks, imptest.Chunk{Type: imp.DataStream})
			var fl recording.Filter
			fl.Data(0, data)
			got, err := imptest.Run(fac, nil, chunks...)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range got {
				if err := r.Validate(); err != nil {
					t.Fatalf("%v: %v", r, err)
				}
				fl.Result(r)
			}
			want := c.re.ReplaceAllLiteral(data, []byte(map[Action]string{Replace: c.cfg.ActData, Reject: ""}[c.cfg.Action]))
			if !bytes.Equal(fl.Out[0], want) || fl.Unpassed(0) != 0 {
				t.Fatalf("%+v on %q cut by %v: %q (%d unpassed), want %q", c.cfg, data, cuts, fl.Out[0], fl.Unpassed(0), want)
			}
			if c.cfg.Action == Reject && fl.ToSender != len(c.re.FindAllIndex(data, -1)) {
				t.Fatalf("%d tosender for %d matches", fl.ToSender, len(c.re.FindAllIndex(data, -1)))
			}
		}
	})
}
