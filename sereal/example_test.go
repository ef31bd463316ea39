package sereal_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/goimp/imprpc/perl"
	"github.com/goimp/imprpc/sereal"
)

func ExampleMarshal() {
	// A data RPC of Net::IMP::Remote: [op, analyzer id, dir, offset, type, data].
	rpc := perl.ArrayRef(perl.Int(0x4005), perl.Int(1), perl.Int(0), perl.Int(0), perl.Int(-1), perl.Bytes("hi"))
	doc, err := sereal.Marshal(rpc)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", doc)
	// Output: 3df3726c030046208580010100001f626869
}

func ExampleUnmarshal() {
	// What Perl's Sereal::Encoder->new->encode([1, "caf\x{e9}", \"x"]) writes.
	doc := []byte("=\xf3rl\x05\x00\x43\x01\x27\x05caf\xc3\xa9\x28\x61x")
	var v perl.Value
	if err := sereal.Unmarshal(doc, &v); err != nil {
		panic(err)
	}
	elems := v.(perl.Ref).To.(*perl.Array).Elems
	fmt.Printf("%T %v\n", elems[0], elems[0])
	fmt.Printf("%T %v\n", elems[1], elems[1])
	fmt.Printf("%T to %q\n", elems[2], elems[2].(perl.Ref).To.(*perl.Scalar).Value)
	// Output:
	// perl.Int 1
	// perl.String café
	// perl.Ref to "x"
}

func ExampleNewDecoder() {
	// Two documents back to back, as a Perl peer sends them.
	stream := []byte("=\xf3rl\x05\x00\x41\x01=\xf3rl\x05\x00\x41\x02")
	dec := sereal.NewDecoder(bytes.NewReader(stream))
	for {
		var v perl.Value
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Println(v.(perl.Ref).To.(*perl.Array).Elems[0])
	}
	// Output:
	// 1
	// 2
}

func ExampleDocumentLength() {
	buf := []byte("=\xf3rl\x05\x00\x42\x01")
	_, err := sereal.DocumentLength(buf)
	fmt.Println(err)
	buf = append(buf, 0x02, 0xff)
	n, err := sereal.DocumentLength(buf)
	fmt.Println(n, err)
	// Output:
	// sereal: incomplete document
	// 9 <nil>
}

func ExampleEncOptions() {
	// Byte-identical with Perl's Sereal::Encoder 5.x defaults.
	em, err := sereal.EncOptions{Protocol: 5}.EncMode()
	if err != nil {
		panic(err)
	}
	buf := make([]byte, 0, 64)
	buf, err = em.AppendArrayRef(buf, perl.Int(0x4006), perl.Int(1)) // set_version(1)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", buf)
	// Output: 3df3726c0500422086800101
}

func ExampleUnmarshal_struct() {
	// A new_analyzer context as Net::IMP::Remote's client sends it.
	type meta struct {
		Caddr string `sereal:"caddr"`
		Cport int    `sereal:"cport"`
	}
	type context struct {
		Meta meta `sereal:"meta"`
	}
	doc, err := sereal.Marshal(context{Meta: meta{Caddr: "192.0.2.10", Cport: 40001}})
	if err != nil {
		panic(err)
	}
	var c context
	if err := sereal.Unmarshal(doc, &c); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", c)
	// Output: {Meta:{Caddr:192.0.2.10 Cport:40001}}
}
