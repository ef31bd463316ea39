package imp

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"testing"
)

// httpSuite defines Net::IMP::HTTP 0.52's data types as it does with
// IMP_DATA('http', ...) and IMP_DATA('httprq[http+10]', ...), 80 being
// getservbyname('http').
func httpSuite(t testing.TB) (http, httprq []DataType) {
	t.Helper()
	http, err := DefineDataTypes("http", 80<<16,
		DataTypeDef{"header", +1}, DataTypeDef{"body", -2}, DataTypeDef{"chkhdr", +3},
		DataTypeDef{"chktrailer", +4}, DataTypeDef{"data", -5}, DataTypeDef{"junk", -6})
	if err != nil {
		t.Fatal(err)
	}
	httprq, err = DefineDataTypes("httprq", int64(http[0])+10,
		DataTypeDef{"header", +1}, DataTypeDef{"content", -2}, DataTypeDef{"data", -3})
	if err != nil {
		t.Fatal(err)
	}
	return http, httprq
}

func TestConstantsMatchPerl(t *testing.T) {
	httpSuite(t)
	a := askPerl(t, []map[string]any{{"op": "constants"}})[0]
	num := func(v any) int64 {
		n, err := v.(json.Number).Int64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	results := a["result"].(map[string]any)
	if len(results) != len(ResultTypes()) {
		t.Errorf("Perl has %d result types, we %d", len(results), len(ResultTypes()))
	}
	for name, v := range results {
		rt, err := ParseResultType(name)
		if err != nil || int64(rt) != num(v) || rt.String() != name {
			t.Errorf("result type %s = %v in Perl; ParseResultType gives %d (%v), String %q", name, v, rt, err, rt)
		}
	}
	levels := a["log"].(map[string]any)
	for name, v := range levels {
		l, err := ParseLogLevel(name)
		if err != nil || int64(l) != num(v) || l.String() != name {
			t.Errorf("log level %s = %v in Perl; ParseLogLevel gives %d (%v)", name, v, l, err)
		}
	}
	if len(levels) != 8 {
		t.Errorf("Perl has %d log levels", len(levels))
	}
	data := a["data"].(map[string]any)
	for name, v := range data {
		dt, err := ParseDataType(name)
		if err != nil || int64(dt) != num(v) || dt.String() != name {
			t.Errorf("data type %s = %v in Perl; ParseDataType gives %d (%v), String %q", name, v, dt, err, dt)
		}
	}
	if got := len(DataTypes()); got < len(data) {
		t.Errorf("DataTypes has %d types, Perl %d", got, len(data))
	}
	if num(a["maxoffset"]) != MaxOffset {
		t.Errorf("IMP_MAXOFFSET = %v", a["maxoffset"])
	}
}

func TestStringParseRoundTrip(t *testing.T) {
	for _, rt := range append(ResultTypes(), 0, 0x9999, -3) {
		s := rt.String()
		back, err := ParseResultType(s)
		if err != nil || back != rt {
			t.Errorf("ParseResultType(%q) = %v, %v; want %d", s, back, err, rt)
		}
		if rt.Known() != (s[0] < '0' || s[0] > '9') && rt >= 0 {
			t.Errorf("%d: Known %v but String %q", rt, rt.Known(), s)
		}
	}
	for l := LogLevel(-1); l <= 10; l++ {
		back, err := ParseLogLevel(l.String())
		if err != nil || back != l {
			t.Errorf("ParseLogLevel(%q) = %v, %v", l.String(), back, err)
		}
	}
	for _, dt := range []DataType{DataStream, DataPacket, 0, -2, 12345678, -9223372036854775808} {
		back, err := ParseDataType(dt.String())
		if err != nil || back != dt {
			t.Errorf("ParseDataType(%q) = %v, %v", dt.String(), back, err)
		}
	}
	for _, c := range []struct {
		s    string
		want DataType
	}{{"stream", DataStream}, {"imp.data.packet", DataPacket}, {"-7", -7}} {
		if got, err := ParseDataType(c.s); err != nil || got != c.want {
			t.Errorf("ParseDataType(%q) = %v, %v", c.s, got, err)
		}
	}
	var pe *ParseError
	for _, err := range []error{
		func() error { _, err := ParseResultType("passs"); return err }(),
		func() error { _, err := ParseLogLevel("err"); return err }(),
		func() error { _, err := ParseDataType("imp.data.nosuch"); return err }(),
	} {
		if !errors.As(err, &pe) {
			t.Errorf("error %v is not a *ParseError", err)
		}
	}
	if got := pe.Error(); got != `imp: unknown data type "imp.data.nosuch"` {
		t.Errorf("message %q", got)
	}
}

func TestTextVar(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var dt DataType
	var rt ResultType
	var l LogLevel
	fs.TextVar(&dt, "type", DataStream, "")
	fs.TextVar(&rt, "result", ResultPass, "")
	fs.TextVar(&l, "level", LogInfo, "")
	if err := fs.Parse([]string{"-type", "packet", "-result", "replace_later", "-level", "error"}); err != nil {
		t.Fatal(err)
	}
	if dt != DataPacket || rt != ResultReplaceLater || l != LogError {
		t.Errorf("parsed %v %v %v", dt, rt, l)
	}
	if err := fs.Parse([]string{"-type", "nonsense"}); err == nil {
		t.Error("no error for -type nonsense")
	}
	b, _ := json.Marshal(map[string]any{"t": DataStream, "r": ResultDeny, "l": LogAlert})
	if string(b) != `{"l":"alert","r":"deny","t":"imp.data.stream"}` {
		t.Errorf("JSON %s", b)
	}
}

func TestDefineDataTypes(t *testing.T) {
	http, httprq := httpSuite(t)
	want := []DataType{5242880, 5242881, -5242882, 5242883, 5242884, -5242885, -5242886}
	if fmt.Sprint(http) != fmt.Sprint(want) {
		t.Errorf("http suite %d, want %d", http, want)
	}
	if fmt.Sprint(httprq) != fmt.Sprint([]DataType{5242890, 5242891, -5242892, -5242893}) {
		t.Errorf("httprq suite %d", httprq)
	}
	if s := DataType(-5242882).String(); s != "imp.data.http.body" {
		t.Errorf("String %q", s)
	}
	if !DataType(-5242882).IsStream() || !DataType(5242881).IsPacket() || DataType(0).IsStream() || DataType(0).IsPacket() {
		t.Error("IsStream/IsPacket wrong")
	}
	// Defining the same again is harmless and changes nothing.
	again, _ := httpSuite(t)
	if fmt.Sprint(again) != fmt.Sprint(http) {
		t.Errorf("redefinition gave %d", again)
	}
	n := len(DataTypes())

	for _, c := range []struct {
		name string
		base int64
		defs []DataTypeDef
		msg  string
	}{
		{"x1", 5242881, nil, "imp: data type x1: id 5242881 already used for http.header"},
		{"x2", 5242879, []DataTypeDef{{"a", -3}}, "imp: data type x2.a: id -5242882 already used for http.body"},
		{"http", 7, nil, "imp: data type http: already defined"},
		{"x3", 7, []DataTypeDef{{"a", 0}}, "imp: data type x3.a: id 7 already used for x3"},
		{"x4", 1, nil, "imp: data type x4: id 1 already used for packet"},
		{"stream", 99, nil, "imp: data type stream: already defined"},
		{"x5", -1, nil, "imp: data type x5: base -1 is negative"},
		{"", 5, nil, "imp: data type: suite needs a name"},
		{"x6", 5, []DataTypeDef{{"", 1}}, "imp: data type x6: member needs a name"},
		{"x7", 5, []DataTypeDef{{"a", 1}, {"a", 2}}, "imp: data type x7.a: given twice"},
		{"x8", 1 << 62, []DataTypeDef{{"a", 1 << 62}}, "imp: data type x8.a: number out of range"},
		{"http", 80 << 16, []DataTypeDef{{"header", 1}, {"new", 9}}, "imp: data type http: partly defined already with other members"},
	} {
		_, err := DefineDataTypes(c.name, c.base, c.defs...)
		var de *DataTypeError
		if !errors.As(err, &de) || err.Error() != c.msg {
			t.Errorf("DefineDataTypes(%q, %d, %v) = %v, want %q", c.name, c.base, c.defs, err, c.msg)
		}
	}
	if len(DataTypes()) != n {
		t.Errorf("failed definitions changed the table: %d types, had %d", len(DataTypes()), n)
	}
	if _, err := ParseDataType("x7"); err == nil {
		t.Error("failed definition of x7 left a name behind")
	}
}

func TestDataTypesConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := DefineDataTypes(fmt.Sprintf("conc%d", i), int64(1000+i)<<16, DataTypeDef{"a", -1}); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			for range 100 {
				_ = DataType(-5242882).String()
				_, _ = ParseDataType("imp.data.conc1")
			}
		}()
	}
	wg.Wait()
	if s := DataType(-(1001<<16 + 1)).String(); s != "imp.data.conc1.a" {
		t.Errorf("String %q", s)
	}
}

func TestDirAndFinal(t *testing.T) {
	if FromClient.Other() != FromServer || FromServer.Other() != FromClient || Dir(2).Valid() || !FromServer.Valid() {
		t.Error("Dir methods wrong")
	}
	var final []ResultType
	for _, rt := range ResultTypes() {
		if rt.Final() {
			final = append(final, rt)
		}
	}
	if fmt.Sprint(final) != "[deny drop fatal]" {
		t.Errorf("final types %v", final)
	}
}
