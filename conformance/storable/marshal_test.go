package storable_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/storable"
)

type relayMeta struct {
	ClientAddr string `storable:"caddr"`
	ClientPort int    `storable:"cport"`
	LocalAddr  string `storable:"laddr"`
	LocalPort  string `storable:"lport"`
	Ignored    string `storable:"-"`
}

type relayContext struct {
	Meta  relayMeta `storable:"meta"`
	Extra []string  `storable:"extra,omitempty"`
}

var _ = Describe("Go structs with storable tags", func() {
	ctx := relayContext{Meta: relayMeta{ClientAddr: "192.0.2.10", ClientPort: 40001, LocalAddr: "192.0.2.1", LocalPort: "3000", Ignored: "x"}}
	const expr = `{meta => {caddr => "192.0.2.10", cport => 40001, laddr => "192.0.2.1", lport => "3000"}}`

	It("marshal to the bytes Perl writes for the same hash", func() {
		r := perlFreeze(expr)
		for _, kind := range imageKinds {
			got, err := modeOf[kind].Marshal(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(r.image(kind)), "%s: %s", kind, hexDiff(got, r.image(kind)))
		}
	})

	It("unmarshal from what Perl writes", func() {
		r := perlFreeze(expr)
		want := ctx
		want.Meta.Ignored = ""
		for _, kind := range imageKinds {
			var got relayContext
			Expect(storable.Unmarshal(r.image(kind), &got)).To(Succeed())
			Expect(got).To(Equal(want), kind)
		}
	})
})
