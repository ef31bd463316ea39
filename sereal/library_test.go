package sereal

import (
	"testing"

	libsereal "github.com/Sereal/Sereal/Go/sereal"

	"github.com/goimp/imprpc/perl"
)

// TestLibraryDocuments decodes documents written by the Go Sereal library
// (github.com/Sereal/Sereal/Go/sereal), protocols 1 to 3, plain and
// compressed. The library writes strings as STR_UTF8 and slices and maps
// as bare ARRAY and HASH, which decode as references.
func TestLibraryDocuments(t *testing.T) {
	type obj = libsereal.PerlObject
	inner := []any{1, "a"}
	cases := []struct {
		name string
		in   any
		want perl.Value
	}{
		{"int", 42, perl.Int(42)},
		{"negative", -100, perl.Int(-100)},
		{"string", "héllo", perl.String("héllo")},
		{"bytes", []byte("bytes"), perl.Bytes("bytes")},
		{"float", 3.5, perl.Float(3.5)},
		{"nil", nil, perl.Undef{}},
		{"true", true, perl.Bool(true)},
		{"slice", []any{1, "a", []any{2}}, perl.ArrayRef(perl.Int(1), perl.String("a"), perl.ArrayRef(perl.Int(2)))},
		{"slice pointer", &inner, perl.ArrayRef(perl.Int(1), perl.String("a"))},
		{"map", map[string]any{"k": []any{3}}, hashRef("k", perl.ArrayRef(perl.Int(3)))},
		{"object", obj{Class: "Foo", Reference: map[string]any{"a": 1}}, blessed("Foo", hashRef("a", perl.Int(1)))},
		{"objects", []any{obj{Class: "Foo", Reference: []any{}}, obj{Class: "Foo", Reference: []any{}}},
			perl.ArrayRef(blessed("Foo", perl.ArrayRef()), blessed("Foo", perl.ArrayRef()))},
		{"repeated keys", []any{map[string]any{"key": 1}, map[string]any{"key": 2}},
			perl.ArrayRef(hashRef("key", perl.Int(1)), hashRef("key", perl.Int(2)))},
	}
	encoders := map[string]func() *libsereal.Encoder{
		"v1": libsereal.NewEncoder,
		"v2": libsereal.NewEncoderV2,
		"v3": libsereal.NewEncoderV3,
		"v3 snappy": func() *libsereal.Encoder {
			e := libsereal.NewEncoderV3()
			e.Compression, e.CompressionThreshold = libsereal.SnappyCompressor{Incremental: true}, 0
			return e
		},
		"v3 zlib": func() *libsereal.Encoder {
			e := libsereal.NewEncoderV3()
			e.Compression, e.CompressionThreshold = libsereal.ZlibCompressor{}, 0
			return e
		},
	}
	for en, newEnc := range encoders {
		for _, c := range cases {
			doc, err := newEnc().Marshal(c.in)
			if err != nil {
				t.Fatalf("%s %s: library: %v", en, c.name, err)
			}
			got, err := UnmarshalValue(doc)
			if err != nil {
				t.Errorf("%s %s: %x: %v", en, c.name, doc, err)
				continue
			}
			if d := perl.Diff(got, c.want); d != "" {
				t.Errorf("%s %s: %x: %s", en, c.name, doc, d)
			}
		}
	}
}

// TestLibraryReads has the Go Sereal library decode what we write with
// the protocols it reads (1 to 4).
func TestLibraryReads(t *testing.T) {
	shared := perl.NewArray(perl.Int(7))
	v := perl.ArrayRef(
		perl.Int(-5), perl.Int(300), perl.Bytes("bytes"), perl.String("text ☺"), perl.Float(0.25), perl.Float(0.1),
		hashRef("k", perl.ArrayRef(perl.Int(1))), hashRef("k", perl.Undef{}),
		perl.Ref{To: shared}, perl.Ref{To: shared},
	)
	want := []any{-5, 300, []byte("bytes"), "text ☺", float32(0.25), 0.1,
		map[string]any{"k": []any{1}}, map[string]any{"k": nil}, []any{7}, []any{7}}
	for p := 1; p <= 4; p++ {
		for _, c := range []Compression{Uncompressed, Snappy, Zlib} {
			if c == Zlib && p < 3 {
				continue
			}
			m, err := EncOptions{Protocol: p, Compression: c, CompressThreshold: 1}.EncMode()
			if err != nil {
				t.Fatal(err)
			}
			doc, err := m.MarshalValue(v)
			if err != nil {
				t.Fatal(err)
			}
			var got []any
			if err := libsereal.Unmarshal(doc, &got); err != nil {
				t.Errorf("protocol %d compression %d: library: %v (%x)", p, c, err, doc)
				continue
			}
			if len(got) != len(want) {
				t.Fatalf("protocol %d: library decoded %#v", p, got)
			}
			for i := range want {
				if !sameLibValue(got[i], want[i]) {
					t.Errorf("protocol %d compression %d: element %d: library decoded %#v, want %#v", p, c, i, got[i], want[i])
				}
			}
		}
	}
}

// sameLibValue compares what the library decoded with what we expect,
// through the library's conventions (ints as int, maps of any, a REFP to
// an array as a pointer to the slice).
func sameLibValue(got, want any) bool {
	if p, ok := got.(*[]any); ok {
		got = *p
	}
	switch w := want.(type) {
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameLibValue(g[i], w[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k := range w {
			if !sameLibValue(g[k], w[k]) {
				return false
			}
		}
		return true
	case []byte:
		g, ok := got.([]byte)
		return ok && string(g) == string(w)
	}
	return got == want
}

func hashRef(kv ...any) perl.Ref {
	h := perl.NewHash(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i].(string), kv[i+1].(perl.Value))
	}
	return perl.HashRef(h)
}

func blessed(class string, r perl.Ref) perl.Ref {
	perl.Bless(r.To, class)
	return r
}
