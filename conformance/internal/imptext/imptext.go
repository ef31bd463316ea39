// Package imptext writes and reads IMP values in the text forms the
// conformance suites exchange with their Perl fixtures and compare in:
// interfaces and results as tagged JSON (see perl/taggedjson), and the
// words of the every-result test plugins (testing:every_result in Go,
// ImpFixture::Plugin::EveryResult in Perl).
package imptext

import (
	"fmt"
	"strings"

	"github.com/goimp/imprpc/conn"
	"github.com/goimp/imprpc/imp"
	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
)

// Interface writes i as the tagged JSON of the Perl array [type,
// [result...]], as ImpFixture::RemoteClient takes an interface: the data
// type is undef for any data, the result list undef when i.Results is nil.
func Interface(i imp.Interface) (string, error) {
	var dt perl.Value = perl.Undef{}
	if !i.AnyData {
		dt = perl.Int(i.DataType)
	}
	var rs perl.Value = perl.Undef{}
	if i.Results != nil {
		ts := make([]perl.Value, len(i.Results))
		for k, t := range i.Results {
			ts[k] = perl.Int(t)
		}
		rs = perl.ArrayRef(ts...)
	}
	b, err := taggedjson.Marshal(perl.NewArray(dt, rs))
	if err != nil {
		return "", fmt.Errorf("imptext: interface %v: %w", i, err)
	}
	return string(b), nil
}

// ParseInterface reads an interface in the form [Interface] writes, as
// ImpFixture::RemoteClient returns it: a non-integer data type means any
// data; a missing or non-reference result list leaves Results nil.
func ParseInterface(text string) (imp.Interface, error) {
	var i imp.Interface
	v, err := taggedjson.Unmarshal([]byte(text))
	if err != nil {
		return i, fmt.Errorf("imptext: interface %s: %w", text, err)
	}
	a, ok := v.(*perl.Array)
	if !ok || len(a.Elems) == 0 {
		return i, fmt.Errorf("imptext: interface %s: not a non-empty array", text)
	}
	if n, ok := imp.ToInt(a.Elems[0]); ok {
		i.DataType = imp.DataType(n)
	} else {
		i.AnyData = true
	}
	if len(a.Elems) > 1 {
		if ref, ok := a.Elems[1].(perl.Ref); ok {
			rs, ok := ref.To.(*perl.Array)
			if !ok {
				return i, fmt.Errorf("imptext: interface %s: result types are not an array", text)
			}
			i.Results = []imp.ResultType{}
			for _, e := range rs.Elems {
				n, _ := imp.ToInt(e)
				i.Results = append(i.Results, imp.ResultType(n))
			}
		}
	}
	return i, nil
}

// Result writes r as the tagged JSON of the Perl array [type, args...],
// the form the recordings and the Perl fixtures use.
func Result(r imp.Result) (string, error) {
	b, err := taggedjson.Marshal(perl.NewArray(append([]perl.Value{perl.Int(r.Type)}, r.Args...)...))
	if err != nil {
		return "", fmt.Errorf("imptext: result %v: %w", r.Type, err)
	}
	return string(b), nil
}

// DiffResults reports how two lists of results in the form of [Result]
// differ, compared as Perl values with [taggedjson.Diff]; "" means they
// are equal.
func DiffResults(got, want []string) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d results, want %d:\n got %s\nwant %s", len(got), len(want), strings.Join(got, " "), strings.Join(want, " "))
	}
	for i := range got {
		d, err := taggedjson.Diff([]byte(got[i]), []byte(want[i]))
		if err != nil {
			return err.Error()
		}
		if d != "" {
			return fmt.Sprintf("result %d: got %s, want %s: %s", i, got[i], want[i], d)
		}
	}
	return ""
}

// EveryResultWords returns the words of the every-result test plugins
// that name every result type with every argument shape that arrives
// intact over wire w. Storable's network order carries integers outside
// 32 bits and non-integral doubles as strings (as Perl's own server
// sends them), so those words are left out on that wire.
func EveryResultWords(w conn.Format) []string {
	words := []string{"pass", "pass:max", "prepass", "prepass:max", "replace", "replace:empty", "replace:latin1",
		"replace_later", "replace_later:max", "pass_pattern", "pass_pattern:i", "pass_pattern:string", "tosender",
		"deny", "deny:noreason", "deny:extra", "deny:utf8", "drop", "fatal", "log", "log:extra", "log:utf8",
		"port_open", "port_open:extra", "port_close", "port_close:extra", "acctfield", "acctfield:int", "acctfield:neg",
		"acctfield:utf8", "acctfield:latin1", "acctfield:undef", "acctfield:numstr",
		"pause", "pause:nodir", "continue", "continue:nodir"}
	for l := imp.LogDebug; l <= imp.LogEmergency; l++ {
		words = append(words, "log:"+l.String())
	}
	if w == conn.Sereal {
		words = append(words, "acctfield:big", "acctfield:uint", "acctfield:double")
	}
	return words
}
