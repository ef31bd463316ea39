package sereal

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
)

// addSeeds adds every document of the Perl corpus, whole and cut, to the
// seed corpus.
func addSeeds(f *testing.F, with func(doc []byte)) {
	for i, d := range loadPerlDocs(f) {
		with(d.doc)
		if i%7 == 0 && len(d.doc) > 8 {
			with(d.doc[:len(d.doc)-3])
		}
	}
}

// FuzzDecode decodes arbitrary input: it must never panic, must agree
// with DocumentLength about where the document ends, and what it decodes
// must survive encoding and decoding again.
func FuzzDecode(f *testing.F) {
	addSeeds(f, func(doc []byte) { f.Add(doc) })
	lenient, err := DecOptions{AllowTrailingData: true, MaxSize: 1 << 20, MaxDepth: 200}.DecMode()
	if err != nil {
		f.Fatal(err)
	}
	lm := lenient.(*decMode)
	v5, err := EncOptions{Protocol: 5, FreezeCallbacks: true}.EncMode()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, lerr := lenient.DocumentLength(data)
		v, end, err := lm.decodeDocument(data, nil, false)
		if err != nil {
			return
		}
		if lerr != nil || n != end {
			t.Fatalf("decoded a document of %d bytes, DocumentLength says %d, %v", end, n, lerr)
		}
		// The value owns its memory; AliasInput decodes the same.
		in := bytes.Clone(data)
		cv, _, _ := lm.decodeDocument(in, nil, false)
		av, _, aerr := lm.decodeDocument(data, nil, true)
		for i := range in {
			in[i] = 0xa5
		}
		if d := perl.Diff(v, cv); d != "" {
			t.Fatalf("value shares the input: %s", d)
		}
		if aerr != nil || perl.Diff(v, av) != "" {
			t.Fatalf("AliasInput decodes otherwise: %v %s", aerr, perl.Diff(v, av))
		}
		doc, err := v5.MarshalValue(v)
		var uv *UnsupportedValueError
		if errors.As(err, &uv) {
			return // a regexp modifier Perl cannot read
		}
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		v2, err := lenient.UnmarshalValue(doc)
		if err != nil {
			t.Fatalf("decode of our %x: %v", doc, err)
		}
		// The first round may drop what needs no identity (an item
		// tracked for nothing); after it, the value must be stable.
		doc2, err := v5.MarshalValue(v2)
		if err != nil {
			t.Fatal(err)
		}
		v3, err := lenient.UnmarshalValue(doc2)
		if err != nil {
			t.Fatal(err)
		}
		if d := perl.Diff(v2, v3); d != "" {
			t.Fatalf("not stable: %s\n%x\n%x", d, doc, doc2)
		}
		j1, err1 := taggedjson.Marshal(v)
		j2, err2 := taggedjson.Marshal(v2)
		if err1 == nil && err2 == nil {
			if eq, err := taggedjson.Equal(j1, j2); err != nil || !eq {
				t.Fatalf("changed by a round trip: %s != %s", j1, j2)
			}
		}
	})
}

// FuzzStream feeds arbitrary input to a Decoder in pieces of random sizes
// and checks that it returns the same documents, in order, as framing the
// input with DocumentLength does, then the same kind of error.
func FuzzStream(f *testing.F) {
	var all []byte
	addSeeds(f, func(doc []byte) {
		f.Add(doc, uint64(len(doc)))
		all = append(all, doc...)
	})
	f.Add(all[:4000], uint64(7))
	m, err := DecOptions{MaxSize: 1 << 20}.DecMode()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		var want [][]byte
		rest := data
		var wantErr error
		for len(rest) > 0 {
			n, err := m.DocumentLength(rest)
			if err != nil {
				wantErr = err
				break
			}
			want = append(want, rest[:n])
			rest = rest[n:]
		}
		r := &chunkReader{data: data, rnd: rand.New(rand.NewPCG(seed, seed>>32)), max: 1 + int(seed%97)}
		dec := m.NewDecoder(r)
		for i, w := range want {
			got, err := dec.Next()
			if err != nil || !bytes.Equal(got, w) {
				t.Fatalf("document %d: %x, %v; want %x", i, got, err, w)
			}
			var v perl.Value
			_ = dec.m.Unmarshal(got, &v)
		}
		_, err := dec.Next()
		switch {
		case wantErr == nil:
			if err != io.EOF {
				t.Fatalf("at the end: %v", err)
			}
		case errors.Is(wantErr, ErrIncomplete):
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("cut document: %v", err)
			}
		default:
			if err == nil || errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
				t.Fatalf("bad input: %v, DocumentLength said %v", err, wantErr)
			}
		}
	})
}
