package sereal

import (
	"bytes"
	"errors"
	"testing"

	"github.com/goimp/imprpc/perl"
)

// TestGoTypes checks Marshal and Unmarshal of Go types through package
// perl's mapping, with "sereal" struct tags.
func TestGoTypes(t *testing.T) {
	type inner struct {
		Data []byte `sereal:"data"`
		Skip string `sereal:"-"`
	}
	type rpc struct {
		Op     int      `sereal:"op"`
		Name   string   `sereal:"name"`
		Inner  *inner   `sereal:"inner"`
		Tags   []string `sereal:"tags,omitempty"`
		Offset *int64   `sereal:"offset"`
	}
	in := rpc{Op: 0x4005, Name: "caf\u00e9", Inner: &inner{Data: []byte{0, 1, 255}, Skip: "x"}}
	doc, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	// The document is a reference to a hash, as Perl would write it.
	v, err := UnmarshalValue(doc)
	if err != nil {
		t.Fatal(err)
	}
	h := v.(perl.Ref).To.(*perl.Hash)
	if got, _ := h.Get("name"); got != perl.String("caf\u00e9") {
		t.Errorf("name is %#v", got)
	}
	if _, ok := h.Get("tags"); ok {
		t.Error("omitempty field written")
	}
	var out rpc
	if err := Unmarshal(doc, &out); err != nil {
		t.Fatal(err)
	}
	if out.Op != in.Op || out.Name != in.Name || !bytes.Equal(out.Inner.Data, in.Inner.Data) || out.Inner.Skip != "" || out.Offset != nil {
		t.Errorf("got %+v %+v", out, out.Inner)
	}

	// A Perl document into Go types: the data RPC of the corpus.
	var args []any
	for _, d := range loadPerlDocs(t) {
		if d.Name == "imp_data_rpc" && len(d.Opts) == 0 {
			if err := Unmarshal(d.doc, &args); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(args) != 6 || args[0] != int64(0x4005) || args[4] != int64(-1) || string(args[5].([]byte)) != "GET / HTTP/1.0\r\n\r\n" {
		t.Errorf("data RPC decoded as %#v", args)
	}

	// Errors: a type that does not fit, a value Go cannot map, no pointer.
	var n int
	var te *perl.TypeError
	if err := Unmarshal(doc, &n); !errors.As(err, &te) {
		t.Errorf("hash into int: %v", err)
	}
	if _, err := Marshal(func() {}); err == nil {
		t.Error("func marshalled")
	}
	if err := Unmarshal(doc, n); err == nil {
		t.Error("Unmarshal into a non-pointer")
	}

	// The stream Decoder and Encoder take Go types too.
	var buf bytes.Buffer
	if err := NewEncoder(&buf).Encode(in); err != nil {
		t.Fatal(err)
	}
	var again rpc
	if err := NewDecoder(&buf).Decode(&again); err != nil || again.Name != in.Name {
		t.Fatalf("%+v, %v", again, err)
	}
}
