package imptext

import (
	"strings"
	"testing"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
)

func TestInterfaceRoundTrip(t *testing.T) {
	for _, i := range []imp.Interface{
		{AnyData: true},
		{DataType: imp.DataStream},
		{DataType: imp.DataPacket, Results: []imp.ResultType{}},
		{DataType: imp.DataStream, Results: []imp.ResultType{imp.ResultPass, imp.ResultReplace, imp.ResultDeny}},
		{AnyData: true, Results: []imp.ResultType{imp.ResultLog}},
	} {
		text, err := Interface(i)
		if err != nil {
			t.Fatalf("Interface(%+v): %v", i, err)
		}
		back, err := ParseInterface(text)
		if err != nil {
			t.Fatalf("ParseInterface(%s): %v", text, err)
		}
		if back.AnyData != i.AnyData || back.DataType != i.DataType || (back.Results == nil) != (i.Results == nil) ||
			len(back.Results) != len(i.Results) {
			t.Fatalf("%+v -> %s -> %+v", i, text, back)
		}
		for k := range i.Results {
			if back.Results[k] != i.Results[k] {
				t.Fatalf("%+v -> %s -> %+v", i, text, back)
			}
		}
	}
}

func TestInterfaceUndef(t *testing.T) {
	// Any data and no result list are both undef, as Perl has them.
	anyData, err := Interface(imp.Interface{AnyData: true})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := Interface(imp.Interface{DataType: imp.DataStream})
	if err != nil {
		t.Fatal(err)
	}
	if anyData == stream {
		t.Fatalf("any data and stream both write %s", anyData)
	}
	if anyData != "[null,null]" {
		t.Errorf("Interface(any data, no results) = %s, want [null,null]", anyData)
	}
}

func TestParseInterfaceBad(t *testing.T) {
	for _, text := range []string{``, `{`, `"x"`, `[]`, `{"a":1}`} {
		if i, err := ParseInterface(text); err == nil {
			t.Errorf("ParseInterface(%q) = %+v, want an error", text, i)
		} else if !strings.HasPrefix(err.Error(), "imptext: ") {
			t.Errorf("ParseInterface(%q): error %q does not name the package", text, err)
		}
	}
}

func TestDiffResults(t *testing.T) {
	pass, err := Result(imp.Pass(0, 5))
	if err != nil {
		t.Fatal(err)
	}
	pass2, err := Result(imp.Pass(0, 6))
	if err != nil {
		t.Fatal(err)
	}
	deny, err := Result(imp.Result{Type: imp.ResultDeny, Args: []perl.Value{perl.Int(1), perl.Bytes("no")}})
	if err != nil {
		t.Fatal(err)
	}
	if d := DiffResults([]string{pass, deny}, []string{pass, deny}); d != "" {
		t.Errorf("equal lists differ: %s", d)
	}
	if d := DiffResults([]string{pass}, []string{pass, deny}); !strings.Contains(d, "1 results, want 2") {
		t.Errorf("lists of different length: %q", d)
	}
	if d := DiffResults([]string{pass, pass}, []string{pass, pass2}); !strings.HasPrefix(d, "result 1:") {
		t.Errorf("different second result: %q", d)
	}
	if d := DiffResults([]string{"{"}, []string{pass}); d == "" {
		t.Error("a result that is not tagged JSON compares equal")
	}
}

func TestEveryResultWords(t *testing.T) {
	storable, sereal := EveryResultWords(conn.Storable), EveryResultWords(conn.Sereal)
	if len(sereal) != len(storable)+3 {
		t.Fatalf("%d words on Sereal, %d on Storable: want 3 more on Sereal", len(sereal), len(storable))
	}
	seen := map[string]bool{}
	for _, w := range sereal {
		if seen[w] {
			t.Errorf("word %q twice", w)
		}
		seen[w] = true
	}
	for _, w := range []string{"acctfield:big", "acctfield:uint", "acctfield:double"} {
		if !seen[w] || strings.Contains(strings.Join(storable, " "), w) {
			t.Errorf("%s: want it on Sereal only", w)
		}
	}
}
