package taggedjson_test

import (
	"fmt"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/perl/taggedjson"
)

func ExampleMarshal() {
	// The arguments of an IMP "data" RPC: [analyzer id, dir, offset, type, data].
	args := perl.NewArray(perl.Int(1), perl.Int(0), perl.Undef{}, perl.Int(-1), perl.Bytes("caf\xe9"))
	text, err := taggedjson.Marshal(args)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(text))

	// Doubles keep a '.', references to scalars and blessed values are tagged.
	obj := &perl.Hash{Class: "Counter", Entries: []perl.HashEntry{
		{Key: "ratio", Value: perl.Float(1)},
		{Key: "name", Value: perl.ScalarRef(perl.String("\u263a"))},
	}}
	text, _ = taggedjson.Marshal(obj)
	fmt.Println(string(text))
	// Output:
	// [1,0,null,-1,"caf\u00e9"]
	// {"$bless":"Counter","$value":{"name":{"$ref":"\u263a"},"ratio":1.0}}
}

func ExampleUnmarshal() {
	v, err := taggedjson.Unmarshal([]byte(`[18446744073709551615, 2.0, "\u263a", "\u00e9", {"$ref": [1]}]`))
	if err != nil {
		panic(err)
	}
	for _, e := range v.(*perl.Array).Elems {
		fmt.Println(perl.Describe(e))
	}
	// Output:
	// uint 18446744073709551615
	// float 2
	// string "☺"
	// bytes "\xe9"
	// reference to scalar holding reference to array of 1 elements
}

func ExampleDiff() {
	perlSays := []byte(`{"meta":{"cport":40001,"lport":"3000"},"ratio":3}`)
	goSays := []byte(`{"ratio":3.0,"meta":{"lport":3000,"cport":40001}}`)
	diff, err := taggedjson.Diff(perlSays, goSays)
	if err != nil {
		panic(err)
	}
	fmt.Println(diff)
	// Output:
	// $.meta.lport: "3000" != 3000 (string vs number)
}
