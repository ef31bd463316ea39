package storable

import (
	"bytes"
	"testing"

	"github.com/goimp/imprpc/perl"
)

// fuzzMode keeps fuzzed images small enough to decode quickly.
var (
	fuzzMode, _  = DecOptions{MaxSize: 1 << 20, MaxDepth: 200}.DecMode()
	fuzzAlias, _ = DecOptions{MaxSize: 1 << 20, MaxDepth: 200, AliasInput: true}.DecMode()
)

// addPerlSeeds adds the images Perl wrote (testdata/fuzz/FuzzDecode) to a
// fuzz target that does not load them by itself.
func addPerlSeeds(f *testing.F) {
	for _, img := range perlImages(f) {
		f.Add(img)
	}
}

// FuzzDecode decodes arbitrary bytes: never a panic, the same result from
// a byte slice and from a stream, with and without AliasInput, a value
// that owns its memory by default, and every decoded value encodes.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := fuzzMode.UnmarshalValue(data)
		dec := fuzzMode.NewDecoder(bytes.NewReader(data))
		sv, serr := dec.DecodeValue()
		if err == nil {
			in := bytes.Clone(data)
			cv, _ := fuzzMode.UnmarshalValue(in)
			av, aerr := fuzzAlias.UnmarshalValue(data)
			for i := range in {
				in[i] = 0xa5 // the copying decoder's value must not change
			}
			if d := perl.Diff(v, cv); d != "" {
				t.Fatalf("value shares the input: %s", d)
			}
			if aerr != nil || perl.Diff(v, av) != "" {
				t.Fatalf("AliasInput decodes otherwise: %v %s", aerr, perl.Diff(v, av))
			}
			if serr != nil {
				t.Fatalf("stream decoding failed: %v", serr)
			}
			if d := perl.Diff(v, sv); d != "" {
				t.Fatalf("stream decoding differs: %s", d)
			}
			if dec.InputOffset() != int64(len(data)) {
				t.Fatalf("stream read %d of %d bytes", dec.InputOffset(), len(data))
			}
			if _, err := MarshalValue(v); err != nil {
				t.Fatalf("decoded value does not encode: %v", err)
			}
		} else if serr == nil {
			// The stream stops after the image; the rest is trailing data.
			n := dec.InputOffset()
			pv, err := fuzzMode.UnmarshalValue(data[:n])
			if err != nil {
				t.Fatalf("stream decoded %d bytes that do not decode alone: %v", n, err)
			}
			if d := perl.Diff(pv, sv); d != "" {
				t.Fatalf("stream decoding differs: %s", d)
			}
		}
	})
}

// FuzzRoundTrip decodes, encodes in the image's own order and format,
// and decodes again: the second encoding must equal the first (encoding
// normalises what Perl would normalise too, such as integral doubles) and
// the two later decodings must be equal.
func FuzzRoundTrip(f *testing.F) {
	addPerlSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := fuzzMode.UnmarshalValue(data)
		if err != nil {
			return
		}
		m, err := encModeFor(data, false)
		if err != nil {
			return // a header this package reads but does not write (long doubles, odd sizes)
		}
		img1, err := m.MarshalValue(v)
		if err != nil {
			t.Fatalf("encoding: %v", err)
		}
		v2, err := fuzzMode.UnmarshalValue(img1)
		if err != nil {
			t.Fatalf("decoding the encoding %x: %v", img1, err)
		}
		img2, err := m.MarshalValue(v2)
		if err != nil {
			t.Fatalf("encoding again: %v", err)
		}
		if !bytes.Equal(img1, img2) {
			t.Fatalf("encodings differ:\n%x\n%x", img1, img2)
		}
		v3, err := fuzzMode.UnmarshalValue(img2)
		if err != nil {
			t.Fatal(err)
		}
		if d := perl.Diff(v2, v3); d != "" {
			t.Fatal(d)
		}
	})
}
