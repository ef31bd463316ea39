// Package wire_test checks the IMP RPC wire of package conn against the
// real Perl: the golden vectors and streams the Perl modules wrote (every
// vector and stream, both wires, cut at every byte), frames Perl's own
// Storable and Sereal write and read the way Net::IMP::Remote does
// (perl-fixtures/wire-helper.pl, started once), a Go connection talking
// to a Perl peer over TCP, and, in the live tier, the real
// Net::IMP::Remote wire classes decoding what Go writes.
package wire_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/goimp/imprpc/conformance/internal/perlproc"
	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/conn/conntest"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
)

func TestWire(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "IMP RPC wire: Go and Perl")
}

var (
	helper       *perlproc.Proc
	helperReason string // why helper is nil
	haveUpstream bool
	upstreamWhy  string
)

var _ = BeforeSuite(func() {
	if ok, reason := perlproc.HaveModule("Storable", "Sereal::Encoder", "Sereal::Decoder", "JSON::PP"); !ok {
		helperReason = reason
		return
	}
	var err error
	helper, err = perlproc.Start("wire-helper.pl", perlproc.Options{Stderr: GinkgoWriter})
	Expect(err).NotTo(HaveOccurred())
	haveUpstream, upstreamWhy = perlproc.HaveModule("Net::IMP", "Net::IMP::Remote::Storable", "Net::IMP::Remote::Sereal")
})

var _ = AfterSuite(func() {
	if helper != nil {
		Expect(helper.Close()).To(Succeed())
	}
})

// needPerl skips a spec that needs the Perl helper when it is missing.
func needPerl() {
	if helper == nil {
		Skip("Perl with Storable and Sereal is needed: " + helperReason)
	}
}

// call sends a request to the helper.
func call(req map[string]any, reply any) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	Expect(helper.Call(ctx, req, reply)).To(Succeed())
}

// The golden data, loaded when the tree is built; a missing file makes
// the specs that need it skip with the reason.
var (
	vectors, vectorsErr = conntest.Vectors()
	streams, streamsErr = conntest.Streams()
)

// wireOf returns the Wire of a golden file's wire name; Sereal writes
// protocol 5, as Perl's Sereal::Encoder 5.x.
func wireOf(name string, opts conn.Options) conn.Wire {
	f, err := conn.ParseFormat(name)
	if err != nil {
		panic(err)
	}
	opts.Format = f
	if f == conn.Sereal && opts.SerealProtocol == 0 {
		opts.SerealProtocol = 5
	}
	return opts.MustWire()
}

var wireNames = []string{conntest.Storable, conntest.Sereal}

// messageOf returns the message of op with arguments in tagged JSON (an
// unknown op as a *conn.Raw).
func messageOf(op int, args []byte) conn.Message {
	GinkgoHelper()
	v, err := taggedjson.Unmarshal(args)
	Expect(err).NotTo(HaveOccurred())
	a, ok := v.(*perl.Array)
	Expect(ok).To(BeTrue(), "arguments %s are not an array", args)
	m, err := conn.ParseMessage(conn.Op(op), a.Elems)
	return orRaw(m, err)
}

// rpcMessage returns the message of an RPC [op, args...] in tagged JSON.
func rpcMessage(rpc string) conn.Message {
	GinkgoHelper()
	v, err := taggedjson.Unmarshal([]byte(rpc))
	Expect(err).NotTo(HaveOccurred())
	a := v.(*perl.Array)
	// An op with no arguments comes as its decimal string from Go's
	// Sereal wire with SerealStringTail; Perl reads it as the same number.
	op, ok := imp.ToInt(a.Elems[0])
	Expect(ok).To(BeTrue(), "op of %s", rpc)
	m, err := conn.ParseMessage(conn.Op(op), a.Elems[1:])
	return orRaw(m, err)
}

// orRaw turns an unknown op into its *conn.Raw message.
func orRaw(m conn.Message, err error) conn.Message {
	GinkgoHelper()
	if ue, ok := err.(*conn.UnknownOpError); ok {
		return ue.Message()
	}
	Expect(err).NotTo(HaveOccurred())
	return m
}

// jsonOf returns the JSON form of m.
func jsonOf(m conn.Message) []byte {
	GinkgoHelper()
	j, err := conn.AppendJSON(nil, m)
	Expect(err).NotTo(HaveOccurred())
	return j
}

// expectSameMessage compares two messages by their JSON forms, as values.
func expectSameMessage(got, want conn.Message) {
	GinkgoHelper()
	g, w := jsonOf(got), jsonOf(want)
	d, err := taggedjson.Diff(g, w)
	Expect(err).NotTo(HaveOccurred())
	Expect(d).To(BeEmpty(), "messages differ\n got %s\nwant %s", g, w)
}

// decodeAll reads every message of a stream; recoverable frame errors
// with an unknown op give their *conn.Raw.
func decodeAll(w conn.Wire, b []byte) ([]conn.Message, error) {
	return readAll(w.NewReader(bytes.NewReader(b)))
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func unhex(s string) []byte {
	GinkgoHelper()
	b, err := hex.DecodeString(s)
	Expect(err).NotTo(HaveOccurred())
	return b
}
