package sereal

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"

	"github.com/goimp/imprpc/internal/repotest"
)

type goldenVector struct {
	Name          string          `json:"name"`
	Opcode        int64           `json:"opcode"`
	Args          json.RawMessage `json:"args"`
	SerealHex     string          `json:"sereal_hex"`
	SerealSorted  string          `json:"sereal_sorted_hex"`
	SerealDecoded json.RawMessage `json:"sereal_decoded"`
	Deterministic bool            `json:"deterministic"`
}

func loadGolden(t testing.TB) []goldenVector {
	t.Helper()
	path, err := repotest.Path(repotest.Golden + "/imprpc-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("golden vectors not available: %v", err)
	}
	var f struct {
		Vectors []goldenVector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors in imprpc-vectors.json")
	}
	return f.Vectors
}

// rpcValue builds the Perl value [op, args...] of a golden vector from its
// tagged JSON arguments.
func rpcValue(t *testing.T, v goldenVector) perl.Value {
	t.Helper()
	args, err := taggedjson.Unmarshal(v.Args)
	if err != nil {
		t.Fatalf("%s: args: %v", v.Name, err)
	}
	var elems []perl.Value
	switch a := args.(type) {
	case *perl.Array:
		elems = a.Elems
	case perl.Ref:
		elems = a.To.(*perl.Array).Elems
	default:
		t.Fatalf("%s: args are %T", v.Name, args)
	}
	return perl.ArrayRef(append([]perl.Value{perl.Int(v.Opcode)}, elems...)...)
}

// TestGoldenDecode decodes every Sereal vector that Perl's Sereal::Encoder
// 5.003 wrote for Net::IMP::Remote and compares it with the arguments.
func TestGoldenDecode(t *testing.T) {
	for _, v := range loadGolden(t) {
		doc, err := hex.DecodeString(v.SerealHex)
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalValue(doc)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		gotJSON, err := taggedjson.Marshal(got)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		want := rpcValue(t, v)
		wantJSON, err := taggedjson.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if eq, err := taggedjson.Equal(gotJSON, wantJSON); err != nil || !eq {
			d, _ := taggedjson.Diff(gotJSON, wantJSON)
			t.Errorf("%s: decoded %s, want %s: %s", v.Name, gotJSON, wantJSON, d)
		}
		if n, err := DocumentLength(doc); err != nil || n != len(doc) {
			t.Errorf("%s: DocumentLength = %d, %v; want %d", v.Name, n, err, len(doc))
		}
		// The hot path gives the same elements, appended to dst.
		dst := []perl.Value{perl.Int(-99)}
		dst, err = UnmarshalArrayRef(doc, dst)
		if err != nil {
			t.Errorf("%s: UnmarshalArrayRef: %v", v.Name, err)
			continue
		}
		if d := perl.Diff(perl.ArrayRef(dst[1:]...), got); d != "" || dst[0] != perl.Int(-99) {
			t.Errorf("%s: UnmarshalArrayRef: %s", v.Name, d)
		}
	}
}

func TestUnmarshalArrayRefOther(t *testing.T) {
	// A root that is not a reference to an array.
	for _, doc := range [][]byte{v5("\x01"), v5("\x51\x61k\x01"), v5("\x2c\x61A\x41\x01"), v5("\x41")} {
		dst, err := UnmarshalArrayRef(doc, nil)
		if err == nil || len(dst) != 0 {
			t.Errorf("%x: %v, %v", doc, dst, err)
		}
	}
	// Roots that need the whole decoder: tracked, an array in REFN with
	// a cycle, trailing data.
	got, err := UnmarshalArrayRef(v5("\x28\xab\x02\x01\x29\x02"), nil)
	if err != nil || len(got) != 2 || got[0] != perl.Int(1) {
		t.Fatalf("%v, %v", got, err)
	}
	if _, err := UnmarshalArrayRef(v5("\x41\x01\x01"), nil); err == nil {
		t.Error("trailing data accepted")
	}
}

// notByteIdentical names the vectors whose bytes depend on what the Perl
// program held besides the document, which no option can express.
var notByteIdentical = map[string]string{
	"new_analyzer_repeated_keys": "Perl holds the outer hash elsewhere (REFN HASH) but not the inner ones (HASHREF_2)",
}

// TestGoldenEncode encodes the arguments of every vector with protocol 5
// and compares the bytes with Perl's where Perl's are deterministic, and
// with Perl's sort_keys => 2 output where they are not. The only hashes in
// the vectors are contexts of new_analyzer, which the Perl client still
// holds when it encodes them: CanonicalHashRefs.
func TestGoldenEncode(t *testing.T) {
	v5, err := EncOptions{Protocol: 5, CanonicalHashRefs: true}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	sorted, err := EncOptions{Protocol: 5, SortKeys: SortKeysPerl, CanonicalHashRefs: true}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for _, v := range loadGolden(t) {
		want, mode := v.SerealHex, v5
		if !v.Deterministic {
			want, mode = v.SerealSorted, sorted
		}
		doc, err := hex.DecodeString(want)
		if err != nil {
			t.Fatal(err)
		}
		// Decoding Perl's document and encoding it again keeps what the
		// tagged JSON arguments cannot show (UTF-8 flags of Latin-1
		// text).
		val, err := UnmarshalValue(doc)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		got, err := mode.MarshalValue(val)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		if reason, ok := notByteIdentical[v.Name]; ok {
			back, err := UnmarshalValue(got)
			if err != nil || !perl.Equal(back, val) {
				t.Errorf("%s: %x decodes to %v, want %s", v.Name, got, err, perl.Diff(back, val))
			}
			if bytes.Equal(got, doc) {
				t.Errorf("%s: now byte-identical; remove it from notByteIdentical (%s)", v.Name, reason)
			}
			continue
		}
		if !bytes.Equal(got, doc) {
			t.Errorf("%s:\n got %x\nwant %x", v.Name, got, doc)
			continue
		}
		same++
	}
	t.Logf("%d vectors byte-identical with Perl", same)
}
