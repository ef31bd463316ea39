package conn

import (
	"strings"
	"testing"

	"github.com/goimp/imprpc/imp"
)

// ParseJSON reads names and integers in the places of dualvars, and says
// what is wrong with a line that is no message.
func TestParseJSON(t *testing.T) {
	good := []struct{ in, out string }{
		{`["data",1,0,null,-1,"x"]`, `["data",1,0,null,"imp.data.stream","x"]`},
		{`[16389,1,0,0,"imp.data.packet","x"]`, `["data",1,0,0,"imp.data.packet","x"]`},
		{`["result",1,4097,0,-1]`, `["result",1,"pass",0,-1]`},
		{`["result",1,"log",0,0,1,"warning","x","k","v"]`, `["result",1,"log",0,0,1,"warning","x","k","v"]`},
		{`["result",1,"pass_pattern",0,{"$regexp":"a+","$flags":"i"},4]`, `["result",1,"pass_pattern",0,{"$regexp":"a+","$flags":"i"},4]`},
		{`["get_interface",["stream",["pass",4352]],[null]]`, `["get_interface",["imp.data.stream",["pass","deny"]],[null]]`},
		{`["set_interface",["imp.data.stream"]]`, `["set_interface",["imp.data.stream",[]]]`},
		{`["exception","only a message"]`, `["exception","only a message"]`},
		{`["new_analyzer",3,{"meta":{"cport":40001,"lport":"3000"}}]`, `["new_analyzer",3,{"meta":{"cport":40001,"lport":"3000"}}]`},
		{`[99,"x"]`, `[99,"x"]`},
	}
	for _, tt := range good {
		m, err := ParseJSON([]byte(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		j, err := AppendJSON(nil, m)
		if err != nil || string(j) != tt.out {
			t.Errorf("%s: printed %s (%v), want %s", tt.in, j, err, tt.out)
		}
	}
	bad := []struct{ in, msg string }{
		{`{"op":"data"}`, "want an array [op, args...]"},
		{`[]`, "want an array [op, args...]"},
		{`["frobnicate"]`, `unknown op "frobnicate"`},
		{`["data",1,0,0,"imp.data.nonsense","x"]`, `unknown data type "imp.data.nonsense"`},
		{`["result",1,"passing",0,0]`, `unknown result type "passing"`},
		{`["result",1,"log",0,0,1,"loud","x"]`, `unknown log level "loud"`},
		{`["data",1,0,0,-1]`, "conn: data: want 5 arguments, got 4"},
		{`["data","one",0,0,-1,"x"]`, `conn: data: arg 0 (analyzer_id): not an integer: bytes "one"`},
		{`["data",1,0,0,-1,["x"]]`, "arg 4 (data): not a string: reference to array"},
		{`["data",1,0,0,-1,"x"`, "taggedjson"},
	}
	for _, tt := range bad {
		if _, err := ParseJSON([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v, want %q", tt.in, err, tt.msg)
		}
	}
}

// Data types defined with imp.DefineDataTypes show by name.
func TestJSONDefinedDataTypes(t *testing.T) {
	if _, err := imp.DefineDataTypes("wiretest", 77<<16, imp.DataTypeDef{Name: "body", Offset: -2}); err != nil {
		t.Fatal(err)
	}
	j, err := AppendJSON(nil, &Data{ID: 1, Type: -(77<<16 + 2), Data: []byte("x")})
	if err != nil || string(j) != `["data",1,0,0,"imp.data.wiretest.body","x"]` {
		t.Fatalf("%s %v", j, err)
	}
	m, err := ParseJSON(j)
	if err != nil || m.(*Data).Type != -(77<<16+2) {
		t.Fatalf("%v %v", m, err)
	}
}
