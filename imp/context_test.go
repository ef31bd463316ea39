package imp

import (
	"errors"
	"reflect"
	"testing"

	"github.com/goimp/imprpc/perl"
)

func TestParseContextGolden(t *testing.T) {
	vectors := goldenVectors(t)
	ctx := func(name string) perl.Value { return fromTagged(t, vectors[name].Args[1]) }

	m, err := ParseContext(ctx("new_analyzer_imp_relay"))
	if err != nil {
		t.Fatal(err)
	}
	raw := m.Raw
	m.Raw = nil
	want := Meta{App: "imp_proxy", ClientAddr: "192.0.2.10", ClientPort: 40001, ServerAddr: "198.51.100.7",
		ServerPort: 80, ListenAddr: "127.0.0.1", ListenPort: 3000}
	if *m != want {
		t.Errorf("meta %+v, want %+v", *m, want)
	}
	if v, _ := raw.Get("lport"); !reflect.DeepEqual(v, perl.Bytes("3000")) {
		t.Errorf("Raw lost the string port: %#v", v)
	}
	if raw.Len() != 7 {
		t.Errorf("Raw has %d entries", raw.Len())
	}

	if m, err := ParseContext(ctx("new_analyzer_empty_context")); err != nil || *m != (Meta{}) {
		t.Errorf("empty context: %+v, %v", m, err)
	}

	for name, msg := range map[string]string{
		"new_analyzer_flat_utf8":      `imp: new_analyzer context: unknown keys "caddr", "cport", "host", "saddr", "sport", "user" (only "meta" is allowed)`,
		"new_analyzer_one_key_max_id": `imp: new_analyzer context: unknown key "app" (only "meta" is allowed)`,
		"new_analyzer_utf8_key":       `imp: new_analyzer context: unknown key "résumé™" (only "meta" is allowed)`,
		"new_analyzer_latin1_key":     `imp: new_analyzer context: unknown key "café" (only "meta" is allowed)`,
	} {
		_, err := ParseContext(ctx(name))
		var ce *ContextError
		if !errors.As(err, &ce) || err.Error() != msg {
			t.Errorf("%s: %v, want %s", name, err, msg)
		}
	}
}

func TestParseContextShapes(t *testing.T) {
	meta := perl.NewHash(2)
	meta.Set("caddr", perl.String("::1"))
	meta.Set("cport", &perl.Scalar{Value: perl.Bytes("8080")})
	meta.Set("sport", perl.Int(70000)) // out of range: left empty
	meta.Set("laddr", perl.ArrayRef()) // not text: left empty
	meta.Set("extra", perl.HashRef(perl.NewHash(0)))
	top := perl.NewHash(1)
	top.Set("meta", perl.HashRef(meta))
	for _, v := range []perl.Value{perl.HashRef(top), top, &perl.Scalar{Value: perl.HashRef(top)}} {
		m, err := ParseContext(v)
		if err != nil {
			t.Fatal(err)
		}
		if m.ClientAddr != "::1" || m.ClientPort != 8080 || m.ServerPort != 0 || m.ListenAddr != "" || m.Raw != meta {
			t.Errorf("%+v", m)
		}
	}
	placeholder := perl.NewHash(1)
	placeholder.Entries = append(placeholder.Entries, perl.HashEntry{Key: "cb", Flags: perl.KeyPlaceholder, Value: perl.Undef{}})
	for _, v := range []perl.Value{nil, perl.Undef{}, perl.HashRef(placeholder)} {
		if m, err := ParseContext(v); err != nil || *m != (Meta{}) {
			t.Errorf("ParseContext(%#v) = %+v, %v", v, m, err)
		}
	}
	undefMeta := perl.NewHash(1)
	undefMeta.Set("meta", perl.Undef{})
	if m, err := ParseContext(undefMeta); err != nil || m.Raw != nil {
		t.Errorf("meta => undef: %+v, %v", m, err)
	}
	badMeta := perl.NewHash(1)
	badMeta.Set("meta", perl.Bytes("x"))
	for _, c := range []struct {
		v   perl.Value
		msg string
	}{
		{perl.Bytes("x"), "imp: new_analyzer context: not a hash but bytes"},
		{perl.ArrayRef(), "imp: new_analyzer context: not a hash but reference to array"},
		{perl.HashRef(badMeta), `imp: new_analyzer context: "meta" is not a hash but bytes`},
	} {
		var ce *ContextError
		if _, err := ParseContext(c.v); !errors.As(err, &ce) || err.Error() != c.msg {
			t.Errorf("ParseContext: %v, want %s", err, c.msg)
		}
	}
}

func TestMetaContext(t *testing.T) {
	m := &Meta{App: "imp_proxy", ClientAddr: "192.0.2.10", ClientPort: 40001, ServerAddr: "198.51.100.7", ServerPort: 80, ListenPort: 3000}
	v := m.Context()
	back, err := ParseContext(v)
	if err != nil {
		t.Fatal(err)
	}
	meta := back.Raw
	back.Raw = nil
	if *back != *m {
		t.Errorf("round trip %+v, want %+v", back, m)
	}
	if got := meta.Len(); got != 6 {
		t.Errorf("meta hash has %d keys, want 6 (laddr empty)", got)
	}
	if v, _ := meta.Get("cport"); v != perl.Value(perl.Int(40001)) {
		t.Errorf("cport %#v", v)
	}
	// A Meta read from a peer goes out again as it came.
	back.Raw = meta
	if got := back.Context(); !reflect.DeepEqual(got, perl.HashRef(top(meta))) {
		t.Errorf("Context of a parsed Meta: %#v", got)
	}
	var none *Meta
	if got := none.Context(); !reflect.DeepEqual(got, perl.HashRef(perl.NewHash(1))) {
		t.Errorf("nil Meta: %#v", got)
	}
}

func top(meta *perl.Hash) *perl.Hash {
	h := perl.NewHash(1)
	h.Set("meta", perl.HashRef(meta))
	return h
}
