package cascade

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/plugin/internal/recording"
)

// FuzzPatternChain runs data, cut into chunks as the fuzzer says, through
// a cascade of Pattern parts that replace, and requires what a data
// provider makes of the results to be the data with the parts applied one
// after another (and never fatal).
func FuzzPatternChain(f *testing.F) {
	f.Add([]byte("xxabyycdzz ab cd abcd Xc"), []byte{1, 2, 3})
	f.Add([]byte("abababcdcdcdXcXc"), []byte{1})
	f.Add([]byte("aXcb"), []byte{0})
	f.Add([]byte("a\xffb\x00cd"), []byte{5, 1})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		if len(data) > 4096 || len(cuts) > 64 {
			return
		}
		var failed string
		runChain(t, data, cuts, &failed)
		if failed != "" {
			t.Fatal(failed)
		}
	})
}

var chainParts = []recording.Spec{
	{Plugin: "Net::IMP::Pattern", Config: "string=ab&action=replace&actdata=X"},
	{Plugin: "Net::IMP::Pattern", Config: "string=Xc&action=replace&actdata=cdcd"},
	{Plugin: "Net::IMP::Pattern", Config: "rx=c{1,2}d&rxlen=3&action=replace&actdata="},
}

// runChain runs data through the chain of chainParts in both directions,
// cut by cuts, and sets *failed to what went wrong.
func runChain(t *testing.T, data, cuts []byte, failed *string) {
	c := recording.Case{Factory: recording.Spec{Cascade: chainParts}}
	// the same data in both directions, cut differently
	for dir := range 2 {
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = min(n, int(cuts[(i+dir)%len(cuts)])%9+1)
			}
			c.Steps = append(c.Steps, recording.Step{Dir: dir, Type: -1, DataHex: hexOf(rest[:n])})
			rest = rest[n:]
		}
		c.Steps = append(c.Steps, recording.Step{Dir: dir, Type: -1})
	}
	fac, err := open(c.Factory, false)
	if err != nil {
		*failed = err.Error()
		return
	}
	got := recording.Run(t, fac, c)
	for _, rs := range got.Steps {
		for _, r := range rs {
			if r.Type == imp.ResultFatal {
				*failed = fmt.Sprintf("%q cut by %v: %v", data, cuts, r)
				return
			}
		}
	}
	fl := apply(c, func(i int) []imp.Result { return got.Steps[i] })
	if ok, why := matches(fl, c); !ok {
		*failed = fmt.Sprintf("%q cut by %v: %s", data, cuts, why)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	var out bytes.Buffer
	for _, c := range b {
		out.WriteByte(digits[c>>4])
		out.WriteByte(digits[c&15])
	}
	return out.String()
}
