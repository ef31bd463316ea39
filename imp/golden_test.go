package imp

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/goimp/imprpc/perl"

	"github.com/goimp/imprpc/internal/repotest"
)

// goldenVector is one RPC of ../shared/golden/imprpc-vectors.json (made by
// the real Perl modules).
type goldenVector struct {
	Name            string `json:"name"`
	Op              string `json:"op"`
	Args            []any  `json:"args"`
	StorableDecoded []any  `json:"storable_decoded"`
}

// goldenVectors reads the golden vectors (the project's copy in
// perl-fixtures/golden).
func goldenVectors(t testing.TB) map[string]goldenVector {
	t.Helper()
	path, err := repotest.Path(repotest.Golden + "/imprpc-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []goldenVector `json:"vectors"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&file); err != nil {
		t.Fatal(err)
	}
	m := make(map[string]goldenVector, len(file.Vectors))
	for _, v := range file.Vectors {
		m[v.Name] = v
	}
	return m
}

// fromTagged converts tagged JSON (../shared/spec/tagged-json.md), as
// decoded with UseNumber, to a Perl value: the subset the IMP vectors use.
func fromTagged(t testing.TB, v any) perl.Value {
	t.Helper()
	switch x := v.(type) {
	case nil:
		return perl.Undef{}
	case bool:
		return perl.Bool(x)
	case json.Number:
		s := x.String()
		if strings.ContainsAny(s, ".eE") {
			f, err := x.Float64()
			if err != nil {
				t.Fatal(err)
			}
			return perl.Float(f)
		}
		if n, err := x.Int64(); err == nil {
			return perl.Int(n)
		}
		n, ok := parseUint(s)
		if !ok {
			t.Fatalf("number %s", s)
		}
		return perl.Uint(n)
	case string:
		return taggedString(x)
	case []any:
		a := perl.NewArray()
		for _, e := range x {
			a.Elems = append(a.Elems, fromTagged(t, e))
		}
		return perl.Ref{To: a}
	case map[string]any:
		if p, ok := x["$regexp"]; ok {
			rx := &perl.Regexp{Class: "Regexp", Pattern: p.(string), Flags: x["$flags"].(string)}
			_, rx.UTF8 = taggedString(rx.Pattern).(perl.String)
			return perl.Ref{To: rx}
		}
		h := perl.NewHash(len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			e := x[k]
			key, isUTF8 := k, true
			if b, ok := taggedString(k).(perl.Bytes); ok {
				key, isUTF8 = string(b), false
			}
			h.Entries = append(h.Entries, perl.HashEntry{Key: key, UTF8: isUTF8, Value: fromTagged(t, e)})
		}
		return perl.Ref{To: h}
	}
	t.Fatalf("cannot convert %T", v)
	return nil
}

// taggedString applies tagged JSON's string rule: a character above
// U+00FF makes a UTF-8 string, otherwise the characters are bytes.
func taggedString(s string) perl.Value {
	b := []byte{}
	for _, r := range s {
		if r > 0xFF {
			return perl.String(s)
		}
		b = append(b, byte(r))
	}
	return perl.Bytes(b)
}

func parseUint(s string) (uint64, bool) {
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' || n > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, s != ""
}

// goldenResult makes the Result of a result RPC vector from its args
// (analyzer id, type, args...).
func goldenResult(t testing.TB, args []any) Result {
	t.Helper()
	vals := make([]perl.Value, len(args))
	for i, a := range args {
		vals[i] = fromTagged(t, a)
	}
	n, ok := ToInt(vals[1])
	if !ok {
		t.Fatalf("result type %v", vals[1])
	}
	r := Result{Type: ResultType(n), Args: vals[2:]}
	if len(r.Args) == 0 {
		r.Args = nil
	}
	return r
}
