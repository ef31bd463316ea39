package sereal

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
)

// perlDoc is one document of testdata/perl-documents.json, written by
// Perl's Sereal::Encoder 5.003 (perl-fixtures/sereal-helper.pl --corpus).
type perlDoc struct {
	Name  string         `json:"name"`
	Opts  map[string]int `json:"opts"`
	Hex   string         `json:"hex"`
	JSON  string         `json:"json"`  // Perl's decoding, tagged JSON
	Error string         `json:"error"` // Perl's decoder refused it
	doc   []byte
}

func (d *perlDoc) label() string {
	var o []string
	for k, v := range d.Opts {
		o = append(o, k+"="+string(rune('0'+v)))
	}
	return d.Name + "{" + strings.Join(o, ",") + "}"
}

func loadPerlDocs(t testing.TB) []*perlDoc {
	t.Helper()
	data, err := os.ReadFile("testdata/perl-documents.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Documents []*perlDoc `json:"documents"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Documents {
		if d.doc, err = hex.DecodeString(d.Hex); err != nil {
			t.Fatal(err)
		}
	}
	return f.Documents
}

// TestPerlDocuments decodes every document of the corpus, compares it with
// what Perl's decoder made of it, encodes it again with the same options
// and decodes that to the same value.
func TestPerlDocuments(t *testing.T) {
	docs := loadPerlDocs(t)
	identical := 0
	for _, d := range docs {
		v, err := UnmarshalValue(d.doc)
		if err != nil {
			t.Errorf("%s: %v", d.label(), err)
			continue
		}
		if n, err := DocumentLength(d.doc); err != nil || n != len(d.doc) {
			t.Errorf("%s: DocumentLength = %d, %v, want %d", d.label(), n, err, len(d.doc))
		}
		if d.Error == "" {
			got, err := taggedjson.Marshal(v)
			if err != nil {
				t.Errorf("%s: %v", d.label(), err)
				continue
			}
			if eq, err := taggedjson.Equal(got, []byte(d.JSON)); err != nil || !eq {
				diff, _ := taggedjson.Diff(got, []byte(d.JSON))
				t.Errorf("%s: decoded %s\nPerl decoded %s\n%s", d.label(), got, d.JSON, diff)
			}
		}
		o, err := PerlEncOptions(d.Opts)
		if err != nil {
			t.Fatal(err)
		}
		m, err := o.EncMode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := m.MarshalValue(v)
		if err != nil {
			t.Errorf("%s: encode: %v", d.label(), err)
			continue
		}
		if string(again) == string(d.doc) {
			identical++
		} else if reason := notIdenticalWithPerl(d); reason == "" {
			t.Errorf("%s: encoded again as\n%x, Perl wrote\n%x", d.label(), again, d.doc)
		}
		back, err := UnmarshalValue(again)
		if err != nil {
			t.Errorf("%s: decode of %x: %v", d.label(), again, err)
			continue
		}
		if m.EncOptions().Protocol < 3 {
			// No CANONICAL_UNDEF before protocol 3 (Perl writes it
			// anyway for array holes).
			v = plainUndefs(v, map[perl.Referent]bool{})
		}
		if diff := perl.Diff(v, back); diff != "" {
			t.Errorf("%s: round trip: %s\n%x\n%x", d.label(), diff, d.doc, again)
		}
	}
	t.Logf("%d of %d documents decoded, %d encoded again byte for byte", len(docs), len(docs), identical)
}

// plainUndefs returns v with every undef made a plain undef.
func plainUndefs(v perl.Value, seen map[perl.Referent]bool) perl.Value {
	switch x := v.(type) {
	case perl.Undef:
		return perl.Undef{}
	case perl.Ref:
		plainUndefs(x.To, seen)
	case perl.Referent:
		if seen[x] {
			return v
		}
		seen[x] = true
		switch r := x.(type) {
		case *perl.Array:
			for i, e := range r.Elems {
				r.Elems[i] = plainUndefs(e, seen)
			}
		case *perl.Hash:
			for i := range r.Entries {
				r.Entries[i].Value = plainUndefs(r.Entries[i].Value, seen)
			}
		case *perl.Scalar:
			r.Value = plainUndefs(r.Value, seen)
		}
	}
	return v
}

// notIdenticalWithPerl says why encoding a corpus document's value again
// may give other bytes than Perl's, or "" when it must give the same.
func notIdenticalWithPerl(d *perlDoc) string {
	switch {
	case d.Opts["compress"] != 0 || d.Opts["snappy"] != 0 || d.Opts["snappy_incr"] != 0:
		return "compressors differ, and Perl pads the length varint of the compressed body"
	case d.Name == "frozen":
		return "Perl's encoder holds the arrays FREEZE returns, so arrays in them are written as REFN ARRAY"
	case d.Name == "holes" && d.Opts["protocol_version"] > 0 && d.Opts["protocol_version"] < 3:
		return "Perl writes CANONICAL_UNDEF for holes even before protocol 3, which defines it"
	case d.Error != "":
		return "Perl's decoder refuses what Perl wrote (REFN ALIAS); the value it stands for is written with REFP"
	case d.Name == "regexp_flags":
		return "Perl writes /xx as xx but reads it as /x"
	}
	return ""
}
