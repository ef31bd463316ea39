package perl_test

import (
	"fmt"

	"github.com/goimp/imprpc/perl"
)

// Meta is the context a data provider sends with new_analyzer.
type Meta struct {
	ClientAddr string `storable:"caddr"`
	ClientPort int    `storable:"cport"`
	LocalPort  string `storable:"lport"`
	App        string `storable:"app,omitempty"`
}

func ExampleFromGo() {
	v, err := perl.FromGo(map[string]any{
		"meta": Meta{ClientAddr: "192.0.2.10", ClientPort: 40001, LocalPort: "3000"},
	}, perl.GoOptions{TagKey: "storable"})
	if err != nil {
		panic(err)
	}
	meta, _ := v.(*perl.Hash).Get("meta")
	for _, e := range meta.(perl.Ref).To.(*perl.Hash).Entries {
		fmt.Printf("%s => %s\n", e.Key, perl.Describe(e.Value))
	}
	// Output:
	// caddr => bytes "192.0.2.10"
	// cport => int 40001
	// lport => bytes "3000"
}

func ExampleToGo() {
	// What Storable's network order makes of {cport => 4294967296}: a
	// large integer arrives as a decimal string.
	h := perl.NewHash(2)
	h.Set("caddr", perl.Bytes("192.0.2.10"))
	h.Set("cport", perl.Bytes("40001"))
	var m Meta
	if err := perl.ToGo(h, &m, perl.GoOptions{TagKey: "storable"}); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", m)

	var small struct {
		Port uint8 `storable:"cport"`
	}
	err := perl.ToGo(h, &small, perl.GoOptions{TagKey: "storable"})
	fmt.Println(err)

	var natural any
	_ = perl.ToGo(perl.ArrayRef(perl.Int(1), perl.Bytes("x"), perl.String("\u263a")), &natural, perl.GoOptions{})
	fmt.Printf("%#v\n", natural)
	// Output:
	// {ClientAddr:192.0.2.10 ClientPort:40001 LocalPort: App:}
	// perl: $.cport: bytes "40001" overflows in Go uint8
	// []interface {}{1, []uint8{0x78}, "☺"}
}

func ExampleDiff() {
	a := perl.NewArray(perl.Int(1), perl.ScalarRef(perl.Float(2)))
	b := perl.NewArray(perl.Int(1), perl.ScalarRef(perl.Int(2)))
	fmt.Println(perl.Diff(a, b))
	// Output:
	// $[1].$ref: float 2 != int 2
}
