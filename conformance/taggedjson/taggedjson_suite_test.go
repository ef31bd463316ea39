// Package taggedjson_test checks the two implementations of tagged JSON
// against each other: Go's perl/taggedjson and Perl's
// ImpFixture::TaggedJSON (perl-fixtures/lib), which the other conformance
// suites use to have Perl show what it decoded.
package taggedjson_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/internal/perlproc"
)

func TestTaggedJSON(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Tagged JSON: Go and Perl")
}

var fixture *perlproc.Proc

var _ = BeforeSuite(func() {
	if ok, reason := perlproc.HaveModule("JSON::PP", "B"); !ok {
		Skip(reason)
	}
	var err error
	fixture, err = perlproc.Start("tagged-json.pl", perlproc.Options{Stderr: GinkgoWriter})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if fixture != nil {
		Expect(fixture.Close()).To(Succeed())
	}
})

type reply struct {
	TJ string `json:"tj"`
}

// perlCall sends one request to the fixture and returns the tagged JSON
// text of the reply.
func perlCall(op, field, arg string) (string, error) {
	var r reply
	err := fixture.Call(context.Background(), map[string]string{"op": op, field: arg}, &r)
	return r.TJ, err
}
