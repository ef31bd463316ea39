package pattern

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/goimp/imprpc/imp"
)

// BenchmarkData measures the analyzer on data that never matches, as
// Net::IMP::Pattern is measured for the server's benchmarks: a fixed
// string, and a regular expression on ASCII and on binary data (which is
// matched as Latin-1 text), both without a byte a match can start with
// (the search skips them), and on text with many such bytes.
func BenchmarkData(b *testing.B) {
	text := []byte("lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore ")
	for _, bc := range []struct {
		name string
		cfg  Config
		fill byte
	}{
		{"string", Config{String: "secret", Action: Deny}, 'x'},
		{"rx", Config{Rx: `se[c]ret|pass(word)?`, RxLen: 8, Action: Deny}, 'x'},
		{"rx-binary", Config{Rx: `se[c]ret|pass(word)?`, RxLen: 8, Action: Deny}, 0xe9},
		{"rx-text", Config{Rx: `se[c]ret|pass(word)?`, RxLen: 8, Action: Deny}, 0},
	} {
		for _, size := range []int{64, 1 << 10, 16 << 10, 256 << 10} {
			b.Run(fmt.Sprintf("%s/%d", bc.name, size), func(b *testing.B) {
				f, err := New(bc.cfg)
				if err != nil {
					b.Fatal(err)
				}
				a, _ := f.NewAnalyzer(b.Context(), new(imp.Meta), imp.SinkFunc(func(imp.Result) {}))
				chunk := bytes.Repeat([]byte{bc.fill}, size)
				if bc.fill == 0 { // text in which a match can start at many places
					chunk = bytes.Repeat(text, size/len(text)+1)[:size]
				}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					a.Data(imp.FromClient, 0, imp.DataStream, chunk)
				}
			})
		}
	}
}
